"""Payment's use cases: bill an application whose service has a fee (``application.submitted``), withdraw an open
bill when its application ends without it (``application.rejected``, ``application.cancelled``), the expiry
watch that reminds before a bill expires and expires it, the confirmations of payments from where money moves (a
gateway's verified callback, a clerk at the counter) and the day's reconciliation.

Asking a billing system for a code may be a network call (SIMPONI, the region's system): it is made by
:meth:`BillingService.prepare` *before* the consumer opens its transaction (:class:`PreparingConsumer` in
``handlers``), for a bill id derived from the application id, so a retry asks for the same bill and gets the same
code; the handler then writes the bill and ``payment.billed`` in the consumer's transaction.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.access_log import AccessLog
from satupintu.common.auth import Principal
from satupintu.common.catalogue import Catalogue
from satupintu.common.clock import Clock, utc_now
from satupintu.common.consumer import UnitOfWork
from satupintu.common.outbox import Outbox
from satupintu.common.watches import Watch
from satupintu.contract.applications import ApplicationCancelled, ApplicationRejected, ApplicationSubmitted
from satupintu.contract.envelope import Event, event_source
from satupintu.contract.payments import (
    PaymentBilled,
    PaymentCancelled,
    PaymentChannel,
    PaymentConfirmed,
    PaymentExpired,
    PaymentExpiring,
)
from satupintu.payment import qris
from satupintu.payment.billing import BillingSettings, BillRequest, provider_for
from satupintu.payment.domain import (
    AmountMismatch,
    BillNotFound,
    BillNotOpen,
    BillStatus,
    ConfirmationOutcome,
    ReceiptUsed,
    UnmatchedReason,
    bill_id_for,
    day_window,
    expiry_of,
    mismatch,
)
from satupintu.payment.storage.repository import BillRepository, ConfirmationRepository, Tally
from satupintu.payment.storage.tables import BillRecord, ConfirmationRecord

SOURCE = event_source("payment")
ACTOR = "service:payment"
_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PreparedBill:
    """A bill's code, fetched before the transaction that keeps the bill."""

    bill_id: str
    billing_code: str
    billed_at: datetime
    expires_at: datetime


