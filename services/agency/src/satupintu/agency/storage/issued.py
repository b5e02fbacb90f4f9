"""Every query on the documents the desk issued and their numbering."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from satupintu.agency.storage.tables import DocumentCounter, IssuedDocument

_COUNTERS = DocumentCounter.__table__  # type: ignore[attr-defined]
_NEW_COUNTER = insert(_COUNTERS).values(last_serial=1)
_NEXT_SERIAL = _NEW_COUNTER.on_conflict_do_update(
    index_elements=["agency", "year"], set_={"last_serial": _COUNTERS.c.last_serial + 1}
).returning(_COUNTERS.c.last_serial)


class IssuedDocumentRepository:
    """Issued documents and their counters, within the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def next_serial(self, agency: str, year: int) -> int:
        """The next serial of ``agency`` in ``year``; its counter row stays locked until the transaction ends, so a
        rollback gives the serial back and concurrent issues wait their turn (no gaps, no repeats)."""
        result = await self._session.execute(_NEXT_SERIAL.values(agency=agency, year=year))
        return int(result.scalar_one())

    async def for_application(self, application_id: str, service_code: str) -> IssuedDocument | None:
        """The document issued for the application, if any."""
        statement = select(IssuedDocument).where(
            IssuedDocument.application_id == application_id, IssuedDocument.service_code == service_code
        )
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def get(self, document_id: str) -> IssuedDocument | None:
        """The issued document ``document_id``, if any."""
        return await self._session.get(IssuedDocument, document_id)

    def add(self, document: IssuedDocument) -> None:
        """Stage a newly issued document."""
        self._session.add(document)

    async def of_agency(self, agency: str, limit: int = 100) -> Sequence[IssuedDocument]:
        """The agency's latest issued documents, newest first."""
        statement = (
            select(IssuedDocument)
            .where(IssuedDocument.agency == agency)
            .order_by(col(IssuedDocument.issued_at).desc())
            .limit(limit)
        )
        return (await self._session.execute(statement)).scalars().all()

    async def revoke(self, document_id: str, agency: str, *, reason: str, actor: str, at: datetime) -> bool:
        """Mark the agency's document revoked, unless it was already; whether this did."""
        result = await self._session.execute(
            update(IssuedDocument)
            .where(
                col(IssuedDocument.document_id) == document_id,
                col(IssuedDocument.agency) == agency,
                col(IssuedDocument.revoked_at).is_(None),
            )
            .values(revoked_at=at, revoked_by=actor, revocation_reason=reason)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
