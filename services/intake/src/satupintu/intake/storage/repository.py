"""Every query intake makes."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import DateTime, Table, Text, bindparam, func, or_, text
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, delete, select, update

from satupintu.intake.storage.tables import (
    ApplicationRecord,
    BillRecord,
    CitizenKeyGrant,
    CitizenKeyRecord,
    CitizenProfile,
    ConsentRecord,
    DocumentCollectionRecord,
    ErasureRequest,
    IdempotencyRecord,
    IssuedDocumentRecord,
    OneTimeCodeRecord,
    TaskStatusRecord,
    TimelineEntry,
)

ERASED_MARK = "-"
"""What an erased application shows for the applicant's initials and NIK."""


_APPLICATIONS = cast(Table, ApplicationRecord.__table__)  # type: ignore[attr-defined]
_APPLICATION_COLUMNS = frozenset(column.name for column in _APPLICATIONS.columns)
"""What a new application's row must give, computed once rather than on every submission."""


class ApplicationRepository:
    """Applications in intake's database, within the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def insert(self, row: Mapping[str, Any]) -> None:
        """Insert a new application from its row: every column of ``applications``, checked against the table."""
        missing = _APPLICATION_COLUMNS ^ set(row)
        if missing:
            raise ValueError(f"an application row must give exactly the table's columns; differs in {sorted(missing)}")
        await self._session.execute(_APPLICATIONS.insert().values(dict(row)))

    async def by_tracking_code(self, tracking_code: str, *, for_update: bool = False) -> ApplicationRecord | None:
        """The application with ``tracking_code``, if any (locked for this transaction when ``for_update``)."""
        statement = select(ApplicationRecord).where(ApplicationRecord.tracking_code == tracking_code)
        if for_update:
            statement = statement.with_for_update()
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def by_id(self, application_id: str) -> ApplicationRecord | None:
        """The application with ``application_id``, if any."""
        return await self._session.get(ApplicationRecord, application_id)

    async def of_citizen(self, nik_hash: str) -> Sequence[ApplicationRecord]:
        """Every application of the citizen whose NIK has this keyed hash, newest first."""
        statement = (
            select(ApplicationRecord)
            .where(ApplicationRecord.nik_hash == nik_hash)
            .order_by(col(ApplicationRecord.submitted_at).desc(), col(ApplicationRecord.id))
        )
        return (await self._session.execute(statement)).scalars().all()

    async def claim_idempotency_key(self, record: IdempotencyRecord) -> bool:
        """Insert the key's record unless the key is taken; True if this request owns the key.

        A concurrent request with the same key waits here until the first commits, then sees the key taken.
        """
        values: dict[str, Any] = record.model_dump()
        statement = insert(IdempotencyRecord).values(**values).on_conflict_do_nothing(index_elements=["key"])
        result = await self._session.execute(statement.returning(IdempotencyRecord.__table__.c.key))  # type: ignore[attr-defined]
        return result.scalar_one_or_none() is not None

    async def idempotency_record(self, key: str) -> IdempotencyRecord | None:
        """What an earlier request with ``key`` was answered."""
        statement = select(IdempotencyRecord).where(IdempotencyRecord.key == key)
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def answer_idempotently(self, key: str, response: dict[str, Any]) -> None:
        """Change the answer a key's later requests get, in the transaction that claimed the key."""
        statement = update(IdempotencyRecord).where(col(IdempotencyRecord.key) == key).values(response=response)
        await self._session.execute(statement)