@dataclass
class BillingService:
    """Bills applications and withdraws their bills, inside the consumer's unit of work."""

    catalogue: Catalogue
    billing: BillingSettings
    merchant: qris.Merchant
    clock: Clock = utc_now
    billed: Counter | None = None
    """Counts the bills issued, by agency and kind."""
    _prepared: dict[str, PreparedBill] = field(default_factory=dict, init=False)

    def _request(self, submitted: ApplicationSubmitted, billed_at: datetime) -> BillRequest | None:
        service = self.catalogue.service(submitted.service_code)
        if service is None or service.fee is None:
            return None
        fee = service.fee
        return BillRequest(
            bill_id=bill_id_for(submitted.application_id, service.code),
            agency=fee.agency or service.agency,
            service_code=service.code,
            kind=fee.kind,
            amount=int(fee.amount),
            expires_at=expiry_of(billed_at, fee.expiry_days),
        )

    async def prepare(self, event: Event[Any]) -> None:
        """Ask the billing system for the code of ``event``'s bill, when it is a submission of a service with a
        fee; outside any transaction (the answer waits for the handler)."""
        if not isinstance(event.payload, ApplicationSubmitted):
            return
        submitted = event.payload
        if bill_id_for(submitted.application_id, submitted.service_code) in self._prepared:
            return
        prepared = await self._billed_now(submitted)
        if prepared is not None:
            self._prepared[prepared.bill_id] = prepared

    async def _billed_now(self, submitted: ApplicationSubmitted) -> PreparedBill | None:
        """The billing system's code for ``submitted``'s bill, billed now (none: its service has no fee)."""
        billed_at = self.clock()
        request = self._request(submitted, billed_at)
        if request is None:
            return None
        code = await provider_for(request.kind, self.billing).billing_code(request)
        return PreparedBill(request.bill_id, code, billed_at, request.expires_at)

    def forget(self, event: Event[Any]) -> None:
        """Drop what :meth:`prepare` kept for ``event`` (its handler ran, or it was a redelivery the inbox skipped)."""
        if isinstance(event.payload, ApplicationSubmitted):
            self._prepared.pop(bill_id_for(event.payload.application_id, event.payload.service_code), None)

    async def on_submitted(self, uow: UnitOfWork, event: Event[ApplicationSubmitted]) -> None:
        """Bill the application when its service has a fee: the bill and ``payment.billed``, once per application."""
        submitted = event.payload
        service = self.catalogue.service(submitted.service_code)
        if service is None or service.fee is None:
            return
        bill_id = bill_id_for(submitted.application_id, service.code)
        prepared = self._prepared.pop(bill_id, None)
        if prepared is None:  # a parked event retried: nothing prepared it (the simulators answer at once)
            prepared = await self._billed_now(submitted)
            assert prepared is not None  # the service has a fee, checked above
        fee = service.fee
        stage = service.payment_stage()
        bill = BillRecord(
            bill_id=bill_id,
            application_id=submitted.application_id,
            service_code=service.code,
            agency=fee.agency or service.agency,
            kind=fee.kind,
            amount=int(fee.amount),
            billing_code=prepared.billing_code,
            qris_payload=qris.dynamic_payload(self.merchant, int(fee.amount), prepared.billing_code),
            pay_before_stage=stage if stage is not None else 0,
            status=BillStatus.OPEN,
            billed_at=prepared.billed_at,
            expires_at=prepared.expires_at,
            correlation_id=event.correlation_id or event.id,
        )
        if not await BillRepository(uow.session).add(bill):
            _logger.info("application %s already has its bill %s", submitted.application_id, bill_id)
            return
        await uow.emit(
            event.caused(
                PaymentBilled(
                    application_id=bill.application_id,
                    bill_id=bill.bill_id,
                    billing_code=bill.billing_code,
                    service_code=bill.service_code,
                    agency=bill.agency,
                    kind=fee.kind,
                    amount=bill.amount,
                    qris=bill.qris_payload,
                    pay_before_stage=bill.pay_before_stage,
                    expires_at=bill.expires_at,
                    billed_at=bill.billed_at,
                ),
                source=SOURCE,
                actor=ACTOR,
            )
        )
        if self.billed is not None:
            self.billed.labels(bill.agency, bill.kind).inc()

    async def on_application_ended(
        self, uow: UnitOfWork, event: Event[ApplicationRejected] | Event[ApplicationCancelled]
    ) -> None:
        """Withdraw the application's open bill (``payment.cancelled``): nothing is owed once it was rejected or
        cancelled. A paid, expired or already cancelled bill stays as it is."""
        reason: Literal["application_rejected", "application_cancelled"] = (
            "application_rejected" if isinstance(event.payload, ApplicationRejected) else "application_cancelled"
        )
        bill = await BillRepository(uow.session).of_application(event.payload.application_id, for_update=True)
        if bill is None or bill.status != BillStatus.OPEN:
            return
        now = self.clock()
        bill.status = BillStatus.CANCELLED
        bill.settled_at = now
        uow.session.add(bill)
        await uow.emit(
            event.caused(
                PaymentCancelled(
                    application_id=bill.application_id,
                    bill_id=bill.bill_id,
                    billing_code=bill.billing_code,
                    reason=reason,
                    cancelled_at=now,
                ),
                source=SOURCE,
                actor=ACTOR,
            )
        )


@dataclass
class ExpiryWatch(Watch):
    """Publishes ``payment.expiring`` once per open bill within ``lead`` of its expiry, and ``payment.expired`` once
    per open bill past it (marking it expired). Safe with several replicas: rows are claimed with SKIP LOCKED and
    marked in the same transaction as their events."""

    what = "bill expiry check"
    lead: timedelta = timedelta(hours=24)
    outcomes: Counter | None = None
    """Counts the reminders and expiries published, by agency."""

    async def check_once(self) -> int:
        """Remind of and expire what is due now; how many events were published."""
        now = self.clock()
        published = 0
        async with self.sessions() as session, session.begin():
            repository = BillRepository(session)
            for bill in await repository.due_expiries(now, self.batch_size):
                bill.status = BillStatus.EXPIRED
                bill.settled_at = now
                session.add(bill)
                expired = PaymentExpired(
                    application_id=bill.application_id,
                    bill_id=bill.bill_id,
                    billing_code=bill.billing_code,
                    expired_at=now,
                )
                await self.outbox.add(session, self._event(expired, bill))
                published += 1
                self._count("expired", bill)
            for bill in await repository.due_reminders(now, self.lead, self.batch_size):
                bill.reminded_at = now
                session.add(bill)
                expiring = PaymentExpiring(
                    application_id=bill.application_id,
                    bill_id=bill.bill_id,
                    billing_code=bill.billing_code,
                    amount=bill.amount,
                    expires_at=bill.expires_at,
                )
                await self.outbox.add(session, self._event(expiring, bill))
                published += 1
                self._count("expiring", bill)
        if published:
            _logger.info("published %d bill reminders and expiries", published)
        return published

    def _count(self, outcome: str, bill: BillRecord) -> None:
        if self.outcomes is not None:
            self.outcomes.labels(outcome, bill.agency).inc()

    @staticmethod
    def _event(payload: PaymentExpired | PaymentExpiring, bill: BillRecord) -> Event[Any]:
        return Event(
            payload=payload, source=SOURCE, subject=bill.application_id, actor=ACTOR, correlation_id=bill.correlation_id
        )


