"""The consent ledger: per citizen, whether each agency may receive each profile field again. The citizen grants
and withdraws consent (identified by an application's tracking code and their NIK), for one agency or for every
agency (``*``); every grant, withdrawal and reuse is an event on the ``mall`` topic, so the audit trail holds it and
intake, folding the same events with the same rule (``satupintu.common.consent``), reuses exactly what the ledger
allows. Wrong NIKs per tracking code are limited (decision 0018): past the limit, nothing is checked."""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.access_log import AccessLog
from satupintu.common.catalogue import Catalogue
from satupintu.common.clock import Clock
from satupintu.common.consent import ALL_AGENCIES, ConsentBook, ConsentDecision, receiving_agencies
from satupintu.common.consumer import UnitOfWork
from satupintu.common.crypto import KeyedHasher
from satupintu.common.lockout import Lockout
from satupintu.common.outbox import Outbox
from satupintu.contract.envelope import Event
from satupintu.contract.mall import ConsentGranted, ConsentUsed, ConsentWithdrawn, FieldUse
from satupintu.mall.domain import (
    ApplicationNotKnown,
    ConsentRefused,
    NotTheApplicant,
    reusable_fields,
)
from satupintu.mall.services import ACTOR, SOURCE, new_event
from satupintu.mall.storage.repository import ApplicationRepository, ConsentRepository
from satupintu.mall.storage.tables import ApplicationRecord, ConsentEntry, ConsentLedger, ConsentLogEntry

CITIZEN_ACTOR = "citizen"


@dataclass(frozen=True)
class LedgerLine:
    """Whether one agency may receive one profile field again, and since when."""

    agency: str
    field: str
    granted: bool
    changed_at: datetime | None


@dataclass(frozen=True)
class LedgerView:
    """A citizen's ledger as they see it: every reusable (agency, field) and what happened, newest first."""

    ledger_id: str | None
    tracking_code: str
    lines: list[LedgerLine]
    history: list[ConsentLogEntry]


