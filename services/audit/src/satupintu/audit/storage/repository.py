"""Every query audit makes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from satupintu.audit.storage.tables import AuditEntry


class AuditRepository:
    """The audit log, within the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(self, values: dict[str, Any]) -> bool:
        """Append an entry unless its ``ce_id`` is already logged; True if appended."""
        statement = insert(AuditEntry).values(**values).on_conflict_do_nothing(index_elements=["ce_id"])
        result = await self._session.execute(statement.returning(AuditEntry.__table__.c.seq))  # type: ignore[attr-defined]
        return result.scalar_one_or_none() is not None

    async def for_application(self, application_id: str) -> Sequence[AuditEntry]:
        """Every entry about ``application_id``, in audit order."""
        statement = select(AuditEntry).where(AuditEntry.application_id == application_id).order_by(col(AuditEntry.seq))
        return (await self._session.execute(statement)).scalars().all()