CONFIRM_ACTION = "confirm-payment"
"""The action of a payment's confirmation on the audit timeline (``access.recorded``)."""


@dataclass(frozen=True)
class Payment:
    """A payment as its reporter says it happened: where (channel and source: the gateway provider, or the counter's
    agency), under which reference (the gateway's transaction id, the receipt number), for which billing code, how
    many rupiah, when, and who reported it."""

    channel: PaymentChannel
    source: str
    reference: str
    billing_code: str
    amount: int
    paid_at: datetime
    actor: str
    method: str | None = None


@dataclass(frozen=True)
class Recorded:
    """A payment's confirmation, and whether it was recorded before (the same callback or receipt again)."""

    confirmation: ConfirmationRecord
    replayed: bool


@dataclass(frozen=True)
class DayFigures:
    """What reconciliation reports for one day (WIB): bills issued, paid (by channel, and by agency and fee kind),
    expired and cancelled, and the payments that matched no open bill."""

    day: date
    issued: Sequence[Tally]
    paid_by_channel: Sequence[Tally]
    paid: Sequence[Tally]
    expired: Sequence[Tally]
    cancelled: Sequence[Tally]
    unmatched: Sequence[ConfirmationRecord]


class ConfirmationService:
    """Confirms payments: a gateway's verified callback and a clerk's counter payment pay an open bill for exactly
    its amount (``payment.confirmed`` through the outbox, in the same transaction); a verified callback that
    matches no open bill is kept for reconciliation and audited, and changes nothing else. Each payment is kept
    once per channel, source and reference, so a repeated one answers what the first did."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        clock: Clock = utc_now,
        outcomes: Counter | None = None,
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._clock = clock
        self._access = AccessLog(outbox, SOURCE, clock)
        self._outcomes = outcomes
        """Counts the payments recorded, by channel and outcome (and the callbacks refused)."""

    def now(self) -> datetime:
        """The service's time (what callbacks' timestamps are checked against)."""
        return self._clock()

    async def from_gateway(self, payment: Payment) -> Recorded:
        """Record a verified callback: the bill its billing code names paid, when it is open and the amount is its
        own; otherwise kept as ``unmatched`` with the reason, and audited."""
        async with self._sessions() as session, session.begin():
            bill = await BillRepository(session).by_billing_code(payment.billing_code, for_update=True)
            confirmations = ConfirmationRepository(session)
            earlier = await confirmations.by_reference(payment.channel, payment.source, payment.reference)
            if earlier is not None:
                return Recorded(earlier, replayed=True)
            reason = mismatch(bill.status if bill else None, bill.amount if bill else None, payment.amount)
            recorded = await self._keep(confirmations, payment, bill, reason)
            if recorded.replayed:
                return recorded
            if reason is None:
                assert bill is not None  # no reason: the bill was found open
                await self._pay(session, bill, payment, ACTOR)
            else:
                await self._audit_unmatched(session, payment, bill, reason)
            return recorded

    async def at_counter(
        self, bill_id: str, receipt_number: str, method: str, amount: int, clerk: Principal
    ) -> Recorded:
        """Record that ``clerk`` took ``amount`` rupiah for the bill ``bill_id`` against ``receipt_number``.

        Raises :class:`BillNotFound`, :class:`AmountMismatch` (not the bill's amount), :class:`BillNotOpen` (paid,
        expired or cancelled) and :class:`ReceiptUsed` (the receipt number was given for another bill at this
        counter); nothing is recorded then. The same receipt for the same bill again answers what it did."""
        payment = Payment(
            channel="counter",
            source=clerk.agency or "mall",
            reference=receipt_number,
            billing_code="",
            amount=amount,
            paid_at=self._clock(),
            actor=clerk.actor(),
            method=method,
        )
        async with self._sessions() as session, session.begin():
            bill = await BillRepository(session).by_id(bill_id, for_update=True)
            if bill is None:
                raise BillNotFound(bill_id)
            confirmations = ConfirmationRepository(session)
            earlier = await confirmations.by_reference(payment.channel, payment.source, payment.reference)
            if earlier is not None:
                if earlier.bill_id != bill.bill_id:
                    raise ReceiptUsed(receipt_number)
                return Recorded(earlier, replayed=True)
            reason = mismatch(bill.status, bill.amount, amount)
            if reason is UnmatchedReason.AMOUNT_MISMATCH:
                raise AmountMismatch(bill.amount, amount)
            if reason is not None:
                raise BillNotOpen(f"bill {bill.bill_id} is {bill.status}")
            payment = replace(payment, billing_code=bill.billing_code)
            recorded = await self._keep(confirmations, payment, bill, None)
            if recorded.replayed:  # the same receipt, recorded by a concurrent request meanwhile
                if recorded.confirmation.bill_id != bill.bill_id:
                    raise ReceiptUsed(receipt_number)
                return recorded
            await self._pay(session, bill, payment, payment.actor)
            return recorded

    async def bill_by_code(self, billing_code: str) -> BillRecord | None:
        """The bill with ``billing_code`` (what the citizen brings to the counter), if any."""
        async with self._sessions() as session:
            return await BillRepository(session).by_billing_code(billing_code)

    async def bill_by_id(self, bill_id: str) -> BillRecord | None:
        """The bill ``bill_id``, if any."""
        async with self._sessions() as session:
            return await BillRepository(session).by_id(bill_id)

    async def refused(self, provider: str, caller: str, reason: str) -> None:
        """Put a refused callback on the audit timeline: who called (their address: nothing verified them), for
        which provider, and why it was refused; never what its body said."""
        await self._access.record_alone(
            self._sessions,
            f"unverified:{caller}",
            subject_id=f"payment-callback:{provider}",
            resource=f"POST /payments/callbacks/{provider}",
            action=CONFIRM_ACTION,
            outcome="denied",
            reason=reason,
        )
        if self._outcomes is not None:
            self._outcomes.labels("gateway", "refused").inc()

    async def reconciliation(self, day: date) -> DayFigures:
        """The figures of ``day`` (WIB)."""
        start, end = day_window(day)
        async with self._sessions() as session:
            bills = BillRepository(session)
            return DayFigures(
                day=day,
                issued=await bills.issued_between(start, end),
                paid_by_channel=await bills.paid_between(start, end, by_channel=True),
                paid=await bills.paid_between(start, end, by_channel=False),
                expired=await bills.settled_between(BillStatus.EXPIRED, start, end),
                cancelled=await bills.settled_between(BillStatus.CANCELLED, start, end),
                unmatched=await ConfirmationRepository(session).unmatched_between(start, end),
            )

    async def _keep(
        self,
        confirmations: ConfirmationRepository,
        payment: Payment,
        bill: BillRecord | None,
        reason: UnmatchedReason | None,
    ) -> Recorded:
        confirmation = ConfirmationRecord(
            confirmation_id=str(uuid.uuid4()),
            channel=payment.channel,
            source=payment.source,
            reference=payment.reference,
            billing_code=payment.billing_code,
            amount=payment.amount,
            method=payment.method,
            bill_id=bill.bill_id if bill else None,
            outcome=ConfirmationOutcome.CONFIRMED if reason is None else ConfirmationOutcome.UNMATCHED,
            reason=reason,
            paid_at=payment.paid_at,
            recorded_at=self._clock(),
            actor=payment.actor,
        )
        if await confirmations.add(confirmation):
            if self._outcomes is not None:
                self._outcomes.labels(payment.channel, confirmation.outcome).inc()
            return Recorded(confirmation, replayed=False)
        # The same payment, recorded by a concurrent transaction that committed while this one waited on the key.
        earlier = await confirmations.by_reference(payment.channel, payment.source, payment.reference)
        assert earlier is not None  # the insert conflicted with it
        return Recorded(earlier, replayed=True)

    async def _pay(self, session: AsyncSession, bill: BillRecord, payment: Payment, actor: str) -> None:
        now = self._clock()
        bill.status = BillStatus.PAID
        bill.paid_at = payment.paid_at
        bill.channel = payment.channel
        bill.reference = payment.reference
        bill.settled_at = now
        session.add(bill)
        confirmed = PaymentConfirmed(
            application_id=bill.application_id,
            bill_id=bill.bill_id,
            billing_code=bill.billing_code,
            amount=bill.amount,
            channel=payment.channel,
            reference=payment.reference,
            paid_at=payment.paid_at,
            confirmed_at=now,
        )
        event = Event(
            payload=confirmed,
            source=SOURCE,
            subject=bill.application_id,
            actor=actor,
            correlation_id=bill.correlation_id,
        )
        await self._outbox.add(session, event)

    async def _audit_unmatched(
        self, session: AsyncSession, payment: Payment, bill: BillRecord | None, reason: UnmatchedReason
    ) -> None:
        detail = f"{reason}: Rp {payment.amount} paid"
        if bill is not None:
            detail += f" for a bill of Rp {bill.amount} ({bill.status})"
        await self._access.record(
            session,
            payment.actor,
            subject_id=bill.application_id if bill else f"billing-code:{payment.billing_code}",
            resource=f"payment/{payment.channel}/{payment.source}/{payment.reference}",
            action=CONFIRM_ACTION,
            outcome="denied",
            reason=detail,
        )