class ConsentService:
    """Keeps the ledgers and records each use of profile data."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        catalogue: Catalogue,
        hasher: KeyedHasher,
        clock: Clock,
        *,
        wrong_niks: Lockout,
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._catalogue = catalogue
        self._hasher = hasher
        self._clock = clock
        self._wrong_niks = wrong_niks
        self._access = AccessLog(outbox, SOURCE, clock)
        self.reusable = reusable_fields(catalogue)
        self.fields = tuple(sorted({field for fields in self.reusable.values() for field in fields}))
        """Every field some agency may receive again: what a grant for every agency may name."""

    def nik_hash(self, nik: str) -> str:
        """The keyed hash a NIK is found by."""
        return self._hasher.hash(nik)

    async def _identify(self, session: AsyncSession, tracking_code: str, nik: str) -> ApplicationRecord:
        """The application, if ``nik`` is its applicant's; a wrong NIK counts against the tracking code (raises
        LockedOut past the limit, and the lock is recorded in the audit log)."""
        application = await ApplicationRepository(session).by_tracking_code(tracking_code)
        if application is None:
            raise ApplicationNotKnown(tracking_code)
        attempt = await self._wrong_niks.attempt(application.tracking_code)
        if hmac.compare_digest(application.nik_hash, self.nik_hash(nik)):
            await attempt.succeeded()
            return application
        if attempt.failed():
            await self._access.record_alone(
                self._sessions,
                CITIZEN_ACTOR,
                subject_id=application.application_id,
                resource="consent ledger",
                action="identify",
                outcome="denied",
                reason="locked: too many wrong NIKs for this tracking code",
            )
        raise NotTheApplicant

    async def _view(
        self, repository: ConsentRepository, ledger: ConsentLedger | None, tracking_code: str
    ) -> LedgerView:
        entries = {(e.agency, e.field): e for e in await repository.entries(ledger.ledger_id)} if ledger else {}
        book = ConsentBook({line: entry.granted for line, entry in entries.items()})

        def line(agency: str, field: str) -> LedgerLine:
            entry = entries.get((agency, field)) or entries.get((ALL_AGENCIES, field))
            return LedgerLine(agency, field, book.allows(agency, field), entry.changed_at if entry else None)

        lines = [line(ALL_AGENCIES, field) for field in self.fields] + [
            line(agency, field) for agency, fields in self.reusable.items() for field in fields
        ]
        history = list(await repository.log(ledger.ledger_id)) if ledger else []
        return LedgerView(ledger.ledger_id if ledger else None, tracking_code, lines, history)

    async def ledger(self, tracking_code: str, nik: str) -> LedgerView:
        """The applicant's ledger (empty when they never granted anything)."""
        async with self._sessions() as session:
            application = await self._identify(session, tracking_code, nik)
            repository = ConsentRepository(session)
            return await self._view(repository, await repository.find_ledger(application.nik_hash), tracking_code)

    async def grant(self, tracking_code: str, nik: str, agency: str, fields: Sequence[str]) -> LedgerView:
        """Allow ``agency`` (``*``: every agency) to receive ``fields`` of the applicant's profile again."""
        return await self._change(tracking_code, nik, agency, fields, granted=True)

    async def withdraw(self, tracking_code: str, nik: str, agency: str, fields: Sequence[str]) -> LedgerView:
        """Stop ``agency`` (``*``: every agency) receiving ``fields`` again, from the next application on."""
        return await self._change(tracking_code, nik, agency, fields, granted=False)

    def _check(self, agency: str, fields: Sequence[str]) -> None:
        allowed = self.fields if agency == ALL_AGENCIES else self.reusable.get(agency)
        if allowed is None:
            known = ", ".join(self.reusable)
            raise ConsentRefused("agency", f"no profile field is shared with {agency!r}; agencies: {known}")
        for index, field in enumerate(fields):
            if field not in allowed:
                raise ConsentRefused(
                    f"fields/{index}", f"{agency} does not receive {field!r}; it may receive {', '.join(allowed)}"
                )

    async def _change(
        self, tracking_code: str, nik: str, agency: str, fields: Sequence[str], *, granted: bool
    ) -> LedgerView:
        self._check(agency, fields)
        now = self._clock()
        async with self._sessions() as session, session.begin():
            application = await self._identify(session, tracking_code, nik)
            repository = ConsentRepository(session)
            ledger = await repository.ledger_of(application.nik_hash, create_with_id=str(uuid.uuid4()), now=now)
            entries = {(e.agency, e.field): e for e in await repository.entries(ledger.ledger_id, for_update=True)}
            book = ConsentBook({line: entry.granted for line, entry in entries.items()})
            lines = book.apply(ConsentDecision(agency, tuple(fields), granted))
            for (line_agency, field), value in lines.items():
                entry = entries.get((line_agency, field))
                if entry is None:
                    repository.add(
                        ConsentEntry(
                            ledger_id=ledger.ledger_id, agency=line_agency, field=field, granted=value, changed_at=now
                        )
                    )
                else:
                    entry.granted, entry.changed_at = value, now
            changed = list(dict.fromkeys(field for field in fields if any(line[1] == field for line in lines)))
            if changed:
                payload: ConsentGranted | ConsentWithdrawn = (
                    ConsentGranted(
                        ledger_id=ledger.ledger_id,
                        application_id=application.application_id,
                        agency=agency,
                        fields=tuple(changed),
                        granted_at=now,
                    )
                    if granted
                    else ConsentWithdrawn(
                        ledger_id=ledger.ledger_id,
                        application_id=application.application_id,
                        agency=agency,
                        fields=tuple(changed),
                        withdrawn_at=now,
                    )
                )
                event = new_event(payload, ledger.ledger_id, CITIZEN_ACTOR)
                await self._outbox.add(session, event)
                repository.add(
                    *(
                        ConsentLogEntry(
                            ledger_id=ledger.ledger_id,
                            kind="granted" if granted else "withdrawn",
                            agency=agency,
                            field=field,
                            consented=granted,
                            application_id=application.application_id,
                            event_id=event.id,
                            at=now,
                        )
                        for field in changed
                    )
                )
            await repository.flush()
            return await self._view(repository, ledger, tracking_code)

    async def record_uses(self, uow: UnitOfWork, cause: Event[Any], application: ApplicationRecord) -> None:
        """Record the reuse of profile fields on a submitted application: one ``consent.used`` naming each
        receiving agency and field, and whether the ledger allowed it."""
        service = self._catalogue.service(application.service_code)
        if not application.reused_fields or service is None:
            return
        now = self._clock()
        repository = ConsentRepository(uow.session)
        ledger = await repository.ledger_of(application.nik_hash, create_with_id=str(uuid.uuid4()), now=now)
        book = ConsentBook({(e.agency, e.field): e.granted for e in await repository.entries(ledger.ledger_id)})
        uses = tuple(
            FieldUse(agency=agency, field=field, consented=book.allows(agency, field))
            for field in application.reused_fields
            for agency in receiving_agencies(service, field)
        )
        event = cause.caused(
            ConsentUsed(
                ledger_id=ledger.ledger_id,
                application_id=application.application_id,
                uses=uses,
                used_at=application.submitted_at,
            ),
            source=SOURCE,
            actor=ACTOR,
            subject=ledger.ledger_id,
        )
        await uow.emit(event)
        repository.add(
            *(
                ConsentLogEntry(
                    ledger_id=ledger.ledger_id,
                    kind="used",
                    agency=use.agency,
                    field=use.field,
                    consented=use.consented,
                    application_id=application.application_id,
                    event_id=event.id,
                    at=application.submitted_at,
                )
                for use in uses
            )
        )
