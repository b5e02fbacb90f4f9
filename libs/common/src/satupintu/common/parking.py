"""Parked events: a record whose handler keeps failing with something that passes by itself (a network or service
outage the database outlives) is set aside in the consumer's database instead of holding its partition, and
retried later with growing delays (docs/decisions/0003-consuming-with-inbox-and-dead-letters.md).

Per-key order: while an event of a key is parked, every later event of that key is parked behind it, in the same
transaction that would have applied it, and the retrier only ever takes the oldest parked event of a key. So the
events of one application are applied in the order they were written, however long one of them waits.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TypeAlias

from aiokafka import ConsumerRecord
from sqlalchemy import BigInteger, Column, DateTime, Identity, Index, Integer, LargeBinary, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

Record: TypeAlias = ConsumerRecord[bytes, bytes]


class ParkedEvent(SQLModel, table=True):
    """A record a consumer set aside to retry later: the record as it came, and when to try it next."""

    __tablename__ = "parked_events"
    __table_args__ = (
        Index("ix_parked_events_key", "consumer", "record_key", "id"),
        Index("ix_parked_events_position", "consumer", "topic", "partition", "record_offset", unique=True),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True))
    consumer: str = Field(description="The consumer that parked it (and retries it).")
    topic: str = Field(description="Full topic name the record came from.")
    partition: int = Field(sa_column=Column(Integer, nullable=False))
    record_offset: int = Field(sa_column=Column(BigInteger, nullable=False))
    record_key: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    headers: list[list[str]] = Field(sa_column=Column(JSONB, nullable=False), description="[name, base64 value].")
    value: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    timestamp_ms: int = Field(sa_column=Column(BigInteger, nullable=False))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    next_attempt_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    last_error: str = Field(sa_column=Column(Text, nullable=False))
    parked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), server_default=func.now(), nullable=False)
    )

    def record(self) -> Record:
        """The record as the consumer received it."""
        headers = [(name, base64.b64decode(value)) for name, value in self.headers]
        return ConsumerRecord(
            topic=self.topic,
            partition=self.partition,
            offset=self.record_offset,
            timestamp=self.timestamp_ms,
            timestamp_type=0,
            key=self.record_key,
            value=self.value,
            checksum=None,
            serialized_key_size=len(self.record_key or b""),
            serialized_value_size=len(self.value or b""),
            headers=headers,
        )


async def park(session: AsyncSession, consumer: str, record: Record, reason: str, retry_at: datetime) -> None:
    """Set ``record`` aside for ``consumer`` (once: a record already parked stays as it is)."""
    statement = (
        insert(ParkedEvent)
        .values(
            consumer=consumer,
            topic=record.topic,
            partition=record.partition,
            record_offset=record.offset,
            record_key=record.key,
            headers=[[name, base64.b64encode(value or b"").decode()] for name, value in record.headers or ()],
            value=record.value,
            timestamp_ms=record.timestamp or 0,
            next_attempt_at=retry_at,
            last_error=reason[:1000],
        )
        .on_conflict_do_nothing()
    )
    await session.execute(statement)


async def parked_keys(session: AsyncSession, consumer: str, keys: Iterable[bytes | None]) -> set[bytes | None]:
    """Which of ``keys`` have an event of ``consumer`` parked (their later events must wait behind it)."""
    wanted = list(set(keys))
    if not wanted:
        return set()
    found = await session.execute(
        text(
            "SELECT DISTINCT record_key FROM parked_events WHERE consumer = :consumer "
            "AND (record_key = ANY(:keys) OR (record_key IS NULL AND :any_null))"
        ),
        {"consumer": consumer, "keys": [key for key in wanted if key is not None], "any_null": None in wanted},
    )
    return {bytes(key) if key is not None else None for key in found.scalars()}


async def next_due(session: AsyncSession, consumer: str) -> ParkedEvent | None:
    """The oldest due parked event of a key whose earlier events are all applied, locked for this transaction
    (another instance's retrier skips it)."""
    found = await session.execute(
        text(
            "SELECT * FROM parked_events AS p WHERE p.consumer = :consumer AND p.next_attempt_at <= now() "
            "AND NOT EXISTS (SELECT 1 FROM parked_events AS q WHERE q.consumer = p.consumer "
            "AND q.record_key IS NOT DISTINCT FROM p.record_key AND q.id < p.id) "
            "ORDER BY p.id LIMIT 1 FOR UPDATE SKIP LOCKED"
        ),
        {"consumer": consumer},
    )
    row = found.mappings().one_or_none()
    return ParkedEvent.model_validate(dict(row)) if row is not None else None


async def unpark(session: AsyncSession, parked: ParkedEvent) -> None:
    """Remove a parked event that was applied or dead-lettered."""
    await session.execute(text("DELETE FROM parked_events WHERE id = :id"), {"id": parked.id})


async def postpone(session: AsyncSession, parked: ParkedEvent, delay: timedelta, reason: str) -> None:
    """Count a failed retry and schedule the next one after ``delay``."""
    await session.execute(
        text(
            "UPDATE parked_events SET attempts = attempts + 1, next_attempt_at = now() + :delay, "
            "last_error = :reason WHERE id = :id"
        ),
        {"id": parked.id, "delay": delay, "reason": reason[:1000]},
    )


async def parked_counts(session: AsyncSession, consumers: Sequence[str]) -> dict[str, int]:
    """How many events each consumer has parked."""
    found = await session.execute(
        text("SELECT consumer, count(*) FROM parked_events WHERE consumer = ANY(:consumers) GROUP BY consumer"),
        {"consumers": list(consumers)},
    )
    counts = dict.fromkeys(consumers, 0)
    counts.update({str(consumer): int(count) for consumer, count in found.all()})
    return counts
