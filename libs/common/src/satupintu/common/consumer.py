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

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from faststream.kafka import KafkaBroker
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.broker import DeadLetterProducer
from satupintu.common.consuming import (
    Invalid,
    Record,
    RecordConsumer,
    RejectEvent,
    RetryPolicy,
    is_transient,
    record_headers,
)
from satupintu.common.events.base import EventPayload
from satupintu.common.events.envelope import EVENT_TYPES, EnvelopeError, Event, from_record
from satupintu.common.faults import fault_point
from satupintu.common.inbox import record_new, record_once
from satupintu.common.logs import bind_event_context
from satupintu.common.metrics import ServiceMetrics
from satupintu.common.outbox import Outbox
from satupintu.common.settings import KafkaSettings
from satupintu.common.tracing import span

__all__ = ["EventConsumer", "Handler", "RejectEvent", "RetryPolicy", "UnitOfWork", "is_transient"]


@dataclass
class UnitOfWork:
    """What a handler works with: the open transaction and the outbox to emit events into it."""

    session: AsyncSession
    outbox: Outbox
    topic: str = ""
    """The full name of the topic the event came on (per-agency topics carry the agency's identity)."""
    emitted: list[Event[Any]] = field(default_factory=list)

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

    def subscribe(self, *logical_topics: str, group: str | None = None, description: str = "") -> None:
        """Consume ``logical_topics`` in this service's consumer group, committing after each processed batch."""
        handled = ", ".join(sorted(f"`{p.event_type}` ({p.dataschema()})" for p in self._handlers))
        super().subscribe(
            *logical_topics,
            group=group,
            description=description
            or f"CloudEvents in Kafka binary mode; handles {handled}. Other event types are skipped; invalid "
            "records go to `<topic>.dlq`.",
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

    async def apply_alone(self, record: Record, item: EventWork) -> bool:
        """Apply one event in its own transaction with its inbox row; False for a redelivery."""
        handler, event = item
        with (
            bind_event_context(event.correlation_id or event.id, event.subject),
            span(f"consume {event.type}", SpanKind.CONSUMER, event.traceparent, consumer=self.name),
        ):
            async with self._sessions() as session, session.begin():
                if not await record_once(session, self.name, event.id, event.type):
                    return False
                unit = UnitOfWork(session, self._outbox, record.topic)
                await handler(unit, event)
                if unit.emitted:
                    await self._outbox.wake_relay(session)
                fault_point(f"{self.name}.{event.type}.before_commit")
        return True

    async def apply_together(self, work: Sequence[tuple[Record, EventWork]]) -> list[bool]:
        """Apply the events of a batch in order in one transaction; which ones were new (not redeliveries)."""
        outcomes: list[bool] = []
        emitted = False
        async with self._sessions() as session, session.begin():
            new = await record_new(session, self.name, [(event.id, event.type) for _, (_, event) in work])
            for record, (handler, event) in work:
                applied = event.id in new
                new.discard(event.id)  # the same event twice in a batch is applied once
                outcomes.append(applied)
                if not applied:
                    continue
                with (
                    bind_event_context(event.correlation_id or event.id, event.subject),
                    span(f"consume {event.type}", SpanKind.CONSUMER, event.traceparent, consumer=self.name),
                ):
                    unit = UnitOfWork(session, self._outbox, record.topic)
                    await handler(unit, event)
                    emitted = emitted or bool(unit.emitted)
                fault_point(f"{self.name}.{event.type}.before_commit")
            if emitted:
                await self._outbox.wake_relay(session)
        return outcomes
