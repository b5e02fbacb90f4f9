"""Notification's rules, without I/O: who is told on which channel, the stable id of each message, which failures
are worth retrying, and how long to wait before the next attempt."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from enum import StrEnum

from satupintu.common.identity import mask_email, mask_nik, mask_phone, normalize_phone
from satupintu.contract.applications import Applicant

MESSAGE_ID_NAMESPACE = uuid.UUID("6f1c2a57-3f7e-5d0a-9b1e-5a7e0b0c8d04")
"""The namespace of message ids: uuid5 of ``<cause event id>/<channel>`` in it."""


class ChannelKind(StrEnum):
    """How a message travels; each kind is dispatched on its own, so a slow one never holds up the others."""

    EMAIL = "email"
    SMS = "sms"
    WEBHOOK = "webhook"
    CONSOLE = "console"

    @property
    def reaches_someone(self) -> bool:
        """Whether a message on this channel reaches a person or system; the console only logs a line, so its
        messages publish no ``notification.sent``/``failed`` (nobody was told anything)."""
        return self is not ChannelKind.CONSOLE


class Lane(StrEnum):
    """A message's lane: urgent messages are claimed first and sent by their own loop and slots, so they never wait
    behind a backlog of routine ones."""

    URGENT = "urgent"
    ROUTINE = "routine"

    @property
    def priority(self) -> int:
        """The ``deliveries.priority`` of the lane: lower goes first."""
        return 0 if self is Lane.URGENT else 1


URGENT_TEMPLATES = frozenset(
    {
        "one_time_code",  # verification.code_issued and appointment.code_issued
        "application.information_requested",
        "document.issued",
        "payment.billed",
        "payment.expiring",
    }
)
"""The templates a citizen is waiting for (a code to type in, a question to answer, a document to fetch, a fee to
pay before its deadline): these go in the urgent lane; every other message (status changes, surveys, receipts,
escalations, webhooks of routine events) is routine."""


def lane_of(template: str) -> Lane:
    """The lane a message with ``template`` travels in."""
    return Lane.URGENT if template in URGENT_TEMPLATES else Lane.ROUTINE


class DeliveryStatus(StrEnum):
    """Where a message is: waiting for (another) attempt, accepted by its channel, or given up."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class AttemptOutcome(StrEnum):
    """What one attempt came to; an attempt without an outcome was cut off (its lease ran out)."""

    SENT = "sent"
    TRANSIENT_FAILURE = "transient_failure"
    PERMANENT_FAILURE = "permanent_failure"


def message_id(cause_event_id: str, channel: str) -> str:
    """The stable id of the message about ``cause_event_id`` on ``channel``: the same on every retry and replay."""
    return str(uuid.uuid5(MESSAGE_ID_NAMESPACE, f"{cause_event_id}/{channel}"))


def channel_kind(channel: str) -> ChannelKind:
    """The kind of a channel name (``webhook:<subscriber>`` is a webhook)."""
    return ChannelKind(channel.partition(":")[0])


def first_name(name: str) -> str:
    """The most of a name a message uses: its first word."""
    parts = name.split()
    return parts[0] if parts else ""


@dataclass(frozen=True)
class Contact:
    """What notification keeps of an applicant (encrypted at rest): only what its messages need."""

    first_name: str
    masked_nik: str
    email: str | None
    phone: str | None
    language: str
    tracking_code: str
    service_code: str
    business: str | None = None
    """For a business's application, the business's name: messages name it, and still go to its representative."""

    @classmethod
    def of_applicant(cls, applicant: Applicant, tracking_code: str, service_code: str) -> Contact:
        """The contact kept from an ``application.submitted`` applicant: first name and masked NIK, no more (and the
        business's name, when a representative applied for one)."""
        return cls(
            first_name=first_name(applicant.name),
            masked_nik=mask_nik(applicant.nik),
            email=applicant.email,
            phone=normalize_phone(applicant.phone) if applicant.phone else None,
            language=applicant.language,
            tracking_code=tracking_code,
            service_code=service_code,
            business=applicant.business.name if applicant.business else None,
        )


