"""Consuming events with the guarantees: parse the envelope, skip what was already processed (inbox), run the
handler and write its events (outbox) in one transaction, commit the offset only after that, and send what cannot
be processed to ``<topic>.dlq`` with the reason in headers.

Records arrive in batches (one ``getmany``): the events of a batch are handled in order in one transaction with one
inbox statement, and the offsets are committed once after it commits. If anything in the batch fails, the
transaction is rolled back and the batch is processed again one event at a time, so a bad event costs only itself.

Transient failures (database or network unreachable) are retried with capped backoff for as long as they last;
other failures are retried ``max_attempts`` times with exponential backoff, then dead-lettered. A handler raises
:class:`RejectEvent` for an event that must never be processed (it goes straight to the DLQ, changing nothing).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.broker import raw_body
from satupintu.common.database import causes, database_unavailable
from satupintu.common.events.base import EventPayload
from satupintu.common.events.envelope import EVENT_TYPES, EnvelopeError, Event, from_record
from satupintu.common.events.topics import dead_letter_topic
from satupintu.common.faults import fault_point
from satupintu.common.inbox import record_new, record_once
from satupintu.common.logs import bind_event_context
from satupintu.common.metrics import ServiceMetrics
from satupintu.common.outbox import Outbox
from satupintu.common.settings import KafkaSettings
from satupintu.common.tracing import span

_logger = logging.getLogger(__name__)


class RejectEvent(Exception):
    """Raised by a handler for an event that must not be processed: it is dead-lettered with ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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


