"""Every query payment makes, in one place: bills by id, by application and by billing code (what gateway callbacks
and counter payments look up), the open bills the expiry watch claims, the confirmations of payments, and the
day's figures reconciliation reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from satupintu.payment.domain import BillStatus, ConfirmationOutcome
from satupintu.payment.storage.tables import BillRecord, ConfirmationRecord


@dataclass(frozen=True)
class Tally:
    """How many bills and how many rupiah, for one group (a channel, or an agency and fee kind)."""

    group: tuple[str, ...]
    count: int
    amount: int


class BillRepository:
    """The bills of one unit of work."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, bill: BillRecord) -> bool:
        """Keep ``bill``; False (nothing changed) when its application already has a bill for its service."""
        values = bill.model_dump()
        statement = (
            insert(BillRecord)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["bill_id"])
            .returning(col(BillRecord.bill_id))
        )
        return (await self._session.execute(statement)).scalar_one_or_none() is not None

    async def by_id(self, bill_id: str, *, for_update: bool = False) -> BillRecord | None:
        """The bill ``bill_id``; locked for this transaction with ``for_update``."""
        statement = select(BillRecord).where(BillRecord.bill_id == bill_id)
        if for_update:
            statement = statement.with_for_update()
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def by_billing_code(self, billing_code: str, *, for_update: bool = False) -> BillRecord | None:
        """The bill paid with ``billing_code`` (what a gateway's callback or a counter payment names)."""
        statement = select(BillRecord).where(BillRecord.billing_code == billing_code)
        if for_update:
            statement = statement.with_for_update()
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def of_application(self, application_id: str, *, for_update: bool = False) -> BillRecord | None:
        """The bill of ``application_id`` (an application has at most one: the fee of its service)."""
        statement = select(BillRecord).where(BillRecord.application_id == application_id)
        if for_update:
            statement = statement.with_for_update()
        return (await self._session.execute(statement.limit(1))).scalar_one_or_none()

    async def due_reminders(self, now: datetime, lead: timedelta, limit: int) -> Sequence[BillRecord]:
        """Open bills expiring within ``lead`` of ``now`` (not yet expired) whose citizen was not reminded, locked
        and skipped by another replica's watch."""
        statement = (
            select(BillRecord)
            .where(
                BillRecord.status == BillStatus.OPEN,
                col(BillRecord.reminded_at).is_(None),
                col(BillRecord.expires_at) > now,
                col(BillRecord.expires_at) <= now + lead,
            )
            .order_by(col(BillRecord.expires_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self._session.execute(statement)).scalars().all()

    async def due_expiries(self, now: datetime, limit: int) -> Sequence[BillRecord]:
        """Open bills past their expiry, locked and skipped by another replica's watch."""
        statement = (
            select(BillRecord)
            .where(BillRecord.status == BillStatus.OPEN, col(BillRecord.expires_at) <= now)
            .order_by(col(BillRecord.expires_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self._session.execute(statement)).scalars().all()

    async def issued_between(self, start: datetime, end: datetime) -> Sequence[Tally]:
        """Bills issued in ``[start, end)``, by agency and fee kind."""
        return await self._tally(
            (col(BillRecord.agency), col(BillRecord.kind)),
            col(BillRecord.billed_at) >= start,
            col(BillRecord.billed_at) < end,
        )

    async def paid_between(self, start: datetime, end: datetime, by_channel: bool) -> Sequence[Tally]:
        """Bills paid in ``[start, end)`` (when the money moved), by channel or by agency and fee kind."""
        groups = (col(BillRecord.channel),) if by_channel else (col(BillRecord.agency), col(BillRecord.kind))
        return await self._tally(
            groups,
            BillRecord.status == BillStatus.PAID,
            col(BillRecord.paid_at) >= start,
            col(BillRecord.paid_at) < end,
        )

    async def settled_between(self, status: BillStatus, start: datetime, end: datetime) -> Sequence[Tally]:
        """Bills that became ``status`` (expired, cancelled) in ``[start, end)``, by agency and fee kind."""
        return await self._tally(
            (col(BillRecord.agency), col(BillRecord.kind)),
            BillRecord.status == status,
            col(BillRecord.settled_at) >= start,
            col(BillRecord.settled_at) < end,
        )

    async def _tally(self, groups: tuple[object, ...], *conditions: object) -> Sequence[Tally]:
        statement = (
            select(*groups, func.count(), func.coalesce(func.sum(BillRecord.amount), 0))  # type: ignore[call-overload]
            .where(*conditions)
            .group_by(*groups)
            .order_by(*groups)
        )
        rows = (await self._session.execute(statement)).all()
        return [Tally(tuple(str(value) for value in row[:-2]), int(row[-2]), int(row[-1])) for row in rows]


class ConfirmationRepository:
    """The confirmations of payments of one unit of work."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, confirmation: ConfirmationRecord) -> bool:
        """Keep ``confirmation``; False (nothing changed) when its channel, source and reference were kept already."""
        statement = (
            insert(ConfirmationRecord)
            .values(**confirmation.model_dump())
            .on_conflict_do_nothing(constraint="uq_payment_confirmations_reference")
            .returning(col(ConfirmationRecord.confirmation_id))
        )
        return (await self._session.execute(statement)).scalar_one_or_none() is not None

    async def by_reference(self, channel: str, source: str, reference: str) -> ConfirmationRecord | None:
        """The confirmation of ``reference`` from ``source`` on ``channel``, if it was kept."""
        statement = select(ConfirmationRecord).where(
            ConfirmationRecord.channel == channel,
            ConfirmationRecord.source == source,
            ConfirmationRecord.reference == reference,
        )
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def unmatched_between(self, start: datetime, end: datetime) -> Sequence[ConfirmationRecord]:
        """The payments in ``[start, end)`` (when the money moved) that matched no open bill, oldest first."""
        statement = (
            select(ConfirmationRecord)
            .where(
                ConfirmationRecord.outcome == ConfirmationOutcome.UNMATCHED,
                col(ConfirmationRecord.paid_at) >= start,
                col(ConfirmationRecord.paid_at) < end,
            )
            .order_by(col(ConfirmationRecord.paid_at), col(ConfirmationRecord.recorded_at))
        )
        return (await self._session.execute(statement)).scalars().all()