class StatusRepository:
    """The status projection: applications' states, tasks and timelines, within the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def _locked(self) -> dict[str, ApplicationRecord]:
        """The applications locked in this transaction, by id."""
        transaction = self._session.get_transaction()
        held, locked = cast(
            "tuple[object, dict[str, ApplicationRecord]]", self._session.info.get("locked_applications", (None, {}))
        )
        if held is not transaction:  # a lock taken in an earlier transaction of this session is gone
            locked = {}
            self._session.info["locked_applications"] = (transaction, locked)
        return locked

    async def application(self, application_id: str) -> ApplicationRecord | None:
        """The application, locked for this transaction (events of one application apply one at a time); read
        once per transaction, however many of a batch's events are about it."""
        locked = self._locked()
        if application_id in locked:
            return locked[application_id]
        statement = select(ApplicationRecord).where(ApplicationRecord.id == application_id).with_for_update()
        application = (await self._session.execute(statement)).scalar_one_or_none()
        if application is not None:
            locked[application_id] = application
        return application

    async def applications(self, application_ids: Collection[str]) -> dict[str, ApplicationRecord | None]:
        """Each of ``application_ids`` (None for one intake does not know), locked for this transaction as
        :meth:`application` locks one: those not locked yet in one query (in id order)."""
        locked = self._locked()
        wanted = sorted(set(application_ids) - locked.keys())
        if wanted:
            statement = (
                select(ApplicationRecord)
                .where(col(ApplicationRecord.id).in_(wanted))
                .order_by(col(ApplicationRecord.id))
                .with_for_update()
            )
            for application in (await self._session.execute(statement)).scalars():
                locked[application.id] = application
        return {application_id: locked.get(application_id) for application_id in application_ids}

    async def task(self, task_id: str) -> TaskStatusRecord | None:
        """A task of the projection."""
        return await self._session.get(TaskStatusRecord, task_id)

    async def existing_tasks(self, task_ids: Collection[str]) -> set[str]:
        """Which of ``task_ids`` the projection has, in one query."""
        if not task_ids:
            return set()
        statement = select(TaskStatusRecord.task_id).where(col(TaskStatusRecord.task_id).in_(list(task_ids)))
        return set((await self._session.execute(statement)).scalars().all())

    def add(self, *records: TaskStatusRecord | TimelineEntry) -> None:
        """Stage new rows."""
        self._session.add_all(records)

    async def tasks(self, application_id: str) -> Sequence[TaskStatusRecord]:
        """The application's tasks, by stage and agency."""
        statement = (
            select(TaskStatusRecord)
            .where(TaskStatusRecord.application_id == application_id)
            .order_by(col(TaskStatusRecord.stage_index), col(TaskStatusRecord.agency))
        )
        return (await self._session.execute(statement)).scalars().all()

    async def timeline(self, application_id: str) -> Sequence[TimelineEntry]:
        """What happened to the application, oldest first."""
        statement = (
            select(TimelineEntry)
            .where(TimelineEntry.application_id == application_id)
            .order_by(col(TimelineEntry.at), col(TimelineEntry.id))
        )
        return (await self._session.execute(statement)).scalars().all()


class ProfileRepository:
    """Citizen profiles and one-time codes, within the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def profile(self, nik_hash: str, *, for_update: bool = False) -> CitizenProfile | None:
        """The profile of the citizen with this NIK hash."""
        statement = select(CitizenProfile).where(CitizenProfile.nik_hash == nik_hash)
        if for_update:
            statement = statement.with_for_update()
        return (await self._session.execute(statement)).scalar_one_or_none()

    def add(self, record: CitizenProfile | OneTimeCodeRecord) -> None:
        """Stage a new row."""
        self._session.add(record)

    async def open_codes(self, nik_hash: str, now: datetime, max_attempts: int) -> Sequence[OneTimeCodeRecord]:
        """The codes of a citizen that may still be tried (unused, unexpired, not tried too often), newest first,
        locked for this transaction; a handful at most, since codes per NIK are limited."""
        statement = (
            select(OneTimeCodeRecord)
            .where(
                OneTimeCodeRecord.nik_hash == nik_hash,
                col(OneTimeCodeRecord.used_at).is_(None),
                col(OneTimeCodeRecord.expires_at) > now,
                col(OneTimeCodeRecord.attempts) < max_attempts,
            )
            .order_by(col(OneTimeCodeRecord.created_at).desc())
            .limit(50)
            .with_for_update()
        )
        return (await self._session.execute(statement)).scalars().all()

    async def code(self, verification_id: str) -> OneTimeCodeRecord | None:
        """A code by its verification id, locked for this transaction."""
        statement = select(OneTimeCodeRecord).where(OneTimeCodeRecord.id == verification_id).with_for_update()
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def use_code(self, code_id: str, now: datetime) -> bool:
        """Mark a code used; False if it already was (a concurrent use)."""
        statement = (
            update(OneTimeCodeRecord)
            .where(col(OneTimeCodeRecord.id) == code_id, col(OneTimeCodeRecord.used_at).is_(None))
            .values(used_at=now)
        )
        result = await self._session.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def remove_expired_codes(self, before: datetime, batch_size: int) -> int:
        """Delete up to ``batch_size`` codes that expired before ``before``; how many went."""
        doomed = select(OneTimeCodeRecord.id).where(col(OneTimeCodeRecord.expires_at) < before).limit(batch_size)
        result = await self._session.execute(delete(OneTimeCodeRecord).where(col(OneTimeCodeRecord.id).in_(doomed)))
        return int(result.rowcount)  # type: ignore[attr-defined]


class ConsentRepository:
    """Consent per agency and field, within the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lines(self, nik_hash: str) -> dict[tuple[str, str], bool]:
        """The citizen's consent lines, (agency, field) → granted, for ``satupintu.common.consent.ConsentBook``."""
        statement = select(ConsentRecord).where(ConsentRecord.nik_hash == nik_hash)
        return {
            (row.agency, row.field): not row.withdrawn for row in (await self._session.execute(statement)).scalars()
        }

    async def store(self, nik_hash: str, changed: Mapping[tuple[str, str], bool], at: datetime) -> None:
        """Store the lines a decision changed."""
        for (agency, field), granted in changed.items():
            statement = (
                insert(ConsentRecord)
                .values(nik_hash=nik_hash, agency=agency, field=field, withdrawn=not granted, updated_at=at)
                .on_conflict_do_update(
                    index_elements=["nik_hash", "agency", "field"],
                    set_={"withdrawn": not granted, "updated_at": at},
                )
            )
            await self._session.execute(statement)


