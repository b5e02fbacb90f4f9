"""Payment's use cases: bill an application whose service has a fee (``application.submitted``), withdraw an open
bill when its application ends without it (``application.rejected``, ``application.cancelled``), and the expiry
watch that reminds before a bill expires and expires it.

Asking a billing system for a code may be a network call (SIMPONI, the region's system): it is made by
:meth:`BillingService.prepare` *before* the consumer opens its transaction (:class:`PreparingConsumer` in
``handlers``), for a bill id derived from the application id, so a retry asks for the same bill and gets the same
code; the handler then writes the bill and ``payment.billed`` in the consumer's transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from prometheus_client import Counter

from satupintu.common.catalogue import Catalogue
from satupintu.common.clock import Clock, utc_now
from satupintu.common.consumer import UnitOfWork
from satupintu.common.watches import Watch
from satupintu.contract.applications import ApplicationCancelled, ApplicationRejected, ApplicationSubmitted
from satupintu.contract.envelope import Event, event_source
from satupintu.contract.payments import PaymentBilled, PaymentCancelled, PaymentExpired, PaymentExpiring
from satupintu.payment import qris
from satupintu.payment.billing import BillingSettings, BillRequest, provider_for
from satupintu.payment.domain import BillStatus, bill_id_for, expiry_of
from satupintu.payment.storage.repository import BillRepository
from satupintu.payment.storage.tables import BillRecord

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
        billed_at = self.clock()
        request = self._request(event.payload, billed_at)
        if request is None or request.bill_id in self._prepared:
            return
        code = await provider_for(request.kind, self.billing).billing_code(request)
        self._prepared[request.bill_id] = PreparedBill(request.bill_id, code, billed_at, request.expires_at)

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
            billed_at = self.clock()
            request = self._request(submitted, billed_at)
            assert request is not None  # the service has a fee, checked above
            code = await provider_for(request.kind, self.billing).billing_code(request)
            prepared = PreparedBill(bill_id, code, billed_at, request.expires_at)
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