@dataclass(frozen=True)
class Recipient:
    """Where one message goes: the channel name and the address on it."""

    channel: str
    address: str

    @property
    def masked(self) -> str:
        """The address as logs, events and operators see it."""
        return mask_address(channel_kind(self.channel), self.address)


def mask_address(kind: ChannelKind, address: str) -> str:
    """An address as it may be shown: e-mail and phone masked; a webhook subscriber by name."""
    if kind is ChannelKind.EMAIL:
        return mask_email(address)
    if kind is ChannelKind.SMS:
        return mask_phone(address)
    return address


def citizen_recipients(contact: Contact, available: frozenset[ChannelKind], console_fallback: bool) -> list[Recipient]:
    """Where a citizen is told: e-mail if they gave one, SMS if they gave a phone, each if that channel is
    configured; the console when none is and ``console_fallback`` allows it."""
    recipients: list[Recipient] = []
    if contact.email and ChannelKind.EMAIL in available:
        recipients.append(Recipient(ChannelKind.EMAIL.value, contact.email))
    if contact.phone and ChannelKind.SMS in available:
        recipients.append(Recipient(ChannelKind.SMS.value, contact.phone))
    if not recipients and console_fallback:
        shown = (
            mask_email(contact.email) if contact.email else mask_phone(contact.phone) if contact.phone else "applicant"
        )
        recipients.append(Recipient(ChannelKind.CONSOLE.value, shown))
    return recipients


def officer_recipients(
    email: str | None, phone: str | None, available: frozenset[ChannelKind], console_fallback: bool
) -> list[Recipient]:
    """Where an agency's escalation target is told (the catalogue's ``escalation_contact``): e-mail and the SMS
    gateway, each when given and configured; the console when neither is and ``console_fallback`` allows it."""
    recipients: list[Recipient] = []
    if email and ChannelKind.EMAIL in available:
        recipients.append(Recipient(ChannelKind.EMAIL.value, email))
    if phone and ChannelKind.SMS in available:
        recipients.append(Recipient(ChannelKind.SMS.value, normalize_phone(phone)))
    if not recipients and console_fallback:
        shown = mask_email(email) if email else mask_phone(phone) if phone else "escalation target"
        recipients.append(Recipient(ChannelKind.CONSOLE.value, shown))
    return recipients


class DeliveryFailed(Exception):
    """A channel did not accept a message; ``transient`` says whether trying again may help."""

    def __init__(self, reason: str, *, transient: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient
        self.retry_after = retry_after


def http_status_is_transient(status: int) -> bool:
    """Whether an HTTP error status is worth retrying: timeouts, throttling and server errors are; other 4xx not."""
    return status in {408, 425, 429} or status >= 500


def smtp_code_is_transient(code: int) -> bool:
    """Whether an SMTP reply code is worth retrying: 4xx is a temporary failure, 5xx a permanent one."""
    return 400 <= code < 500


@dataclass(frozen=True)
class RetryPolicy:
    """The retry budget of a message and the exponential backoff, with jitter, between its attempts."""

    max_attempts: int = 6
    initial_delay: float = 5.0
    max_delay: float = 900.0

    def backoff(self, attempt: int, retry_after: float | None = None, jitter: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (from 1): ``initial * 2^(attempt-1)`` capped,
        scaled by a jitter in [0.5, 1) so retries of many messages spread out; never less than the channel's
        ``Retry-After``, when it said one (still capped)."""
        base = min(self.max_delay, self.initial_delay * 2.0 ** (attempt - 1))
        factor = jitter if jitter is not None else 0.5 + random.random() / 2  # noqa: S311 (jitter, not security)
        delay = base * factor
        if retry_after is not None:
            delay = max(delay, retry_after)
        return min(delay, self.max_delay)

    def gives_up(self, attempt: int, failure: DeliveryFailed) -> bool:
        """Whether a message whose attempt number ``attempt`` failed with ``failure`` is given up."""
        return not failure.transient or attempt >= self.max_attempts
