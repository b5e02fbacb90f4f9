"""A signed-in citizen's own applications (decision 0024): every application whose applicant's NIK is the one the
identity provider verified, found by the NIK's keyed hash (nothing is decrypted), each read recorded in the audit
log. Someone else's application is never opened this way, only with its tracking code as before."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.access_log import AccessLog
from satupintu.common.catalogue import Catalogue
from satupintu.common.clock import Clock, utc_now
from satupintu.common.crypto import KeyedHasher
from satupintu.common.outbox import Outbox
from satupintu.intake.bills import AWAITING_PAYMENT
from satupintu.intake.domain import SOURCE, ApplicationNotFound
from satupintu.intake.storage.repository import ApplicationRepository, BillRepository


@dataclass(frozen=True)
class Identified:
    """A citizen the identity provider vouches for: their verified NIK, and who they are in the audit log."""

    nik: str
    actor: str


@dataclass(frozen=True)
class OwnApplication:
    """One of the citizen's applications as their list shows it."""

    application_id: str
    tracking_code: str
    service_code: str
    service_name: dict[str, str]
    status: str
    submitted_at: datetime
    updated_at: datetime
    awaiting_payment: int | None = None
    """The amount (whole rupiah) of its bill still to pay, if it has one."""


class CitizenService:
    """The applications of a citizen signed in with an account."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        *,
        catalogue: Catalogue,
        hasher: KeyedHasher,
        clock: Clock = utc_now,
    ) -> None:
        self._sessions = sessions
        self._catalogue = catalogue
        self._hasher = hasher
        self._access = AccessLog(outbox, SOURCE, clock)

    async def applications(self, citizen: Identified, resource: str) -> list[OwnApplication]:
        """Every application of the citizen, across every service and agency, newest first; each listed one is
        recorded as read by them."""
        async with self._sessions() as session, session.begin():
            records = await ApplicationRepository(session).of_citizen(self._hasher.hash(citizen.nik))
            bills = {record.id: await BillRepository(session).latest_of(record.id) for record in records}
            for record in records:
                await self._access.record(
                    session, citizen.actor, subject_id=record.id, resource=resource, action="list", outcome="granted"
                )
        return [
            OwnApplication(
                application_id=record.id,
                tracking_code=record.tracking_code,
                service_code=record.service_code,
                service_name=self._service_name(record.service_code),
                status=record.status,
                submitted_at=record.submitted_at,
                updated_at=record.updated_at,
                awaiting_payment=bill.amount if (bill := bills[record.id]) and bill.state == AWAITING_PAYMENT else None,
            )
            for record in records
        ]

    async def tracking_code(self, citizen: Identified, application_id: str, resource: str) -> str:
        """The tracking code of the citizen's own application ``application_id``, the read recorded. Raises
        ApplicationNotFound for an application that is not theirs (the refusal recorded against it) or none."""
        async with self._sessions() as session, session.begin():
            record = await ApplicationRepository(session).by_id(application_id)
            if record is None:
                raise ApplicationNotFound(application_id)
            mine = hmac.compare_digest(record.nik_hash, self._hasher.hash(citizen.nik))
            await self._access.record(
                session,
                citizen.actor,
                subject_id=record.id,
                resource=resource,
                action="read",
                outcome="granted" if mine else "denied",
                reason=None if mine else "not the applicant: the signed-in citizen's NIK is not this application's",
            )
        if not mine:
            raise ApplicationNotFound(application_id)
        return record.tracking_code

    def _service_name(self, code: str) -> dict[str, str]:
        service = self._catalogue.service(code)
        return service.name.model_dump() if service else {"id": code, "en": code}
