"""The transactional outbox: events are written in the same PostgreSQL transaction as the state change that
causes them, and a relay publishes them to Kafka afterwards, in order, at least once.

One relay per database is active at a time (it holds a PostgreSQL advisory lock); others stand by, so a second
instance adds availability without reordering or double publishing. The relay is woken by ``LISTEN/NOTIFY`` and
polls as a fallback. Why our own and not ``faststream-outbox``: docs/decisions/0002-transactional-outbox.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

import asyncpg
from faststream.kafka import KafkaBroker
from sqlalchemy import BigInteger, Column, DateTime, Identity, LargeBinary, func, text
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from satupintu.common.faults import fault_point
from satupintu.common.metrics import ServiceMetrics
from satupintu.common.settings import KafkaSettings
from satupintu.contract.envelope import Event, to_record

NOTIFY_CHANNEL = "satupintu_outbox"
TOMBSTONE_HEADER = "satupintu_tombstone"
"""Marks an outbox row whose record the relay publishes with no value: a tombstone for a compacted topic."""
RELAY_LOCK_KEY = 0x5A7E_0B0C  # one active relay per database
_logger = logging.getLogger(__name__)


class OutboxMessage(SQLModel, table=True):
    """An event committed with its cause and not yet published."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True))
    topic: str = Field(description="Full topic name on the cluster.")
    key: str = Field(description="Kafka key (application id).")
    event_id: str = Field(description="The event's `ce_id`.")
    event_type: str = Field(description="The event's `ce_type`.")
    headers: dict[str, str] = Field(sa_column=Column(JSONB, nullable=False))
    value: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), server_default=func.now(), nullable=False)
    )


class Outbox:
    """Adds events to the caller's transaction; they are published after it commits."""

    def __init__(self, kafka: KafkaSettings) -> None:
        self._kafka = kafka
        self.local_relay: OutboxRelay | None = None
        """The relay of this process, if it has one: while it leads, a commit wakes it in process (no NOTIFY)."""

    def topic_for(self, event: Event[Any]) -> str:
        """The full topic name an event goes to (per-agency topics use the payload's agency)."""
        payload = event.payload
        agency = getattr(payload, "agency", None) if payload.topic.per_agency else None
        return self._kafka.topic_name(payload.topic.name_for(agency))

    async def add(self, session: AsyncSession, *events: Event[Any], wake_relay: bool = True) -> None:
        """Write ``events`` into the session's transaction and (unless the caller does it once for several adds,
        with :meth:`wake_relay`) wake the relay when it commits."""
        for event in events:
            record = to_record(event)
            session.add(
                OutboxMessage(
                    topic=self.topic_for(event),
                    key=event.key,
                    event_id=event.id,
                    event_type=event.type,
                    headers={name: value.decode() for name, value in record.headers.items()},
                    value=record.value,
                )
            )
        if events and wake_relay:
            await self.wake_relay(session)

    async def add_record(
        self, session: AsyncSession, logical_topic: str, key: str, value: bytes | None, *, wake_relay: bool = False
    ) -> None:
        """Write a plain record (not an event: a key topic's wrapped key, or with ``value`` None its tombstone)
        into the session's transaction; published after it commits, in order with the events around it."""
        session.add(
            OutboxMessage(
                topic=self._kafka.topic_name(logical_topic),
                key=key,
                event_id="",
                event_type="",
                headers={TOMBSTONE_HEADER: "true"} if value is None else {},
                value=value or b"",
            )
        )
        if wake_relay:
            await self.wake_relay(session)

    async def wake_relay(self, session: AsyncSession) -> None:
        """Wake the relay when the session's transaction commits: this process's own, in process, while it leads
        (a statement less per transaction); otherwise whichever leads, by a NOTIFY PostgreSQL delivers on commit.
        Should the lead move meanwhile, the new leader's poll publishes the rows within its interval."""
        relay = self.local_relay
        if relay is not None and relay.is_active:
            sqlalchemy_event.listen(session.sync_session, "after_commit", relay.wake_after_commit, once=True)
            return
        await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})


