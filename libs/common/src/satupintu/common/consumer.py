"""Consuming events with the guarantees: parse the envelope, skip what was already processed (inbox), run the
handler and write its events (outbox) in one transaction, commit the offset only after that, and send what cannot
be processed to ``<topic>.dlq`` with the reason in headers.

Records arrive in batches (one ``getmany``): the events of a batch are handled in order in one transaction with one
inbox statement, and the offsets are committed once after it commits. If anything in the batch fails, the
transaction is rolled back and the batch is processed again one event at a time, so a bad event costs only itself.
Retries, dead letters and what may escape are the shared path's (:mod:`satupintu.common.consuming`). A handler
raises :class:`RejectEvent` for an event that must never be processed (it goes straight to the DLQ, changing
nothing).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar, cast

from faststream.kafka import KafkaBroker
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.broker import DeadLetterProducer
from satupintu.common.clock import utc_now
from satupintu.common.consuming import (
    PARKED,
    Invalid,
    Outcome,
    Record,
    RecordConsumer,
    RejectEvent,
    RetryPolicy,
    is_transient,
    record_headers,
)
from satupintu.common.faults import fault_point
from satupintu.common.inbox import record_new, record_once
from satupintu.common.logs import bind_event_context
from satupintu.common.metrics import ServiceMetrics
from satupintu.common.outbox import Outbox
from satupintu.common.parking import ParkedEvent, next_due, park, parked_keys, postpone, unpark
from satupintu.common.settings import KafkaSettings
from satupintu.common.tracing import span
from satupintu.contract.base import EventPayload
from satupintu.contract.envelope import EVENT_TYPES, EnvelopeError, Event, from_record

BEHIND_PARKED = "waiting behind an earlier parked event of its key"
PARKED_RETRIES_PER_PASS = 100
_logger = logging.getLogger(__name__)

__all__ = ["EventConsumer", "Handler", "RejectEvent", "RetryPolicy", "UnitOfWork", "is_transient"]

LoadedT = TypeVar("LoadedT")


@dataclass
class UnitOfWork:
    """What a handler works with: the open transaction and the outbox to emit events into it."""

    session: AsyncSession
    outbox: Outbox
    topic: str = ""
    """The full name of the topic the event came on (per-agency topics carry the agency's identity)."""
    emitted: list[Event[Any]] = field(default_factory=list)
    batch: Sequence[Event[Any]] = ()
    """The events applied together with this one in the same transaction (new ones, in order; empty when the
    event is applied alone)."""
    loaded: dict[str, Any] = field(default_factory=dict)
    """What :meth:`load_for_batch` loaded, shared by the units of one batch."""
    deferred: dict[str, Callable[[], Awaitable[None]]] = field(default_factory=dict)
    """What :meth:`before_commit` deferred, shared by the units of one batch."""

    async def load_for_batch(
        self, name: str, event: Event[Any], load: Callable[[Sequence[Event[Any]]], Awaitable[LoadedT]]
    ) -> LoadedT:
        """What ``load`` gives for all the events of ``event``'s batch: one query for the batch instead of one per
        event. The first handler of the batch to ask loads it; the others get the same object. It is what the
        database held when the batch began: a handler that changes what it describes keeps it current (adds what
        it created), or a later event of the batch reads stale data."""
        if name not in self.loaded:
            events = self.batch if any(other is event for other in self.batch) else (event,)
            self.loaded[name] = await load(events)
        return cast(LoadedT, self.loaded[name])

    def before_commit(self, name: str, write: Callable[[], Awaitable[None]]) -> None:
        """Run ``write`` once, after the last handler of ``event``'s batch (or of the event applied alone) and before
        the transaction commits: e.g. one multi-row insert of what every event of the batch collected (kept in
        :attr:`loaded`). Only the first ``write`` under a name runs; a handler that reads what it deferred looks in
        what it collected, since the database does not hold it yet."""
        self.deferred.setdefault(name, write)

    async def write_deferred(self) -> None:
        """Run what :meth:`before_commit` deferred, in order, once (the consumer does, before committing)."""
        while self.deferred:
            write = self.deferred.pop(next(iter(self.deferred)))
            await write()

    async def emit(self, *events: Event[Any]) -> None:
        """Emit ``events``; they are published only if the transaction commits."""
        await self.outbox.add(self.session, *events, wake_relay=False)
        self.emitted.extend(events)


Handler = Callable[[UnitOfWork, Event[Any]], Awaitable[None]]


EventWork = tuple[Handler, Event[Any]]


class EventConsumer(RecordConsumer[EventWork]):
    """One service's consumer of some event types, with inbox, outbox and dead letters (the path of
    :class:`~satupintu.common.consuming.RecordConsumer`)."""

    def __init__(
        self,
        *,
        name: str,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        broker: KafkaBroker,
        kafka: KafkaSettings,
        handlers: Mapping[type[EventPayload], Handler],
        retry: RetryPolicy | None = None,
        metrics: ServiceMetrics | None = None,
        dead_letters: DeadLetterProducer | None = None,
    ) -> None:
        super().__init__(name=name, broker=broker, kafka=kafka, retry=retry, metrics=metrics, dead_letters=dead_letters)
        self._sessions = sessions
        self._outbox = outbox
        self._handlers = dict(handlers)

    def subscribe(
        self,
        *logical_topics: str,
        group: str | None = None,
        description: str = "",
        partition_fetch_bytes: int | None = None,
        gather: bool = False,
    ) -> None:
        """Consume ``logical_topics`` in this service's consumer group, committing after each processed batch."""
        handled = ", ".join(sorted(f"`{p.event_type}` ({p.dataschema()})" for p in self._handlers))
        super().subscribe(
            *logical_topics,
            group=group,
            description=description
            or f"CloudEvents in Kafka binary mode; handles {handled}. Other event types are skipped; invalid "
            "records go to `<topic>.dlq`.",
            partition_fetch_bytes=partition_fetch_bytes,
            gather=gather,
        )

    def read(self, record: Record) -> EventWork | Invalid | None:
        """The handler and event of a record this consumer handles; records of other known types are skipped
        unparsed (their consumers judge them)."""
        event_type = record_headers(record).get("ce_type")
        payload_type = EVENT_TYPES.get(event_type) if event_type else None
        if payload_type is not None and payload_type not in self._handlers:
            return None
        try:
            event = from_record(record.headers, record.value, record.key)
        except EnvelopeError as invalid:
            return Invalid(invalid.reason)
        handler = self._handlers.get(type(event.payload))
        return None if handler is None else (handler, event)

    def type_of(self, record: Record, item: EventWork | None = None) -> str:
        """The event's type."""
        return item[1].type if item is not None else super().type_of(record)

    async def apply_alone(self, record: Record, item: EventWork) -> Outcome:
        """Apply one event in its own transaction with its inbox row (False for a redelivery), unless an earlier
        event of its key is parked: then it is parked behind it."""
        handler, event = item
        async with self._sessions() as session, session.begin():
            if await parked_keys(session, self.name, [record.key]):
                await park(session, self.name, record, BEHIND_PARKED, utc_now())
                return PARKED
            return await self._apply_in(session, record, handler, event)

    async def apply_together(self, work: Sequence[tuple[Record, EventWork]]) -> list[Outcome]:
        """Apply the events of a batch in order in one transaction; which ones were new (not redeliveries). Events
        of a key with a parked event are parked behind it instead."""
        outcomes: list[Outcome] = []
        emitted = False
        async with self._sessions() as session, session.begin():
            waiting = await parked_keys(session, self.name, [record.key for record, _ in work])
            to_apply = [event for record, (_, event) in work if record.key not in waiting]
            new = await record_new(session, self.name, [(event.id, event.type) for event in to_apply])
            batch = [event for event in to_apply if event.id in new]
            loaded: dict[str, Any] = {}
            deferred: dict[str, Callable[[], Awaitable[None]]] = {}
            unit: UnitOfWork | None = None
            for record, (handler, event) in work:
                if record.key in waiting:
                    await park(session, self.name, record, BEHIND_PARKED, utc_now())
                    outcomes.append(PARKED)
                    continue
                applied = event.id in new
                new.discard(event.id)  # the same event twice in a batch is applied once
                outcomes.append(applied)
                if not applied:
                    continue
                with (
                    bind_event_context(event.correlation_id or event.id, event.subject),
                    span(f"consume {event.type}", SpanKind.CONSUMER, event.traceparent, consumer=self.name),
                ):
                    unit = UnitOfWork(
                        session, self._outbox, record.topic, batch=batch, loaded=loaded, deferred=deferred
                    )
                    await handler(unit, event)
                    emitted = emitted or bool(unit.emitted)
                fault_point(f"{self.name}.{event.type}.before_commit")
            if unit is not None:
                await unit.write_deferred()
            if emitted:
                await self._outbox.wake_relay(session)
        return outcomes

    async def _apply_in(self, session: AsyncSession, record: Record, handler: Handler, event: Event[Any]) -> bool:
        """Apply one event in ``session``'s transaction with its inbox row; False for a redelivery."""
        with (
            bind_event_context(event.correlation_id or event.id, event.subject),
            span(f"consume {event.type}", SpanKind.CONSUMER, event.traceparent, consumer=self.name),
        ):
            if not await record_once(session, self.name, event.id, event.type):
                return False
            unit = UnitOfWork(session, self._outbox, record.topic)
            await handler(unit, event)
            await unit.write_deferred()
            if unit.emitted:
                await self._outbox.wake_relay(session)
            fault_point(f"{self.name}.{event.type}.before_commit")
        return True

    # --- parked events -------------------------------------------------------------------------------------------

    async def park_aside(self, record: Record, item: EventWork, reason: str) -> bool:
        """Park ``record`` in the service's database to retry later (False when the database is what is away)."""
        retry_at = utc_now() + timedelta(seconds=self.retry.parked_delay(0))
        try:
            async with self._sessions() as session, session.begin():
                await park(session, self.name, record, reason, retry_at)
        except Exception as failure:
            _logger.warning("%s: cannot park %s (%r); retrying in place", self.name, self._where(record), failure)
            return False
        _logger.warning("%s: parked %s until %s: %s", self.name, self._where(record), retry_at.isoformat(), reason)
        return True

    async def retry_parked(self) -> int:
        """Retry the due parked events, each the oldest of its key, one transaction each (another instance's
        retrier takes others); how many were retried. Run every ``parked_poll_seconds`` by the runtime."""
        retried = 0
        while retried < PARKED_RETRIES_PER_PASS:
            async with self._sessions() as session, session.begin():
                parked = await next_due(session, self.name)
                if parked is None:
                    return retried
                await self._retry_one(session, parked)
            retried += 1
        return retried

    async def _retry_one(self, session: AsyncSession, parked: ParkedEvent) -> None:
        record = parked.record()
        try:
            item = self.read(record)
        except Exception as unreadable:
            item = Invalid(f"unreadable record: {type(unreadable).__name__}: {unreadable}"[:500])
        if isinstance(item, Invalid):
            await self.dead_letter(record, item.reason)
        elif item is not None:
            handler, event = item
            try:
                async with session.begin_nested():
                    applied = await self._apply_in(session, record, handler, event)
            except RejectEvent as rejected:
                await self.dead_letter(record, rejected.reason)
            except Exception as failure:
                attempts = parked.attempts + 1
                if attempts < self.retry.parked_max_attempts:
                    delay = timedelta(seconds=self.retry.parked_delay(attempts))
                    await postpone(session, parked, delay, repr(failure))
                    _logger.warning("%s: parked %s failed again (%r)", self.name, self._where(record), failure)
                    return
                reason = f"still failing after {attempts} parked retries: {failure!r}"
                await self.dead_letter(record, reason[:500])
            else:
                self._count(record, item, applied=applied)
        await unpark(session, parked)