@dataclass(frozen=True)
class RetryPolicy:
    """How failing handlers are retried before an event is dead-lettered."""

    max_attempts: int = 5
    initial_delay: float = 0.1
    max_delay: float = 5.0

    def delay(self, attempt: int) -> float:
        """Backoff before retry number ``attempt`` (from 1), with jitter."""
        base: float = min(self.max_delay, self.initial_delay * 2 ** (attempt - 1))
        return base * (0.5 + random.random() / 2)  # noqa: S311 (jitter, not security)


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` is something that passes by itself: the database unreachable
    (:func:`~satupintu.common.database.database_unavailable`), a network error or a driver's closed connection
    (``InterfaceError``) anywhere in its causes."""
    return database_unavailable(error) or any(
        isinstance(cause, OSError) or type(cause).__name__ == "InterfaceError" for cause in causes(error)
    )


class EventConsumer:
    """One service's consumer of some event types, with inbox, outbox and dead letters."""

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
    ) -> None:
        self.name = name
        self._metrics = metrics or ServiceMetrics(name)
        self._sessions = sessions
        self._outbox = outbox
        self._broker = broker
        self._kafka = kafka
        self._handlers = dict(handlers)
        self._retry = retry or RetryPolicy()
        self.processed = 0
        self.duplicates = 0
        self.dead_lettered = 0

    def subscribe(self, *logical_topics: str, group: str | None = None) -> None:
        """Consume ``logical_topics`` in this service's consumer group, committing after each processed batch."""
        topics = [self._kafka.topic_name(topic) for topic in logical_topics]
        group_id = self._kafka.topic_name(f"satupintu.{group or self.name}")

        async def on_batch(message: KafkaMessage) -> None:
            records = message.raw_message
            await self.process_batch(records if isinstance(records, tuple) else (records,))

        on_batch.__name__ = f"{self.name}_consumer"
        on_batch.__doc__ = f"{self.name}: " + ", ".join(sorted(p.event_type for p in self._handlers))
        self._broker.subscriber(
            *topics,
            group_id=group_id,
            ack_policy=AckPolicy.ACK,
            auto_offset_reset="earliest",
            decoder=raw_body,
            batch=True,
            max_records=self._kafka.max_batch_records,
            batch_timeout_ms=self._kafka.batch_wait_ms,
            fetch_max_bytes=self._kafka.fetch_max_bytes,
            max_partition_fetch_bytes=self._kafka.fetch_max_bytes,
            title=self.name,
            description="CloudEvents in Kafka binary mode; handles "
            + ", ".join(sorted(f"`{p.event_type}` ({p.dataschema()})" for p in self._handlers))
            + ". Other event types are skipped; invalid records go to `<topic>.dlq`.",
        )(on_batch)

    async def process(self, record: ConsumerRecord[bytes, bytes]) -> None:
        """Process one record: parse, dedupe, handle and commit, or dead-letter it. Never raises for bad input."""
        await self.process_batch((record,))

    async def process_batch(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        """Process records in order: invalid ones are dead-lettered, the events this consumer handles are applied
        in one transaction (one at a time if that fails). Never raises for bad input."""
        work: list[tuple[ConsumerRecord[bytes, bytes], Handler, Event[Any]]] = []
        for record in records:
            if self._not_for_us(record):
                continue
            try:
                event = from_record(record.headers, record.value, record.key)
            except EnvelopeError as invalid:
                await self.on_invalid(record, invalid.reason)
                continue
            handler = self._handlers.get(type(event.payload))
            if handler is not None:
                work.append((record, handler, event))
        if len(work) > 1:
            try:
                outcomes = await self._handle_together(work)
            except Exception as failure:
                _logger.info("%s: a batch of %d failed (%r); one event at a time", self.name, len(work), failure)
            else:
                for (_, _, event), applied in zip(work, outcomes, strict=True):
                    self._count(event, applied=applied)
                return
        for record, handler, event in work:
            with (
                bind_event_context(event.correlation_id or event.id, event.subject),
                span(f"consume {event.type}", SpanKind.CONSUMER, event.traceparent, consumer=self.name),
            ):
                await self._process_event(record, handler, event)

    async def on_invalid(self, record: ConsumerRecord[bytes, bytes], reason: str) -> None:
        """What happens to a record that is not a valid event: it is dead-lettered with ``reason``."""
        await self.dead_letter(record, reason)

    def _not_for_us(self, record: ConsumerRecord[bytes, bytes]) -> bool:
        """A record of a known type this consumer does not handle: skipped unparsed (its consumers judge it)."""
        event_type = next((value for name, value in record.headers or () if name == "ce_type"), None)
        payload_type = EVENT_TYPES.get(event_type.decode("utf-8", errors="replace")) if event_type else None
        return payload_type is not None and payload_type not in self._handlers

    async def _process_event(self, record: ConsumerRecord[bytes, bytes], handler: Handler, event: Event[Any]) -> None:
        attempt = 0
        while True:
            try:
                applied = await self._handle_once(handler, event, record.topic)
            except RejectEvent as rejected:
                await self.dead_letter(record, rejected.reason)
                return
            except Exception as failure:
                if is_transient(failure):
                    attempt = min(attempt + 1, 10)
                    _logger.warning("%s: transient failure on %s (%s); retrying", self.name, event.type, failure)
                    await asyncio.sleep(self._retry.delay(attempt))
                    continue
                attempt += 1
                if attempt >= self._retry.max_attempts:
                    _logger.exception("%s: giving up on %s %s", self.name, event.type, event.id)
                    await self.dead_letter(record, f"handler failed after {attempt} attempts: {failure!r}"[:500])
                    return
                _logger.warning("%s: %s failed (attempt %d): %r", self.name, event.type, attempt, failure)
                await asyncio.sleep(self._retry.delay(attempt))
            else:
                self._count(event, applied=applied)
                return

    def _count(self, event: Event[Any], *, applied: bool) -> None:
        if applied:
            self.processed += 1
        else:
            self.duplicates += 1
        self._metrics.events_consumed.labels(self.name, event.type, "processed" if applied else "duplicate").inc()

    async def _handle_once(self, handler: Handler, event: Event[Any], topic: str) -> bool:
        async with self._sessions() as session, session.begin():
            if not await record_once(session, self.name, event.id, event.type):
                return False
            unit = UnitOfWork(session, self._outbox, topic)
            await handler(unit, event)
            if unit.emitted:
                await self._outbox.wake_relay(session)
            fault_point(f"{self.name}.{event.type}.before_commit")
        return True

    async def _handle_together(
        self, work: Sequence[tuple[ConsumerRecord[bytes, bytes], Handler, Event[Any]]]
    ) -> list[bool]:
        """Apply the events of a batch in order in one transaction; which ones were new (not redeliveries)."""
        outcomes: list[bool] = []
        emitted = False
        async with self._sessions() as session, session.begin():
            new = await record_new(session, self.name, [(event.id, event.type) for _, _, event in work])
            for record, handler, event in work:
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

    async def dead_letter(self, record: ConsumerRecord[bytes, bytes], reason: str) -> None:
        """Publish ``record`` unchanged to its topic's DLQ, with the reason and where it came from in headers."""
        headers = {name: value.decode("utf-8", errors="replace") for name, value in record.headers or ()}
        headers |= {
            "dlq_reason": reason,
            "dlq_consumer": self.name,
            "dlq_topic": record.topic,
            "dlq_partition": str(record.partition),
            "dlq_offset": str(record.offset),
        }
        await self._broker.publish(
            record.value or b"", dead_letter_topic(record.topic), key=record.key, headers=headers
        )
        self.dead_lettered += 1
        event_type = headers.get("ce_type", "unknown")
        self._metrics.events_consumed.labels(self.name, event_type, "dead_lettered").inc()
        self._metrics.dead_letters.labels(self.name, record.topic).inc()
        _logger.warning(
            "%s: dead-lettered %s[%d]@%d: %s", self.name, record.topic, record.partition, record.offset, reason
        )