class OutboxRelay:
    """Publishes committed outbox rows in id order (so in order per key), then deletes them."""

    def __init__(
        self,
        dsn: str,
        broker: KafkaBroker,
        *,
        batch_size: int = 500,
        poll_interval: float = 1.0,
        name: str = "outbox-relay",
        metrics: ServiceMetrics | None = None,
    ) -> None:
        self._dsn = dsn
        self._broker = broker
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self.name = name
        self._metrics = metrics
        self.is_active = False
        self.published = 0
        self._wake = asyncio.Event()

    async def run(self) -> None:
        """Relay until cancelled, reconnecting after database or broker failures."""
        delay = 0.2
        while True:
            try:
                connection = await asyncpg.connect(self._dsn)
            except (OSError, asyncpg.PostgresError) as unavailable:
                _logger.warning("%s: database unavailable (%s); retrying in %.1fs", self.name, unavailable, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            try:
                await self._lead(connection)
                delay = 0.2
            except asyncio.CancelledError:
                connection.terminate()  # at once: the advisory lock must go with us, not when a close completes
                raise
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as lost:
                _logger.warning("%s: database connection lost (%s); reconnecting", self.name, lost)
            except Exception:
                _logger.exception("%s: publishing failed; retrying in %.1fs", self.name, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                self.is_active = False
                await _close_quietly(connection)

    async def _lead(self, connection: asyncpg.Connection) -> None:
        while not await connection.fetchval("SELECT pg_try_advisory_lock($1)", RELAY_LOCK_KEY):  # noqa: ASYNC110
            await asyncio.sleep(self._poll_interval)  # standing by: the lock has no wait-with-timeout
        self.is_active = True
        _logger.info("%s: active", self.name)
        wake = self._wake
        await connection.add_listener(NOTIFY_CHANNEL, lambda *_: wake.set())
        while True:
            wake.clear()
            published = await self.publish_batch(connection)
            if published < self._batch_size:
                await wait_for_wake_up(wake, within=self._poll_interval)

    def wake_after_commit(self, _session: object) -> None:
        """A transaction of this process committed outbox rows: publish them now."""
        self._wake.set()

    async def publish_batch(self, connection: asyncpg.Connection) -> int:
        """Publish the oldest batch of rows, wait for the broker's acknowledgement, then delete them."""
        rows = await connection.fetch(
            "SELECT id, topic, key, headers, value, created_at FROM outbox ORDER BY id LIMIT $1", self._batch_size
        )
        if self._metrics is not None:
            await self._measure_lag(connection, rows[0]["created_at"] if rows else None, len(rows))
        if not rows:
            return 0
        fault_point("outbox.before_publish")
        pending = [await self._publish(row) for row in rows]
        await asyncio.gather(*pending)
        fault_point("outbox.after_publish")
        await connection.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])", [row["id"] for row in rows])
        self.published += len(rows)
        if self._metrics is not None:
            self._metrics.events_published.inc(len(rows))
        return len(rows)

    async def _publish(self, row: asyncpg.Record) -> Any:
        headers: dict[str, str] = json.loads(row["headers"])
        tombstone = headers.pop(TOMBSTONE_HEADER, None) is not None
        return await self._broker.publish(
            None if tombstone else bytes(row["value"]),
            row["topic"],
            key=row["key"].encode(),
            headers=headers,
            no_confirm=True,
        )

    async def _measure_lag(self, connection: asyncpg.Connection, oldest: datetime | None, fetched: int) -> None:
        """Outbox gauges from the batch just read; only a full batch needs a count (the backlog is bigger)."""
        assert self._metrics is not None
        if oldest is None:
            self._metrics.outbox_lag.set(0)
            self._metrics.outbox_oldest.set(0)
            return
        backlog = fetched if fetched < self._batch_size else await connection.fetchval("SELECT count(*) FROM outbox")
        self._metrics.outbox_lag.set(backlog)
        self._metrics.outbox_oldest.set(max(0.0, (datetime.now(UTC) - oldest).total_seconds()))


async def wait_for_wake_up(wake: asyncio.Event, *, within: float) -> None:
    """Wait until ``wake`` is set or ``within`` seconds pass. Not ``asyncio.wait_for``: on Python 3.11 it swallows a
    cancellation that arrives in the same loop step as the event being set (it returns instead of raising), and a
    relay woken by a NOTIFY just as the service stops then never stops."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(within):
            await wake.wait()


async def _close_quietly(connection: asyncpg.Connection) -> None:
    try:
        await connection.close(timeout=2)
    except Exception:
        connection.terminate()
