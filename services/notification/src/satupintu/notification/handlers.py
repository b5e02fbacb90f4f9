"""Notification's Kafka subscriptions: the lifecycle citizens are told about, and the one-time codes to deliver."""

from __future__ import annotations

from satupintu.common.events.topics import Topic
from satupintu.common.events.verification import VerificationCodeIssued
from satupintu.common.runtime import ServiceRuntime
from satupintu.notification.messages import LIFECYCLE_TEMPLATES
from satupintu.notification.services import NotificationService

CODES_CONSUMER = "notification-codes"
"""The consumer of one-time codes: its own group, so a code never waits behind a backlog of lifecycle events."""


def subscribe(runtime: ServiceRuntime, notifications: NotificationService) -> None:
    """Consume the lifecycle events a citizen is told about (submitted, information requested, completed,
    rejected, SLA breached) on ``applications``, and intake's one-time codes on ``notifications``."""
    runtime.consume(
        Topic.APPLICATIONS.name_for(),
        handlers=dict.fromkeys(LIFECYCLE_TEMPLATES, notifications.on_lifecycle_event),
    )
    runtime.consume(
        Topic.NOTIFICATIONS.name_for(),
        handlers={VerificationCodeIssued: notifications.on_verification_code_issued},
        name=CODES_CONSUMER,
    )
