"""Every query intake makes."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from satupintu.intake.storage.tables import ApplicationRecord, IdempotencyRecord


class ApplicationRepository:
    """Applications in intake's database, within the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, application: ApplicationRecord) -> None:
        """Stage a new application for insertion."""
        self._session.add(application)

    async def by_tracking_code(self, tracking_code: str) -> ApplicationRecord | None:
        """The application with ``tracking_code``, if any."""
        statement = select(ApplicationRecord).where(ApplicationRecord.tracking_code == tracking_code)
        return (await self._session.execute(statement)).scalar_one_or_none()

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
