"""Every query notification makes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from satupintu.notification.storage.tables import DeliveryRecord


class DeliveryRepository:
    """Deliveries, within the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, delivery: DeliveryRecord) -> None:
        """Stage a new delivery."""
        self._session.add(delivery)

    async def for_application(self, application_id: str) -> Sequence[DeliveryRecord]:
        """Deliveries about ``application_id``, oldest first."""
        statement = (
            select(DeliveryRecord)
            .where(DeliveryRecord.application_id == application_id)
            .order_by(col(DeliveryRecord.created_at))
        )
        return (await self._session.execute(statement)).scalars().all()
