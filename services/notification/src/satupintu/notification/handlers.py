"""Notification's Kafka subscriptions: the lifecycle citizens are told about, the service-standard breaches their
agencies' escalation targets are told about, the one-time codes to deliver, and the notices of a contact reset at
the counter."""

from __future__ import annotations

from satupintu.common.consumer import Handler
from satupintu.common.runtime import ServiceRuntime
from satupintu.contract.applications import ApplicationSlaBreached, ApplicationTaskSlaBreached
from satupintu.contract.base import EventPayload
from satupintu.contract.mall import (
    AppointmentCodeIssued,
    AppointmentReminderDue,
    ComplaintSlaBreached,
    SurveyInvited,
)
from satupintu.contract.topics import Topic
from satupintu.contract.verification import ProfileContactReset, VerificationCodeIssued
from satupintu.notification.messages import COMPLAINT_TEMPLATES, LIFECYCLE_TEMPLATES
from satupintu.notification.services import NotificationService

MALL_CONSUMER = "notification-mall"
"""The consumer of the mall's survey invitations, of complaints (receipt, status change, answer), and of
bookings' one-time codes and reminders."""
CODES_CONSUMER = "notification-codes"
"""The consumer of one-time codes: its own group, so a code never waits behind a backlog of lifecycle events."""


def subscribe(runtime: ServiceRuntime, notifications: NotificationService) -> None:
    """Consume the lifecycle events a citizen is told about (submitted, information requested, completed,
    rejected, SLA breached, document issued) and the breaches escalated (an application's, a task's) on
    ``applications``; survey invitations, complaint breaches, what a complainant is told, and bookings' codes
    and reminders on ``mall``; and intake's one-time codes and contact resets on ``notifications``."""
    on_applications = dict.fromkeys(LIFECYCLE_TEMPLATES, notifications.on_lifecycle_event)
    survey = on_applications.pop(SurveyInvited)
    on_applications[ApplicationSlaBreached] = notifications.on_application_sla_breached
    on_applications[ApplicationTaskSlaBreached] = notifications.on_breach
    # Lifecycle messages gather bigger batches under load; one-time codes (notifications, mall) never wait.
    runtime.consume(Topic.APPLICATIONS.name_for(), handlers=on_applications, gather=True)
    on_mall: dict[type[EventPayload], Handler] = {SurveyInvited: survey, ComplaintSlaBreached: notifications.on_breach}
    on_mall |= dict.fromkeys(COMPLAINT_TEMPLATES, notifications.on_complaint_event)
    on_mall[AppointmentCodeIssued] = notifications.on_appointment_code_issued
    on_mall[AppointmentReminderDue] = notifications.on_appointment_reminder_due
    runtime.consume(Topic.MALL.name_for(), handlers=on_mall, name=MALL_CONSUMER)
    runtime.consume(
        Topic.NOTIFICATIONS.name_for(),
        handlers={
            VerificationCodeIssued: notifications.on_verification_code_issued,
            ProfileContactReset: notifications.on_contact_reset,
        },
        name=CODES_CONSUMER,
    )
