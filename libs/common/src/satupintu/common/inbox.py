"""The idempotent inbox: a consumer records each processed ``ce_id`` in the same transaction as its effects, so a
redelivered event changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel


class InboxEntry(SQLModel, table=True):
    """An event a consumer has processed."""

    __tablename__ = "inbox"

    consumer: str = Field(primary_key=True, description="The consumer (service and handler group).")
    event_id: str = Field(primary_key=True, description="The event's `ce_id`.")
    event_type: str = Field(description="The event's `ce_type`.")
    processed_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), server_default=func.now(), nullable=False)
    )


async def record_once(session: AsyncSession, consumer: str, event_id: str, event_type: str) -> bool:
    """Record the event as processed by ``consumer``; False when it already was (a redelivery)."""
    statement = (
        insert(InboxEntry)
        .values(consumer=consumer, event_id=event_id, event_type=event_type)
        .on_conflict_do_nothing()
        .returning(InboxEntry.__table__.c.event_id)  # type: ignore[attr-defined]
    )
    result = await session.execute(statement)
    return result.scalar_one_or_none() is not None


async def record_new(session: AsyncSession, consumer: str, events: list[tuple[str, str]]) -> set[str]:
    """Record ``(event_id, event_type)`` pairs as processed by ``consumer`` in one statement; the ids that were not
    recorded before (the others are redeliveries)."""
    if not events:
        return set()
    rows = [{"consumer": consumer, "event_id": event_id, "event_type": event_type} for event_id, event_type in events]
    statement = (
        insert(InboxEntry).values(rows).on_conflict_do_nothing().returning(InboxEntry.__table__.c.event_id)  # type: ignore[attr-defined]
    )
    return {str(event_id) for event_id in (await session.execute(statement)).scalars()}