@dataclass(frozen=True)
class StoredKey:
    """A citizen's key as stored: its id and its secret, encrypted under intake's data keys."""

    key_id: str
    secret_ciphertext: str


_KEY_GRANTED = text(
    """
    WITH stored AS (SELECT key_id, secret_ciphertext FROM citizen_keys WHERE nik_hash = :nik_hash),
    granted AS (
        INSERT INTO citizen_key_grants (key_id, reader, granted_at)
        SELECT stored.key_id, reader, :granted_at FROM stored, unnest(CAST(:readers AS text[])) AS reader
        ON CONFLICT DO NOTHING
        RETURNING reader
    )
    SELECT stored.key_id, stored.secret_ciphertext, ARRAY(SELECT reader FROM granted) AS granted FROM stored
    """
).bindparams(bindparam("readers", type_=ARRAY(Text)), bindparam("granted_at", type_=DateTime(timezone=True)))


class CitizenKeyRepository:
    """Citizens' keys and whom they were sent to, within the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def key_of(self, nik_hash: str) -> CitizenKeyRecord | None:
        """The key of the citizen with this NIK hash."""
        statement = select(CitizenKeyRecord).where(CitizenKeyRecord.nik_hash == nik_hash)
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def key_granted(
        self, nik_hash: str, readers: Sequence[str], now: datetime
    ) -> tuple[StoredKey | None, list[str]]:
        """The citizen's key, if they have one, and the ``readers`` it is granted to now because they did not have
        it yet: the look-up and the grant in one statement, since every submission does both."""
        row = (
            await self._session.execute(
                _KEY_GRANTED, {"nik_hash": nik_hash, "readers": list(readers), "granted_at": now}
            )
        ).one_or_none()
        if row is None:
            return None, []
        return StoredKey(str(row.key_id), str(row.secret_ciphertext)), sorted(str(reader) for reader in row.granted)

    async def add_key(self, record: CitizenKeyRecord) -> bool:
        """Keep a new key for its citizen; False when another transaction gave them one first."""
        statement = (
            insert(CitizenKeyRecord)
            .values(record.model_dump())
            .on_conflict_do_nothing()
            .returning(CitizenKeyRecord.__table__.c.key_id)  # type: ignore[attr-defined]
        )
        return (await self._session.execute(statement)).scalar_one_or_none() is not None

    async def grant(self, key_id: str, readers: Sequence[str], now: datetime) -> list[str]:
        """Record that ``readers`` get the key; the ones that did not have it yet."""
        if not readers:
            return []
        statement = (
            insert(CitizenKeyGrant)
            .values([{"key_id": key_id, "reader": reader, "granted_at": now} for reader in readers])
            .on_conflict_do_nothing()
            .returning(CitizenKeyGrant.__table__.c.reader)  # type: ignore[attr-defined]
        )
        return sorted(str(reader) for reader in (await self._session.execute(statement)).scalars())


class ErasureRepository:
    """What an erasure reads and empties, and the requests waiting for a retention duty to end."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, request: ErasureRequest) -> None:
        """Stage a new erasure request."""
        self._session.add(request)

    async def request(self, request_id: str, *, for_update: bool = False) -> ErasureRequest | None:
        """The erasure request ``request_id``."""
        return await self._session.get(ErasureRequest, request_id, with_for_update=for_update)

    async def pending_request(self, nik_hash: str, *, for_update: bool = False) -> ErasureRequest | None:
        """The citizen's request not yet carried out, if any."""
        statement = select(ErasureRequest).where(
            ErasureRequest.nik_hash == nik_hash, col(ErasureRequest.erased_at).is_(None)
        )
        if for_update:
            statement = statement.with_for_update()
        return (await self._session.execute(statement)).scalars().first()

    async def pending_ids(self) -> list[str]:
        """Every request not yet carried out, oldest first."""
        statement = (
            select(col(ErasureRequest.id))
            .where(col(ErasureRequest.erased_at).is_(None))
            .order_by(col(ErasureRequest.requested_at))
        )
        return list((await self._session.execute(statement)).scalars())

    async def holds_anything(self, nik_hash: str) -> bool:
        """Whether intake keeps personal data of the citizen: a key, a profile, or an application not emptied."""
        for statement in (
            select(CitizenKeyRecord.key_id).where(CitizenKeyRecord.nik_hash == nik_hash),
            select(CitizenProfile.nik_hash).where(CitizenProfile.nik_hash == nik_hash),
            select(ApplicationRecord.id).where(
                ApplicationRecord.nik_hash == nik_hash, ApplicationRecord.nik_ciphertext != ""
            ),
        ):
            if (await self._session.execute(statement.limit(1))).first() is not None:
                return True
        return False

    async def has_open_application(self, nik_hash: str, closed: Sequence[str]) -> bool:
        """Whether the citizen has an application in none of the ``closed`` states."""
        statement = select(ApplicationRecord.id).where(
            ApplicationRecord.nik_hash == nik_hash, col(ApplicationRecord.status).not_in(list(closed))
        )
        return (await self._session.execute(statement.limit(1))).first() is not None

    async def last_issued_at(self, nik_hash: str, issued: str) -> datetime | None:
        """When the citizen's latest application in state ``issued`` got there."""
        statement = select(func.max(ApplicationRecord.updated_at)).where(
            ApplicationRecord.nik_hash == nik_hash, ApplicationRecord.status == issued
        )
        return cast(datetime | None, await self._session.scalar(statement))

    async def destroy_key(self, nik_hash: str) -> list[tuple[str, str]]:
        """Delete the citizen's key and the record of whom it went to; (key id, reader) of each of those."""
        key = (
            await self._session.execute(select(CitizenKeyRecord).where(CitizenKeyRecord.nik_hash == nik_hash))
        ).scalar_one_or_none()
        if key is None:
            return []
        grants = await self._session.execute(
            delete(CitizenKeyGrant)
            .where(col(CitizenKeyGrant.key_id) == key.key_id)
            .returning(col(CitizenKeyGrant.reader))
        )
        readers = sorted(str(reader) for reader in grants.scalars())
        await self._session.execute(delete(CitizenKeyRecord).where(col(CitizenKeyRecord.key_id) == key.key_id))
        return [(key.key_id, reader) for reader in readers]

    async def empty_applications(self, nik_hash: str) -> tuple[int, set[str]]:
        """Empty the applicant and personal fields of each of the citizen's applications and forget their documents;
        how many applications, and the documents they referred to."""
        rows = (
            (await self._session.execute(select(ApplicationRecord).where(ApplicationRecord.nik_hash == nik_hash)))
            .scalars()
            .all()
        )
        documents: set[str] = set()
        for row in rows:
            documents |= {str(item["sha256"]) for item in row.documents if "sha256" in item}
            row.nik_ciphertext = row.name_ciphertext = ""
            row.email_ciphertext = row.phone_ciphertext = row.personal_data_ciphertext = None
            row.name_initials = row.nik_masked = ERASED_MARK
            row.documents = []
        return len(rows), documents

    async def forget_profile(self, nik_hash: str) -> None:
        """Delete the citizen's profile, one-time codes and consents."""
        for table in (CitizenProfile, OneTimeCodeRecord, ConsentRecord):
            await self._session.execute(delete(table).where(col(table.nik_hash) == nik_hash))


