"""The mall's projection of the application lifecycle (the ``applications`` topic): what the board counts, what
surveys, complaints and consent find applications by; an application's end invites its applicant to the survey,
and a submission that reused profile data is recorded in the consent ledger."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from satupintu.common.catalogue import Catalogue
from satupintu.common.consumer import RejectEvent, UnitOfWork
from satupintu.common.crypto import KeyedHasher
from satupintu.common.working_days import WorkingCalendar, agency_calendar
from satupintu.contract.applications import (
    ApplicationCompleted,
    ApplicationRejected,
    ApplicationSlaBreached,
    ApplicationSubmitted,
)
from satupintu.contract.envelope import Event
from satupintu.mall.domain import working_days_between
from satupintu.mall.services.consent import ConsentService
from satupintu.mall.services.survey import SurveyService
from satupintu.mall.storage.repository import ApplicationRepository, TicketRepository
from satupintu.mall.storage.tables import ApplicationRecord


class ApplicationProjection:
    """Keeps ``mall_applications`` up to date, one transaction per event."""

    def __init__(
        self,
        catalogue: Catalogue,
        hasher: KeyedHasher,
        surveys: SurveyService,
        consent: ConsentService,
        collective_leave: frozenset[date] = frozenset(),
    ) -> None:
        self._catalogue = catalogue
        self._hasher = hasher
        self._surveys = surveys
        self._consent = consent
        self._collective_leave = collective_leave

    def _calendar(self, agency: str) -> WorkingCalendar:
        return agency_calendar(self._catalogue, agency, self._collective_leave)

    async def on_submitted(self, uow: UnitOfWork, event: Event[ApplicationSubmitted]) -> None:
        """Know the application: its service, owning agency, due date, language and the applicant's pseudonym (the
        keyed NIK hash intake sends, the NIK itself being sealed; an event from before sealing is hashed here)."""
        submitted = event.payload
        service = self._catalogue.service(submitted.service_code)
        if service is None:
            raise RejectEvent(f"unknown service {submitted.service_code!r}")
        repository = ApplicationRepository(uow.session)
        if await repository.get(submitted.application_id) is not None:
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
            submitted_at=submitted.submitted_at,
            due_at=self._calendar(service.agency).due_at(submitted.submitted_at, service.sla_working_days),
        )
        repository.add(application)
        await repository.flush()
        await TicketRepository(uow.session).link_pending(submitted.tracking_code, submitted.application_id)
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

    async def on_sla_breached(self, uow: UnitOfWork, event: Event[ApplicationSlaBreached]) -> None:
        """Routing found the application past its service standard."""
        application = await ApplicationRepository(uow.session).get(event.payload.application_id, for_update=True)
        if application is None:
            raise RejectEvent(f"application {event.payload.application_id} was never submitted as far as the mall saw")
        application.sla_breached = True
