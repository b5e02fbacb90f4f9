"""Intake's use cases."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.catalogue import Catalogue
from satupintu.common.events.applications import Applicant, ApplicationSubmitted
from satupintu.common.events.envelope import Event
from satupintu.common.outbox import Outbox
from satupintu.intake.domain import UnknownServiceError, new_tracking_code
from satupintu.intake.schemas import ApplicationAccepted, ApplicationCreate
from satupintu.intake.storage.repository import ApplicationRepository
from satupintu.intake.storage.tables import ApplicationRecord

SOURCE = "/satupintu/intake"

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


class ApplicationService:
    """Accepting applications: store them and announce them in one transaction."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        catalogue: Catalogue,
        clock: Clock = utc_now,
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._catalogue = catalogue
        self._clock = clock

    async def submit(self, request: ApplicationCreate, actor: str = "citizen") -> ApplicationAccepted:
        """Store the application and its ``application.submitted`` event together."""
        if self._catalogue.service(request.service_code) is None:
            raise UnknownServiceError(request.service_code)
        application_id = str(uuid.uuid4())
        now = self._clock()
        record = ApplicationRecord(
            id=application_id,
            tracking_code=new_tracking_code(),
            service_code=request.service_code,
            catalogue_version=self._catalogue.version,
            status="submitted",
            data=dict(request.data),
            submitted_at=now,
        )
        event = Event(
            payload=ApplicationSubmitted(
                application_id=application_id,
                tracking_code=record.tracking_code,
                service_code=record.service_code,
                catalogue_version=record.catalogue_version,
                applicant=Applicant(**request.applicant.model_dump()),
                data=dict(request.data),
                documents=tuple(request.documents),
                submitted_at=now,
            ),
            source=SOURCE,
            subject=application_id,
            actor=actor,
        )
        async with self._sessions() as session, session.begin():
            ApplicationRepository(session).add(record)
            await self._outbox.add(session, event)
        return ApplicationAccepted(
            application_id=application_id,
            tracking_code=record.tracking_code,
            status="submitted",
            submitted_at=now,
        )
