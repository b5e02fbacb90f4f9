"""Notification's use cases: decide who is told what about each lifecycle event, and stage those messages as
pending deliveries in the consumer's transaction. Nothing is sent here: the dispatcher sends after commit, so a
slow or failing channel never holds up consuming, and a redelivered event finds its deliveries already there."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession

from satupintu.common.citizen_keys import ReaderKeyRing, open_applicant
from satupintu.common.clock import Clock, utc_now
from satupintu.common.consumer import RejectEvent, UnitOfWork
from satupintu.common.crypto import FieldCipher
from satupintu.common.identity import normalize_phone
from satupintu.common.sealing import is_sealed, sealed_key_id
from satupintu.contract.applications import ApplicationSlaBreached, ApplicationSubmitted
from satupintu.contract.envelope import Event
from satupintu.contract.mall import AppointmentCodeIssued, AppointmentReminderDue, ComplaintFiled
from satupintu.contract.tracecontext import current_traceparent
from satupintu.contract.verification import ProfileContactReset, VerificationCodeIssued
from satupintu.notification.config import WebhookSubscription
from satupintu.notification.domain import (
    ChannelKind,
    Contact,
    DeliveryStatus,
    Recipient,
    channel_kind,
    citizen_recipients,
    lane_of,
    message_id,
    officer_recipients,
)
from satupintu.notification.messages import (
    ESCALATION_LANGUAGE,
    Breach,
    MessageComposer,
    RenderedMessage,
    UnknownTemplate,
)
from satupintu.notification.storage.repository import DeliveryRepository
from satupintu.notification.storage.tables import ComplaintContactRecord, ContactRecord, DeliveryRecord

_logger = logging.getLogger(__name__)

CONTACT_CONTEXT = "notification.contacts:"
RECIPIENT_CONTEXT = "notification.deliveries.recipient:"
CONTENT_CONTEXT = "notification.deliveries.content:"
ESCALATION_CAUSE = ":escalation"
"""Appended to a breach event's id for its escalation's messages (the citizen's message about the same event keeps
the plain id, so each has its own message id on a shared channel)."""
COMPLAINT_CONTACT_CONTEXT = "notification.complaint_contacts:"
STAGED = "notification.staged"
"""Where a batch's staged contacts and deliveries wait in :attr:`UnitOfWork.loaded` for their one write."""


@dataclass(frozen=True)
class OneTimeCodeRequest:
    """A request to deliver a one-time code (intake's once-only data feature, ``verification.code_issued``) to a
    contact on file."""

    request_id: str
    """The id of the request (its event's ``ce_id``): the message is sent once per request."""
    subject_id: str
    """What the code is about (intake's verification id); the key of the outcome events."""
    channel: ChannelKind
    address: str
    language: str
    code: str
    expires_at: datetime
    correlation_id: str | None = None
    traceparent: str | None = None
    key_id: str | None = None
    """The citizen's key the address came sealed with (erased with it)."""


@dataclass(frozen=True)
class Cause:
    """What a message is about: the event (or request) id, the subject (key of the outcome events), and the
    correlation and trace its outcome events continue."""

    event_id: str
    subject_id: str
    correlation_id: str
    traceparent: str | None


@dataclass(frozen=True)
class PlannedMessage:
    """A message decided on, not yet staged: where it goes, which template, and what it says."""

    recipient: Recipient
    template: str
    language: str
    message: RenderedMessage


@dataclass
class Staged:
    """The contacts and deliveries the events of one batch (or one event applied alone) stage, written in one
    statement each just before the transaction commits; the first of each key wins, as in the database."""

    contacts: dict[str, ContactRecord] = field(default_factory=dict)
    deliveries: dict[tuple[str, str], DeliveryRecord] = field(default_factory=dict)

    @classmethod
    def of(cls, uow: UnitOfWork) -> Staged:
        """What ``uow``'s batch stages so far (the first to ask arranges the write before commit)."""
        staged = uow.loaded.get(STAGED)
        if staged is None:
            staged = uow.loaded[STAGED] = cls()
            uow.before_commit(STAGED, lambda: staged.write(DeliveryRepository(uow.session)))
        return cast(Staged, staged)

    async def write(self, repository: DeliveryRepository) -> None:
        """Insert the contacts and deliveries, none twice: what the database already holds (a redelivered event
        under another id, a second submission of an application) is kept, not replaced."""
        await repository.add_contacts(list(self.contacts.values()))
        added = await repository.add_deliveries(list(self.deliveries.values()))
        for key in self.deliveries.keys() - added:
            _logger.info("message about %s on %s already staged", *key)


