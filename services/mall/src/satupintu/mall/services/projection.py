"""The mall's projection of the application lifecycle (the ``applications`` topic): what the board counts (with
each application's applicant kind and its fee's bill), what surveys, complaints and consent find applications by;
an application's end invites its applicant to the survey, and a submission that reused profile data is recorded in
the consent ledger."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Literal

from satupintu.common.catalogue import Catalogue
from satupintu.common.consumer import RejectEvent, UnitOfWork
from satupintu.common.crypto import KeyedHasher
from satupintu.common.working_days import WorkingCalendar, agency_calendar
from satupintu.contract.applications import (
    ApplicationCancelled,
    ApplicationCompleted,
    ApplicationRejected,
    ApplicationSlaBreached,
    ApplicationSubmitted,
)
from satupintu.contract.envelope import Event
from satupintu.contract.payments import PaymentBilled, PaymentCancelled, PaymentConfirmed, PaymentExpired
from satupintu.mall.domain import working_days_between
from satupintu.mall.services.consent import ConsentService
from satupintu.mall.services.queue import QueueService
from satupintu.mall.services.survey import SurveyService
from satupintu.mall.storage.repository import ApplicationRepository, TicketRepository
from satupintu.mall.storage.tables import ApplicationRecord

KNOWN = "mall.known_applications"
"""What :meth:`UnitOfWork.load_for_batch` keeps under this name: the batch's submitted applications the mall has."""


def _submitted_applications(events: Sequence[Event[Any]]) -> list[str]:
    return [event.payload.application_id for event in events if isinstance(event.payload, ApplicationSubmitted)]


