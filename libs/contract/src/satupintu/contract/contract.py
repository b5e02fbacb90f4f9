"""Who produces which events: the contract's producer column, as data, for documentation (AsyncAPI) and checks."""

from __future__ import annotations

from collections.abc import Mapping

from satupintu.contract.access import AccessRecorded
from satupintu.contract.applications import (
    ApplicationCancelled,
    ApplicationCompleted,
    ApplicationInformationProvided,
    ApplicationInformationRequested,
    ApplicationRejected,
    ApplicationSlaBreached,
    ApplicationStageStarted,
    ApplicationSubmitted,
    ApplicationTaskSlaBreached,
    ApplicationTaskUpdated,
)
from satupintu.contract.base import EventPayload
from satupintu.contract.documents import DocumentCollected, DocumentIssued, DocumentRevoked
from satupintu.contract.mall import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentCheckedIn,
    AppointmentCodeIssued,
    AppointmentNoShow,
    AppointmentReminderDue,
    ComplaintFiled,
    ComplaintResolved,
    ComplaintSlaBreached,
    ComplaintStatusChanged,
    ConsentGranted,
    ConsentUsed,
    ConsentWithdrawn,
    SurveyAnswered,
    SurveyInvited,
    TicketCalled,
    TicketIssued,
    TicketLinked,
    TicketNoShow,
    TicketServed,
)
from satupintu.contract.notifications import NotificationFailed, NotificationSent
from satupintu.contract.payments import (
    PaymentBilled,
    PaymentCancelled,
    PaymentConfirmed,
    PaymentExpired,
    PaymentExpiring,
)
from satupintu.contract.tasks import (
    TaskAssigned,
    TaskClaimed,
    TaskDecided,
    TaskDecisionAccepted,
    TaskDecisionRefused,
    TaskSlaBreached,
    TaskWithdrawn,
)
from satupintu.contract.verification import ProfileContactReset, VerificationCodeIssued

PRODUCED_BY: Mapping[str, tuple[type[EventPayload], ...]] = {
    "intake": (
        ApplicationSubmitted,
        ApplicationInformationProvided,
        VerificationCodeIssued,
        ProfileContactReset,
        AccessRecorded,
    ),
    "routing": (
        ApplicationStageStarted,
        ApplicationTaskUpdated,
        ApplicationInformationRequested,
        ApplicationCompleted,
        ApplicationRejected,
        ApplicationCancelled,
        ApplicationSlaBreached,
        ApplicationTaskSlaBreached,
        TaskAssigned,
        TaskWithdrawn,
        TaskSlaBreached,
        TaskDecisionAccepted,
        TaskDecisionRefused,
        AccessRecorded,
    ),
    "agency": (TaskClaimed, TaskDecided, DocumentIssued, DocumentRevoked, AccessRecorded),
    "notification": (NotificationSent, NotificationFailed, AccessRecorded),
    "audit": (AccessRecorded,),
    "mall": (
        TicketIssued,
        TicketCalled,
        TicketServed,
        TicketNoShow,
        TicketLinked,
        SurveyInvited,
        SurveyAnswered,
        ComplaintFiled,
        ComplaintStatusChanged,
        ComplaintResolved,
        ComplaintSlaBreached,
        ConsentGranted,
        ConsentWithdrawn,
        ConsentUsed,
        DocumentCollected,
        AppointmentCodeIssued,
        AppointmentBooked,
        AppointmentCancelled,
        AppointmentReminderDue,
        AppointmentCheckedIn,
        AppointmentNoShow,
        AccessRecorded,
    ),
    "payment": (PaymentBilled, PaymentConfirmed, PaymentExpiring, PaymentExpired, PaymentCancelled, AccessRecorded),
}
"""Service name → the event types it publishes (through its outbox); every service records operators' access to its
dead letters (``access.recorded``)."""