class IssuedDocumentRepository:
    """The documents agencies issued, as intake keeps them for their verification page."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record_issue(self, document: IssuedDocumentRecord) -> bool:
        """Record an issued document unless one with its id is recorded already (kept as it is: an issue is
        announced once, and a repeat changes nothing); whether it was new."""
        values = document.model_dump()
        statement = (
            insert(IssuedDocumentRecord)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["document_id"])
            .returning(col(IssuedDocumentRecord.document_id))
        )
        return (await self._session.execute(statement)).first() is not None

    async def record_revocation(self, document_id: str, reason: str, revoked_at: datetime) -> bool:
        """Mark the document revoked with ``reason``, unless it is already (the first revocation stands); whether
        a recorded document was revoked now."""
        statement = (
            update(IssuedDocumentRecord)
            .where(col(IssuedDocumentRecord.document_id) == document_id)
            .where(col(IssuedDocumentRecord.revoked_at).is_(None))
            .values(revoked_at=revoked_at, revocation_reason=reason)
            .returning(col(IssuedDocumentRecord.document_id))
        )
        return (await self._session.execute(statement)).first() is not None

    async def by_id(self, document_id: str) -> IssuedDocumentRecord | None:
        """The issued document with ``document_id``, if intake recorded one."""
        return await self._session.get(IssuedDocumentRecord, document_id)

    async def of_application(self, application_id: str) -> list[IssuedDocumentRecord]:
        """The documents issued for the application, oldest first."""
        statement = (
            select(IssuedDocumentRecord)
            .where(col(IssuedDocumentRecord.application_id) == application_id)
            .order_by(col(IssuedDocumentRecord.issued_at), col(IssuedDocumentRecord.document_id))
        )
        return list((await self._session.execute(statement)).scalars().all())

    async def lock_pdfs_not_sealed_with(self, key_id: str, limit: int, besides: Collection[str] = ()) -> list[str]:
        """Up to ``limit`` issued PDFs (by hash) not known to be sealed with ``key_id``, but those in ``besides``,
        locked; rows another transaction holds are skipped."""
        statement = (
            select(col(IssuedDocumentRecord.sha256))
            .where(or_(col(IssuedDocumentRecord.key_id).is_(None), col(IssuedDocumentRecord.key_id) != key_id))
            .order_by(col(IssuedDocumentRecord.recorded_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if besides:
            statement = statement.where(col(IssuedDocumentRecord.sha256).not_in(besides))
        return list((await self._session.execute(statement)).scalars())

    async def set_pdf_key(self, sha256: str, key_id: str) -> None:
        """Record the key the issued PDF ``sha256`` is now sealed with."""
        await self._session.execute(
            update(IssuedDocumentRecord)
            .where(col(IssuedDocumentRecord.sha256) == sha256)
            .values(key_id=key_id)
            .execution_options(synchronize_session=False)
        )

    async def record_collection(self, collection: DocumentCollectionRecord) -> bool:
        """Record that the document's original was collected, unless a collection of it is recorded already (the
        first stands: an original is handed over once); whether it was new. The issue need not be recorded yet."""
        statement = (
            insert(DocumentCollectionRecord)
            .values(**collection.model_dump())
            .on_conflict_do_nothing(index_elements=["document_id"])
            .returning(col(DocumentCollectionRecord.document_id))
        )
        return (await self._session.execute(statement)).first() is not None

    async def collections(self, application_id: str) -> dict[str, DocumentCollectionRecord]:
        """The collections recorded for the application's documents, by document id."""
        statement = select(DocumentCollectionRecord).where(
            col(DocumentCollectionRecord.application_id) == application_id
        )
        found = (await self._session.execute(statement)).scalars().all()
        return {collection.document_id: collection for collection in found}


class BillRepository:
    """Applications' bills, as the tracking page shows them, within the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record_bill(self, bill: BillRecord) -> bool:
        """Record a bill unless one with its id is recorded already (a repeat changes nothing); whether it was new."""
        statement = (
            insert(BillRecord)
            .values(**bill.model_dump())
            .on_conflict_do_nothing(index_elements=["bill_id"])
            .returning(col(BillRecord.bill_id))
        )
        return (await self._session.execute(statement)).first() is not None

    async def bill(self, bill_id: str) -> BillRecord | None:
        """The bill ``bill_id``, locked for this transaction (its events apply one at a time)."""
        statement = select(BillRecord).where(col(BillRecord.bill_id) == bill_id).with_for_update()
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def latest_of(self, application_id: str) -> BillRecord | None:
        """The application's latest bill, if it has one."""
        statement = (
            select(BillRecord)
            .where(col(BillRecord.application_id) == application_id)
            .order_by(col(BillRecord.billed_at).desc(), col(BillRecord.bill_id))
            .limit(1)
        )
        return (await self._session.execute(statement)).scalars().first()