class ApplicationProjection:
    """Keeps ``mall_applications`` up to date, one transaction per event."""

    def __init__(
        self,
        catalogue: Catalogue,
        hasher: KeyedHasher,
        surveys: SurveyService,
        consent: ConsentService,
        collective_leave: frozenset[date] = frozenset(),
        *,
        queue: QueueService | None = None,
    ) -> None:
        self._queue = queue
        self._catalogue = catalogue
        self._hasher = hasher
        self._surveys = surveys
        self._consent = consent
        self._collective_leave = collective_leave

    def _calendar(self, agency: str) -> WorkingCalendar:
        return agency_calendar(self._catalogue, agency, self._collective_leave)

    async def on_submitted(self, uow: UnitOfWork, event: Event[ApplicationSubmitted]) -> None:
        """Know the application: its service, owning agency, due date, language and the applicant's pseudonym (the
        keyed NIK hash intake sends, the NIK itself being sealed; an event from before sealing is hashed here). One a
        clerk submitted at the counter for a ticket links the ticket and serves it (decision 0036)."""
        submitted = event.payload
        service = self._catalogue.service(submitted.service_code)
        if service is None:
            raise RejectEvent(f"unknown service {submitted.service_code!r}")
        repository = ApplicationRepository(uow.session)

        async def known_of(events: Sequence[Event[Any]]) -> set[str]:
            return await repository.known(_submitted_applications(events))

        # one query for the batch's submissions; one added here joins it, so a later duplicate in the batch sees it
        known = await uow.load_for_batch(KNOWN, event, known_of)
        if submitted.application_id in known:
            return
        application = ApplicationRecord(
            application_id=submitted.application_id,
            tracking_code=submitted.tracking_code,
            service_code=service.code,
            agency=service.agency,
            language=submitted.applicant.language,
            nik_hash=submitted.applicant.citizen or self._hasher.hash(submitted.applicant.nik),
            reused_fields=list(submitted.reused_fields),
            state="submitted",
            applicant_kind=submitted.applicant.kind,
            submitted_at=submitted.submitted_at,
            due_at=self._calendar(service.agency).due_at(submitted.submitted_at, service.sla_working_days),
        )
        repository.add(application)
        await repository.flush()
        known.add(submitted.application_id)
        # per submission still: a write, and a ticket a clerk links after the batch began must be linked too
        await TicketRepository(uow.session).link_pending(submitted.tracking_code, submitted.application_id)
        if submitted.ticket_id is not None and self._queue is not None:
            await uow.emit(
                *await self._queue.settle_at_submission(
                    uow.session,
                    submitted.ticket_id,
                    tracking_code=submitted.tracking_code,
                    application_id=submitted.application_id,
                    clerk=event.actor,
                )
            )
        await self._consent.record_uses(uow, event, application)

    async def _finish(
        self, uow: UnitOfWork, event: Event[ApplicationCompleted] | Event[ApplicationRejected], at: datetime
    ) -> None:
        outcome: Literal["completed", "rejected"] = (
            "completed" if isinstance(event.payload, ApplicationCompleted) else "rejected"
        )
        application = await ApplicationRepository(uow.session).get(event.payload.application_id, for_update=True)
        if application is None:
            raise RejectEvent(f"application {event.payload.application_id} was never submitted as far as the mall saw")
        if application.finished_at is not None:
            return
        application.state = outcome
        application.finished_at = at
        application.working_days_taken = working_days_between(
            self._calendar(application.agency), application.submitted_at, at
        )
        await self._surveys.invite(uow, event, application, outcome)

    async def on_completed(self, uow: UnitOfWork, event: Event[ApplicationCompleted]) -> None:
        """The application is done: count it, and invite its applicant to the survey."""
        await self._finish(uow, event, event.payload.completed_at)

    async def on_rejected(self, uow: UnitOfWork, event: Event[ApplicationRejected]) -> None:
        """The application was rejected: count it, and invite its applicant to the survey."""
        await self._finish(uow, event, event.payload.rejected_at)

    async def on_cancelled(self, uow: UnitOfWork, event: Event[ApplicationCancelled]) -> None:
        """Routing cancelled the application (its fee was not paid in time): it ends, counted as cancelled, neither
        completed nor rejected; no processing time, no survey."""
        application = await self._known(uow, event.payload.application_id)
        if application.finished_at is not None:
            return
        application.state = "cancelled"
        application.finished_at = event.payload.cancelled_at

    async def on_billed(self, uow: UnitOfWork, event: Event[PaymentBilled]) -> None:
        """The application's fee was billed: keep the bill (payee, kind, amount, when)."""
        billed = event.payload
        application = await self._known(uow, billed.application_id)
        if application.bill_id == billed.bill_id:
            return
        application.bill_id = billed.bill_id
        application.bill_status = "billed"
        application.bill_agency = billed.agency
        application.bill_kind = billed.kind
        application.bill_amount = billed.amount
        application.billed_at = billed.billed_at
        application.paid_at = application.paid_amount = application.payment_channel = None

    async def on_confirmed(self, uow: UnitOfWork, event: Event[PaymentConfirmed]) -> None:
        """The bill was paid: when, how much and where. Only an open bill is paid (the payment service confirms no
        other: a late payment of an expired or cancelled bill stays in its reconciliation)."""
        confirmed = event.payload
        application = await self._bill_of(uow, confirmed.application_id, confirmed.bill_id)
        if application is None or application.bill_status != "billed":
            return
        application.bill_status = "paid"
        application.paid_at = confirmed.paid_at
        application.paid_amount = confirmed.amount
        application.payment_channel = confirmed.channel

    async def on_expired(self, uow: UnitOfWork, event: Event[PaymentExpired]) -> None:
        """The bill expired unpaid."""
        await self._close_bill(uow, event.payload.application_id, event.payload.bill_id, "expired")

    async def on_payment_cancelled(self, uow: UnitOfWork, event: Event[PaymentCancelled]) -> None:
        """The bill was withdrawn unpaid (its application was rejected or cancelled)."""
        await self._close_bill(uow, event.payload.application_id, event.payload.bill_id, "cancelled")

    async def _close_bill(
        self, uow: UnitOfWork, application_id: str, bill_id: str, status: Literal["expired", "cancelled"]
    ) -> None:
        application = await self._bill_of(uow, application_id, bill_id)
        if application is not None and application.bill_status == "billed":
            application.bill_status = status

    async def _bill_of(self, uow: UnitOfWork, application_id: str, bill_id: str) -> ApplicationRecord | None:
        """The application, locked, when ``bill_id`` is its bill; a bill the mall never saw billed is refused."""
        application = await self._known(uow, application_id)
        if application.bill_id is None:
            raise RejectEvent(f"bill {bill_id} of application {application_id} was never billed as far as the mall saw")
        return application if application.bill_id == bill_id else None

    async def _known(self, uow: UnitOfWork, application_id: str) -> ApplicationRecord:
        application = await ApplicationRepository(uow.session).get(application_id, for_update=True)
        if application is None:
            raise RejectEvent(f"application {application_id} was never submitted as far as the mall saw")
        return application

    async def on_sla_breached(self, uow: UnitOfWork, event: Event[ApplicationSlaBreached]) -> None:
        """Routing found the application past its service standard."""
        application = await ApplicationRepository(uow.session).get(event.payload.application_id, for_update=True)
        if application is None:
            raise RejectEvent(f"application {event.payload.application_id} was never submitted as far as the mall saw")
        application.sla_breached = True
