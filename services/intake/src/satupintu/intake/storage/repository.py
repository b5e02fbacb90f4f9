"""Every query intake makes."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from satupintu.intake.storage.tables import ApplicationRecord


class ApplicationRepository:
    """Applications in intake's database, within the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, application: ApplicationRecord) -> None:
        """Stage a new application for insertion."""
        self._session.add(application)

    async def by_tracking_code(self, tracking_code: str) -> ApplicationRecord | None:
        """The application with ``tracking_code``, if any."""
        result = await self._session.execute(
            select(ApplicationRecord).where(ApplicationRecord.tracking_code == tracking_code)
        )
        return result.scalar_one_or_none()