class NotificationService:
    """Stages the messages each lifecycle event calls for: to the applicant on their channels, to webhook
    subscribers; and one-time codes on request."""

    def __init__(
        self,
        composer: MessageComposer,
        cipher: FieldCipher,
        *,
        channels: frozenset[ChannelKind],
        webhooks: Sequence[WebhookSubscription] = (),
        console_fallback: bool = True,
        keys: ReaderKeyRing | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._keys = keys
        self._composer = composer
        self._cipher = cipher
        self._channels = channels
        self._webhooks = tuple(webhooks)
        self._console_fallback = console_fallback
        self._clock = clock

    async def on_lifecycle_event(self, uow: UnitOfWork, event: Event[Any]) -> None:
        """Stage what the applicant and the webhook subscribers are told about ``event``."""
        staged = Staged.of(uow)
        application_id: str = event.payload.application_id
        contact: Contact | None
        key_id: str | None = None
        if isinstance(event.payload, ApplicationSubmitted):
            submitted = event.payload
            key_id = sealed_key_id(submitted.applicant.nik) if is_sealed(submitted.applicant.nik) else None
            applicant = await open_applicant(self._keys, submitted.applicant, subject=application_id)
            contact = Contact.of_applicant(applicant, submitted.tracking_code, submitted.service_code)
            staged.contacts.setdefault(application_id, self._contact_record(application_id, contact, key_id))
        else:
            contact, key_id = await self._contact(DeliveryRepository(uow.session), staged, application_id)
        planned: list[PlannedMessage] = []
        if contact is None:
            _logger.warning(
                "no contact details kept for %s; its applicant is not told of %s", application_id, event.type
            )
        else:
            template, message = self._composer.lifecycle_message(event, contact)
            recipients = citizen_recipients(contact, self._channels, self._console_fallback)
            planned += [PlannedMessage(recipient, template, contact.language, message) for recipient in recipients]
        planned += self._webhook_messages(event, contact.language if contact else "id")
        cause = Cause(
            event.id, application_id, event.correlation_id or event.id, current_traceparent() or event.traceparent
        )
        self._stage(staged, cause, planned, key_id)

    async def on_application_sla_breached(self, uow: UnitOfWork, event: Event[ApplicationSlaBreached]) -> None:
        """An application is late: the applicant is told (with an apology and a new date), and so is the
        escalation target the breach names."""
        await self.on_lifecycle_event(uow, event)
        await self.on_breach(uow, event)

    async def on_breach(self, uow: UnitOfWork, event: Event[Any]) -> None:
        """Stage the escalation of a service-standard breach (an application's, a task's or a complaint's) to
        where the catalogue says its agency's escalation target is reached; once per breach event."""
        breach: Breach = event.payload
        agency = self._composer.escalated_agency(breach)
        if agency is None:
            _logger.warning(
                "no agency has escalation target %r; the breach %s (%s) is not escalated",
                breach.escalation_target,
                event.id,
                event.type,
            )
            return
        template, message = self._composer.escalation_message(breach, agency)
        contact = agency.escalation_contact
        recipients = officer_recipients(contact.email, contact.phone, self._channels, self._console_fallback)
        cause = Cause(
            event.id + ESCALATION_CAUSE,
            event.subject,
            event.correlation_id or event.id,
            current_traceparent() or event.traceparent,
        )
        planned = [PlannedMessage(recipient, template, ESCALATION_LANGUAGE, message) for recipient in recipients]
        self._stage(Staged.of(uow), cause, planned, key_id=None)

    async def on_complaint_event(self, uow: UnitOfWork, event: Event[Any]) -> None:
        """Tell the complainant, on the contact they filed with (if any) and in their language, of their complaint's
        receipt (``complaint.filed``, which also keeps that contact), a status change or the answer; each once."""
        repository = DeliveryRepository(uow.session)
        payload = event.payload
        complaint_id: str = payload.complaint_id
        if isinstance(payload, ComplaintFiled):
            if payload.contact is None:
                return  # an anonymous complaint: nobody to tell
            contact = ComplaintContactRecord(
                complaint_id=complaint_id,
                reference=payload.reference,
                agency=payload.agency,
                language=payload.language,
                contact_ciphertext=self._cipher.encrypt(payload.contact, COMPLAINT_CONTACT_CONTEXT + complaint_id),
                created_at=self._clock(),
            )
            await repository.add_complaint_contact(contact)
        kept = await repository.complaint_contact(complaint_id)
        if kept is None:
            _logger.info("complaint %s left no contact; its complainant is not told of %s", complaint_id, event.type)
            return
        address = self._cipher.decrypt(kept.contact_ciphertext, COMPLAINT_CONTACT_CONTEXT + complaint_id)
        channel = ChannelKind.EMAIL if "@" in address else ChannelKind.SMS
        if channel not in self._channels and not self._console_fallback:
            _logger.warning(
                "no %s channel: the complainant of %s is not told of %s", channel, kept.reference, event.type
            )
            return
        try:
            template, message = self._composer.complaint_message(
                payload, reference=kept.reference, agency=kept.agency, language=kept.language
            )
        except UnknownTemplate as unknown:
            raise RejectEvent(str(unknown)) from unknown
        cause = Cause(
            event.id, complaint_id, event.correlation_id or event.id, current_traceparent() or event.traceparent
        )
        await self._stage_to(uow, cause, channel, address, language=kept.language, template=template, message=message)

    async def on_verification_code_issued(self, uow: UnitOfWork, event: Event[Any]) -> None:
        """Stage the message carrying intake's one-time code to the contact on file (``verification.code_issued``)."""
        issued: VerificationCodeIssued = event.payload
        await self.deliver_one_time_code(
            uow,
            OneTimeCodeRequest(
                request_id=event.id,
                subject_id=issued.verification_id,
                channel=ChannelKind(issued.channel),
                address=await self._opened(issued.recipient, issued.verification_id, "recipient"),
                language=issued.language,
                code=await self._opened(issued.code, issued.verification_id, "code"),
                expires_at=issued.expires_at,
                correlation_id=event.correlation_id,
                traceparent=current_traceparent() or event.traceparent,
                key_id=sealed_key_id(issued.recipient) if is_sealed(issued.recipient) else None,
            ),
        )

    async def on_appointment_code_issued(self, uow: UnitOfWork, event: Event[Any]) -> None:
        """Stage the message carrying the one-time code that confirms a booking at the mall, to the contact the
        citizen booked with (``appointment.code_issued``)."""
        issued: AppointmentCodeIssued = event.payload
        await self.deliver_one_time_code(
            uow,
            OneTimeCodeRequest(
                request_id=event.id,
                subject_id=issued.appointment_id,
                channel=ChannelKind(issued.channel),
                address=issued.recipient,
                language=issued.language,
                code=issued.code,
                expires_at=issued.expires_at,
                correlation_id=event.correlation_id,
                traceparent=current_traceparent() or event.traceparent,
            ),
        )

    async def on_appointment_reminder_due(self, uow: UnitOfWork, event: Event[Any]) -> None:
        """Remind the citizen of their booked visit, on the contact they booked with and in their language
        (``appointment.reminder_due``), once."""
        due: AppointmentReminderDue = event.payload
        try:
            template, message = self._composer.appointment_reminder_message(
                due.language,
                booking_code=due.booking_code,
                service_code=due.service_code,
                agency=due.agency,
                starts_at=due.starts_at,
            )
        except UnknownTemplate as unknown:
            raise RejectEvent(str(unknown)) from unknown
        cause = Cause(
            event.id, due.appointment_id, event.correlation_id or event.id, current_traceparent() or event.traceparent
        )
        await self._stage_to(
            uow,
            cause,
            ChannelKind(due.channel),
            due.recipient,
            language=due.language,
            template=template,
            message=message,
        )

    async def _opened(self, value: str, subject: str, field: str) -> str:
        return str(await self._keys.open(value, subject=subject, field=field)) if self._keys else value

    async def deliver_one_time_code(self, uow: UnitOfWork, request: OneTimeCodeRequest) -> str:
        """Stage the message carrying ``request``'s code; its message id. The same request twice is sent once."""
        try:
            template, message = self._composer.one_time_code_message(
                request.language, request.code, request.expires_at, self._clock()
            )
        except UnknownTemplate as unknown:
            raise RejectEvent(str(unknown)) from unknown
        cause = Cause(
            request.request_id,
            request.subject_id,
            request.correlation_id or request.request_id,
            request.traceparent or current_traceparent(),
        )
        return await self._stage_to(
            uow,
            cause,
            request.channel,
            request.address,
            language=request.language,
            template=template,
            message=message,
            key_id=request.key_id,
        )

    async def on_contact_reset(self, uow: UnitOfWork, event: Event[Any]) -> None:
        """Tell the contact that was on file and the new one that a counter clerk reset the profile's contact
        (``profile.contact_reset``): each its own message, each sent once."""
        reset: ProfileContactReset = event.payload
        told = (("old", reset.old_channel, reset.old_recipient), ("new", reset.new_channel, reset.new_recipient))
        for role, channel, address in told:
            if channel is None or address is None:
                continue
            try:
                template, message = self._composer.contact_reset_message(
                    reset.language, old=role == "old", reset_at=reset.reset_at
                )
            except UnknownTemplate as unknown:
                raise RejectEvent(str(unknown)) from unknown
            cause = Cause(
                f"{event.id}:{role}",  # two messages of one event, perhaps on one channel: each its own id
                reset.reset_id,
                event.correlation_id or event.id,
                current_traceparent() or event.traceparent,
            )
            await self._stage_to(
                uow,
                cause,
                ChannelKind(channel),
                await self._opened(address, reset.reset_id, f"{role}_recipient"),
                language=reset.language,
                template=template,
                message=message,
                key_id=sealed_key_id(address) if is_sealed(address) else None,
            )

    async def _stage_to(
        self,
        uow: UnitOfWork,
        cause: Cause,
        channel: ChannelKind,
        address: str,
        *,
        language: str,
        template: str,
        message: RenderedMessage,
        key_id: str | None = None,
    ) -> str:
        """Stage one message to one address of the citizen (e-mail or SMS; the console when that channel is not
        configured and the fallback is on); its message id."""
        if channel not in {ChannelKind.EMAIL, ChannelKind.SMS}:
            raise RejectEvent(f"a message to a contact goes by email or sms, not {channel}")
        normalized = normalize_phone(address) if channel is ChannelKind.SMS else address
        recipient = Recipient(channel.value, normalized)
        if channel not in self._channels:
            if not self._console_fallback:
                raise RejectEvent(f"the {channel} channel is not configured")
            recipient = Recipient(ChannelKind.CONSOLE.value, recipient.masked)
        self._stage(Staged.of(uow), cause, [PlannedMessage(recipient, template, language, message)], key_id)
        return message_id(cause.event_id, recipient.channel)

    def _webhook_messages(self, event: Event[Any], language: str) -> list[PlannedMessage]:
        subscribers = [s for s in self._webhooks if not s.event_types or event.type in s.event_types]
        if not subscribers:
            return []
        payload = event.payload
        planned = []
        for subscriber in subscribers:
            channel = f"{ChannelKind.WEBHOOK.value}:{subscriber.name}"
            body = {
                "id": message_id(event.id, channel),
                "event_id": event.id,
                "type": event.type,
                "time": event.time.isoformat(),
                "application_id": event.subject,
                "data": payload.model_dump(mode="json", exclude=set(payload.personal_fields())),
            }
            message = RenderedMessage(subject=event.type, body=json.dumps(body, ensure_ascii=False))
            planned.append(PlannedMessage(Recipient(channel, subscriber.name), event.type, language, message))
        return planned

    def _stage(self, staged: Staged, cause: Cause, planned: Sequence[PlannedMessage], key_id: str | None) -> None:
        now = self._clock()
        for item in planned:
            channel = item.recipient.channel
            stable_id = message_id(cause.event_id, channel)
            staged.deliveries.setdefault(
                (cause.event_id, channel),
                DeliveryRecord(
                    cause_event_id=cause.event_id,
                    channel=channel,
                    kind=channel_kind(channel).value,
                    message_id=stable_id,
                    application_id=cause.subject_id,
                    template=item.template,
                    language=item.language,
                    recipient_ciphertext=self._cipher.encrypt(item.recipient.address, RECIPIENT_CONTEXT + stable_id),
                    recipient_masked=item.recipient.masked,
                    key_id=key_id if channel_kind(channel) is not ChannelKind.WEBHOOK else None,
                    content_ciphertext=self._cipher.encrypt(item.message.to_json(), CONTENT_CONTEXT + stable_id),
                    status=DeliveryStatus.PENDING.value,
                    priority=lane_of(item.template).priority,
                    next_attempt_at=now,
                    correlation_id=cause.correlation_id,
                    traceparent=cause.traceparent,
                    created_at=now,
                ),
            )

    def _contact_record(self, application_id: str, contact: Contact, key_id: str | None) -> ContactRecord:
        details = {
            "first_name": contact.first_name,
            "masked_nik": contact.masked_nik,
            "email": contact.email,
            "phone": contact.phone,
            "tracking_code": contact.tracking_code,
            "service_code": contact.service_code,
            "business": contact.business,
        }
        return ContactRecord(
            application_id=application_id,
            language=contact.language,
            key_id=key_id,
            details_ciphertext=self._cipher.encrypt(json.dumps(details), CONTACT_CONTEXT + application_id),
            created_at=self._clock(),
        )

    async def _contact(
        self, repository: DeliveryRepository, staged: Staged, application_id: str
    ) -> tuple[Contact | None, str | None]:
        """The applicant's contact kept for ``application_id`` (or staged by an earlier event of the batch) and the
        citizen key it came sealed with."""
        record = await repository.contact(application_id) or staged.contacts.get(application_id)
        if record is None:
            return None, None
        details = json.loads(self._cipher.decrypt(record.details_ciphertext, CONTACT_CONTEXT + application_id))
        return Contact(language=record.language, **details), record.key_id


async def erase_citizen(session: AsyncSession, key_id: str) -> None:
    """A citizen's key was destroyed (an erasure): forget their contacts and the addresses and contents of the
    messages to them (decision 0016), in the transaction that deletes the key."""
    contacts, deliveries = await DeliveryRepository(session).erase(key_id)
    _logger.info("key %s erased: %d contacts deleted, %d deliveries emptied", key_id, contacts, deliveries)
