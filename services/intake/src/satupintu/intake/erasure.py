"""Erasure of a citizen's personal data on their request (UU PDP, Law 27/2022, Art. 8 and 16; decision 0019).

An operator asks for it with the citizen's NIK and the reference of their request. The data is erased by destroying
what opens it: the citizen's key goes (intake's copy, and a tombstone on every key topic it was sent to, so each
reader deletes its copy and whatever only that key opened), and intake empties what it keeps under its own keys (the
applicant and personal fields of each application, the profile, codes, consents) and deletes the documents no other
application refers to. Every sealed value of the citizen anywhere (databases, retained Kafka records) then stays
unreadable; the audit log, which holds only keyed hashes, still verifies.

Data under a retention duty is not erased while the duty lasts (UU PDP Art. 15(1)(c) exempts the public
administration's own duties): an application still in progress, and the record of an issued document for
``issued_retention`` after it was issued. Such a request is refused with the rule named and kept: the retention
schedule erases the citizen's data when the duty ends. The request, the refusal and the erasure are audited.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.access_log import AccessLog
from satupintu.common.clock import Clock, utc_now
from satupintu.common.crypto import KeyedHasher
from satupintu.common.outbox import Outbox
from satupintu.contract.base import ApplicationState
from satupintu.contract.topics import reader_topic
from satupintu.intake.documents import DocumentRepository, DocumentStore
from satupintu.intake.domain import SOURCE
from satupintu.intake.storage.repository import ErasureRepository
from satupintu.intake.storage.tables import ErasureRequest

_logger = logging.getLogger(__name__)
RESOURCE = "POST /operator/erasures"
OPEN_APPLICATION_RULE = (
    "UU PDP Art. 15(1)(c): an application in progress is public administration under way; its applicant's data is "
    "kept until it is completed or rejected"
)
ISSUED_RULE = (
    "UU PDP Art. 15(1)(c): the record of an issued document is kept by the public administration for {days} days "
    "after it was issued"
)


@dataclass(frozen=True)
class RetentionDuty:
    """Why a citizen's data may not be erased yet, and from when it may be (None: when their application closes)."""

    rule: str
    until: datetime | None


@dataclass(frozen=True)
class Erased:
    """What an erasure did."""

    erasure_id: str
    erased_at: datetime
    applications: int
    readers: tuple[str, ...]
    documents: int


class NothingToErase(Exception):
    """Intake holds no personal data of that NIK (none, or already erased)."""


class ErasureDeferred(Exception):
    """A retention duty holds the data: the request is kept and carried out when the duty ends."""

    def __init__(self, erasure_id: str, duty: RetentionDuty) -> None:
        super().__init__(duty.rule)
        self.erasure_id = erasure_id
        self.duty = duty


class ErasureService:
    """Erases a citizen's personal data now, or when their retention duties end."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        hasher: KeyedHasher,
        store: DocumentStore,
        *,
        issued_retention: timedelta,
        clock: Clock = utc_now,
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._hasher = hasher
        self._store = store
        self._issued_retention = issued_retention
        self._clock = clock
        self._access = AccessLog(outbox, SOURCE, clock)

    async def request(self, nik: str, reference: str, operator: str) -> Erased:
        """Erase the data of the citizen with ``nik`` now; :class:`ErasureDeferred` (the request kept) while a
        retention duty holds it, :class:`NothingToErase` when intake holds nothing of theirs."""
        nik_hash = self._hasher.hash(nik)
        now = self._clock()
        async with self._sessions() as session, session.begin():
            repository = ErasureRepository(session)
            if not await repository.holds_anything(nik_hash):
                raise NothingToErase()
            pending = await repository.pending_request(nik_hash, for_update=True)
            request = pending or ErasureRequest(
                id=str(uuid.uuid4()), nik_hash=nik_hash, reference=reference, requested_by=operator, requested_at=now
            )
            if pending is None:
                repository.add(request)
            duty = await self._duty(repository, nik_hash, now)
            if duty is None:
                return await self._erase(session, request, operator, now)
            await self._access.record(
                session,
                operator,
                subject_id=f"citizen:{nik_hash}",
                resource=RESOURCE,
                action="erase",
                outcome="denied",
                reason=f"deferred: {duty.rule}",
            )
        raise ErasureDeferred(request.id, duty)

    async def record_refusal(self, actor: str, resource: str, reason: str) -> None:
        """Record in the audit log that ``actor`` was refused an erasure."""
        await self._access.record_alone(
            self._sessions,
            actor,
            subject_id="erasure",
            resource=resource,
            action="erase",
            outcome="denied",
            reason=reason,
        )

    async def carry_out_due(self) -> int:
        """The retention schedule: erase the citizens whose requests waited for a duty that has ended; how many."""
        done = 0
        async with self._sessions() as session:
            pending = await ErasureRepository(session).pending_ids()
        for request_id in pending:
            async with self._sessions() as session, session.begin():
                repository = ErasureRepository(session)
                request = await repository.request(request_id, for_update=True)
                if request is None or request.erased_at is not None:
                    continue
                now = self._clock()
                if await self._duty(repository, request.nik_hash, now) is None:
                    await self._erase(session, request, "service:intake-retention", now)
                    done += 1
        return done

    async def _duty(self, repository: ErasureRepository, nik_hash: str, now: datetime) -> RetentionDuty | None:
        if await repository.has_open_application(
            nik_hash, (ApplicationState.COMPLETED, ApplicationState.REJECTED, ApplicationState.CANCELLED)
        ):
            return RetentionDuty(OPEN_APPLICATION_RULE, None)
        issued = await repository.last_issued_at(nik_hash, ApplicationState.COMPLETED)
        if issued is not None and issued + self._issued_retention > now:
            return RetentionDuty(ISSUED_RULE.format(days=self._issued_retention.days), issued + self._issued_retention)
        return None

    async def _erase(self, session: AsyncSession, request: ErasureRequest, actor: str, now: datetime) -> Erased:
        repository = ErasureRepository(session)
        nik_hash = request.nik_hash
        readers = await repository.destroy_key(nik_hash)
        for key_id, reader in readers:
            await self._outbox.add_record(session, reader_topic(reader), key_id, None)
        applications, documents = await repository.empty_applications(nik_hash)
        deleted = await self._delete_documents(session, documents)
        await repository.forget_profile(nik_hash)
        request.erased_at = now
        await self._access.record(
            session,
            actor,
            subject_id=f"citizen:{nik_hash}",
            resource=RESOURCE,
            action="erase",
            outcome="granted",
            reason=f"erased on request {request.reference}",
        )
        _logger.info(
            "erasure %s: %d applications emptied, key sent to %d readers destroyed, %d documents deleted",
            request.id,
            applications,
            len(readers),
            deleted,
        )
        return Erased(request.id, now, applications, tuple(sorted(reader for _, reader in readers)), deleted)

    async def _delete_documents(self, session: AsyncSession, sha256s: set[str]) -> int:
        """Delete the documents among ``sha256s`` no application refers to any more (file, then row)."""
        documents = DocumentRepository(session)
        doomed = await documents.lock_unreferenced_among(sha256s)
        for sha256 in doomed:
            await self._store.delete(sha256)
        await documents.delete(doomed)
        return len(doomed)
