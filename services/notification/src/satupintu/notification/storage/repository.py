"""Every query notification makes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, delete, func, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from satupintu.notification.domain import DeliveryStatus
from satupintu.notification.storage.tables import (
    ComplaintContactRecord,
    ContactRecord,
    DeliveryAttemptRecord,
    DeliveryRecord,
)

ERASED = "(dihapus / erased)"
"""What an erased delivery shows for its recipient, and why a pending one failed."""


class DeliveryRepository:
    """Contacts, deliveries and their attempts, within the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_contacts(self, contacts: Sequence[ContactRecord]) -> None:
        """Keep applicants' contact details in one statement, each unless its application's are already kept."""
        if not contacts:
            return
        statement = insert(ContactRecord).on_conflict_do_nothing(index_elements=["application_id"])
        await self._session.execute(statement, [contact.model_dump() for contact in contacts])

    async def contact(self, application_id: str) -> ContactRecord | None:
        """The contact details kept for ``application_id``, if any."""
        return await self._session.get(ContactRecord, application_id)

    async def add_complaint_contact(self, contact: ComplaintContactRecord) -> None:
        """Keep where a complainant is answered, unless it is kept already (a redelivered ``complaint.filed``)."""
        statement = (
            insert(ComplaintContactRecord)
            .values(**contact.model_dump())
            .on_conflict_do_nothing(index_elements=["complaint_id"])
        )
        await self._session.execute(statement)

    async def complaint_contact(self, complaint_id: str) -> ComplaintContactRecord | None:
        """Where the complainant of ``complaint_id`` is answered, if they gave a contact."""
        return await self._session.get(ComplaintContactRecord, complaint_id)

    async def add_deliveries(self, deliveries: Sequence[DeliveryRecord]) -> set[tuple[str, str]]:
        """Stage new deliveries in one statement, each unless one exists for its event and channel; the ``(cause
        event id, channel)`` of those added."""
        if not deliveries:
            return set()
        statement = (
            insert(DeliveryRecord)
            .on_conflict_do_nothing(index_elements=["cause_event_id", "channel"])
            .returning(col(DeliveryRecord.cause_event_id), col(DeliveryRecord.channel))
        )
        rows = await self._session.execute(statement, [delivery.model_dump() for delivery in deliveries])
        return {(row.cause_event_id, row.channel) for row in rows}

    async def erase(self, key_id: str) -> tuple[int, int]:
        """Forget what only the citizen key ``key_id`` sealed (an erasure): their contacts are deleted, their
        deliveries keep only what operators see (no address, no content; one still pending fails); how many of each."""
        contacts = await self._session.execute(delete(ContactRecord).where(col(ContactRecord.key_id) == key_id))
        deliveries = await self._session.execute(
            update(DeliveryRecord)
            .where(col(DeliveryRecord.key_id) == key_id)
            .values(
                recipient_ciphertext="",
                content_ciphertext="",
                recipient_masked=ERASED,
                status=case(
                    (col(DeliveryRecord.status) == DeliveryStatus.PENDING.value, DeliveryStatus.FAILED.value),
                    else_=col(DeliveryRecord.status),
                ),
                last_error=case(
                    (col(DeliveryRecord.status) == DeliveryStatus.PENDING.value, ERASED),
                    else_=col(DeliveryRecord.last_error),
                ),
            )
        )
        return contacts.rowcount, deliveries.rowcount  # type: ignore[attr-defined]

    async def claim_due(self, kind: str, priority: int, now: datetime, limit: int) -> Sequence[DeliveryRecord]:
        """Up to ``limit`` pending deliveries of channel ``kind`` and ``priority`` due by ``now``, the most overdue
        first, locked; rows other dispatchers hold are skipped, not waited for (index ``ix_deliveries_pending``)."""
        statement = (
            select(DeliveryRecord)
            .where(
                DeliveryRecord.kind == kind,
                DeliveryRecord.priority == priority,
                DeliveryRecord.status == DeliveryStatus.PENDING.value,
                col(DeliveryRecord.next_attempt_at) <= now,
            )
            .order_by(col(DeliveryRecord.next_attempt_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self._session.execute(statement)).scalars().all()

    async def pending_by_kind(self) -> dict[str, tuple[int, datetime]]:
        """Per channel kind with pending deliveries: how many, and when the most overdue one was due (index
        ``ix_deliveries_pending``)."""
        statement = (
            select(DeliveryRecord.kind, func.count(), func.min(DeliveryRecord.next_attempt_at))
            .where(DeliveryRecord.status == DeliveryStatus.PENDING.value)
            .group_by(col(DeliveryRecord.kind))
        )
        rows = (await self._session.execute(statement)).all()
        return {kind: (count, due) for kind, count, due in rows}

    async def deliveries_for_update(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], DeliveryRecord]:
        """The deliveries with the given ``(cause event id, channel)`` keys, locked until the transaction ends (in
        key order, so two recorders never deadlock)."""
        if not keys:
            return {}
        statement = (
            select(DeliveryRecord)
            .where(tuple_(col(DeliveryRecord.cause_event_id), col(DeliveryRecord.channel)).in_(list(keys)))
            .order_by(col(DeliveryRecord.cause_event_id), col(DeliveryRecord.channel))
            .with_for_update()
        )
        rows = (await self._session.execute(statement)).scalars().all()
        return {(row.cause_event_id, row.channel): row for row in rows}

    def add_attempt(self, attempt: DeliveryAttemptRecord) -> None:
        """Stage the start of an attempt."""
        self._session.add(attempt)

    async def attempts_numbered(self, keys: Sequence[tuple[str, int]]) -> dict[tuple[str, int], DeliveryAttemptRecord]:
        """The attempts with the given ``(message id, number)`` keys."""
        if not keys:
            return {}
        statement = select(DeliveryAttemptRecord).where(
            tuple_(col(DeliveryAttemptRecord.message_id), col(DeliveryAttemptRecord.number)).in_(list(keys))
        )
        rows = (await self._session.execute(statement)).scalars().all()
        return {(row.message_id, row.number): row for row in rows}

    async def for_application(self, application_id: str) -> Sequence[DeliveryRecord]:
        """Deliveries about ``application_id``, oldest first."""
        statement = (
            select(DeliveryRecord)
            .where(DeliveryRecord.application_id == application_id)
            .order_by(col(DeliveryRecord.created_at), col(DeliveryRecord.channel))
        )
        return (await self._session.execute(statement)).scalars().all()

    async def attempts_of(self, message_ids: Sequence[str]) -> Sequence[DeliveryAttemptRecord]:
        """The attempts of the given messages, in order."""
        if not message_ids:
            return []
        statement = (
            select(DeliveryAttemptRecord)
            .where(col(DeliveryAttemptRecord.message_id).in_(message_ids))
            .order_by(col(DeliveryAttemptRecord.message_id), col(DeliveryAttemptRecord.number))
        )
        return (await self._session.execute(statement)).scalars().all()
