"""Every query payment makes, in one place: bills by id, by application and by billing code (what gateway callbacks
and counter payments look up), and the open bills the expiry watch claims."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from satupintu.payment.domain import BillStatus
from satupintu.payment.storage.tables import BillRecord


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
