"""The one path every Kafka consumer takes (services, audit and the agency worker SDK alike): read each record of a
batch, apply what it can, dead-letter what it cannot, and let the offsets be committed only then.

The rule (docs/decisions/0003-consumer-guarantees.md): **no offset is committed for a record that was neither
applied nor dead-lettered.**

- Reading a record never fails the batch: any exception while parsing it (a ``RecursionError`` from a deeply
  nested value, a header that is not UTF-8, anything) dead-letters that record with the reason.
- The records read are applied together (one transaction, when the consumer can) and, if that fails, one at a time:
  a failure that passes by itself (:func:`is_transient`) is retried in place for a while; any other failure is
  retried with backoff, then the record is dead-lettered with the reason.
- Dead letters go to ``<topic>.dlq`` with the original key, value and headers byte for byte, and ``dlq_*`` headers
  saying why and where from. A dead letter the broker refuses as too large goes there at once as a trimmed copy
  (no value; its SHA-256 and size in headers). A dead-letter publish that fails is retried in place with capped
  backoff while ``/readyz`` says why.
- Only cancellation escapes :meth:`RecordConsumer.process_batch`. What still fails (the database or the broker away
  for longer than the in-place retries) escapes the FastStream handler after a backoff pause, and FastStream's
  ``AckPolicy.NACK_ON_ERROR`` seeks the batch back so it is fetched again: never ``ACK`` (it commits when the
  handler raises) nor ``REJECT_ON_ERROR`` (on Kafka, ``reject()`` commits too).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, Generic, Literal, TypeAlias, TypeVar

from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaError, MessageSizeTooLargeError, RecordTooLargeError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.subscriber.usecase import BatchSubscriber

from satupintu.common.broker import DeadLetterProducer, raw_body, readable_headers
from satupintu.common.consumer_lag import partition_lags
from satupintu.common.failures import causes, database_unavailable
from satupintu.common.faults import fault_point
from satupintu.common.metrics import ServiceMetrics
from satupintu.common.settings import KafkaSettings
from satupintu.contract.topics import dead_letter_topic

ItemT = TypeVar("ItemT")
_REMEMBERED_DEAD_LETTERS = 10_000
Record: TypeAlias = ConsumerRecord[bytes, bytes]
_logger = logging.getLogger(__name__)


class RejectEvent(Exception):
    """Raised by a handler for an event that must not be processed: it is dead-lettered with ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Invalid:
    """What reading a record that is not a valid event gives: why it is dead-lettered."""

    reason: str


@dataclass(frozen=True)
class RetryPolicy:
    """How failures are retried: a failing handler ``max_attempts`` times with exponential backoff before its event
    is dead-lettered; a transient failure in place for ``park_after_seconds``, then parked (where the consumer can
    park: :mod:`satupintu.common.parking`) and retried ``parked_max_attempts`` times with growing delays from
    ``parked_first_delay`` up to ``parked_max_delay`` before it is dead-lettered; where it cannot be parked (the
    database is what is away), and for a dead-letter publish, in place for up to ``in_place_seconds`` before the
    batch is sought back and fetched again (well within ``max.poll.interval.ms``)."""

    max_attempts: int = 5
    initial_delay: float = 0.1
    max_delay: float = 5.0
    in_place_seconds: float = 30.0
    park_after_seconds: float = 2.0
    parked_first_delay: float = 5.0
    parked_max_delay: float = 900.0
    parked_max_attempts: int = 12
    parked_poll_seconds: float = 2.0

    def delay(self, attempt: int) -> float:
        """Backoff before retry number ``attempt`` (from 1), with jitter."""
        base: float = min(self.max_delay, self.initial_delay * 2 ** (max(attempt, 1) - 1))
        return base * (0.5 + random.random() / 2)  # noqa: S311 (jitter, not security)

    def parked_delay(self, attempts: int) -> float:
        """How long a parked event waits before its retry after ``attempts`` failed retries (from 0)."""
        return float(min(self.parked_max_delay, self.parked_first_delay * 2**attempts))


PARKED: Final = "parked"
Outcome = bool | Literal["parked"]
"""What applying a record did: True (applied), False (a redelivery: nothing to do), or parked to retry later."""


class ReplayOutcome(StrEnum):
    """What replaying a dead letter came to (:meth:`RecordConsumer.replay`)."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    """Applied before (the inbox has it): nothing changed."""
    DEAD_LETTERED = "dead_lettered"
    """It failed again and was dead-lettered again, with its new reason."""
    SKIPPED = "skipped"
    """Not processed: not an event this consumer handles, or (for a dead letter) its value was not kept."""
    FAILED = "failed"
    """A transient failure outlasted the in-place retries: nothing was changed; replay it again later."""
    PARKED = "parked"
    """It failed with something that passes, or waits behind a parked event of its key: retried later by itself."""
    WOULD_REPLAY = "would_replay"
    """A dry run: selected, not processed."""


@dataclass(frozen=True)
class Replayed:
    """The outcome of replaying one record, and why (the new dead-letter reason, the failure, why skipped)."""

    outcome: ReplayOutcome
    reason: str | None = None


_replaying: ContextVar[list[Replayed] | None] = ContextVar("satupintu_replaying", default=None)
"""Where a replay (in its own task) collects what :meth:`RecordConsumer.process` did with its record."""


class TransientError(Exception):
    """A failure that passes by itself, raised by a handler (a key not yet arrived, a service briefly away): retried,
    then parked, like a database or network outage."""


class StillFailing(Exception):
    """A transient failure outlasted the in-place retries: the batch is sought back and fetched again."""


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` is something that passes by itself: the database unreachable
    (:func:`~satupintu.common.database.database_unavailable`), a network error, a driver's closed connection
    (``InterfaceError``) or a Kafka error the client calls retriable, anywhere in its causes."""
    return database_unavailable(error) or any(
        isinstance(cause, OSError)
        or type(cause).__name__ == "InterfaceError"
        or (isinstance(cause, KafkaError) and bool(cause.retriable))
        or isinstance(cause, TransientError)
        for cause in causes(error)
    )


def record_headers(record: Record) -> dict[str, str]:
    """A record's headers as text (bytes that are not UTF-8 replaced), for reading, never for republishing."""
    return {name: (value or b"").decode("utf-8", errors="replace") for name, value in record.headers or ()}


class RecordConsumer(ABC, Generic[ItemT]):
    """A consumer group's path from records to effects: subclasses say how a record is read and applied.

    - :meth:`read` turns a record into an item to apply, an :class:`Invalid` to dead-letter, or None to skip;
    - :meth:`apply_together` applies the items of a batch in one transaction (which ones were new), when
      :attr:`applies_together`; otherwise, and whenever it fails, :meth:`apply_alone` applies each in turn.
    """

    applies_together = True

    def __init__(
        self,
        *,
        name: str,
        broker: KafkaBroker,
        kafka: KafkaSettings,
        retry: RetryPolicy | None = None,
        metrics: ServiceMetrics | None = None,
        dead_letters: DeadLetterProducer | None = None,
    ) -> None:
        self.name = name
        self._broker = broker
        self._kafka = kafka
        self.dead_letters = dead_letters or DeadLetterProducer(kafka, name)
        """Where dead letters are produced (the process shares one; whoever made it stops it)."""
        self.retry = retry or RetryPolicy()
        self._metrics = metrics or ServiceMetrics(name)
        self.processed = 0
        self.duplicates = 0
        self.parked = 0
        self.dead_lettered = 0
        self.blocked: str | None = None
        """Why this consumer cannot go on right now (``/readyz`` reports it); None while it can."""
        self.topics: tuple[str, ...] = ()
        """The topics (full names) this consumer reads, once subscribed."""
        self._failed_batches = 0
        self._subscribers: list[tuple[str, BatchSubscriber]] = []
        """Each consumer group this consumer reads in, with FastStream's subscriber (its ``consumer`` is the
        ``AIOKafkaConsumer`` while it runs)."""
        self._lag_reported: set[tuple[str, str, str, str]] = set()
        self._dead_letters_sent: OrderedDict[tuple[str, int, int], None] = OrderedDict()
        """Where the latest dead letters came from: a batch fetched again after a failure does not send them twice
        (a crash may: dead letters are at least once)."""

    # --- what a subclass says ------------------------------------------------------------------------------------

    @abstractmethod
    def read(self, record: Record) -> ItemT | Invalid | None:
        """What ``record`` is to this consumer: an item to apply, :class:`Invalid` (dead-lettered), None (skipped)."""

    async def apply_together(self, work: Sequence[tuple[Record, ItemT]]) -> Sequence[Outcome]:
        """Apply ``work`` in order in one transaction; for each item, whether it was new (not a redelivery)."""
        raise NotImplementedError

    @abstractmethod
    async def apply_alone(self, record: Record, item: ItemT) -> Outcome:
        """Apply one item in its own transaction; whether it was new. Raise :class:`RejectEvent` to dead-letter it."""

    async def park_aside(self, record: Record, item: ItemT, reason: str) -> bool:
        """Set ``record`` aside to retry later, if this consumer can (it cannot by default); whether it did."""
        return False

    def type_of(self, record: Record, item: ItemT | None = None) -> str:
        """The event type a record is counted under in metrics."""
        return record_headers(record).get("ce_type", "unknown")

    # --- the path --------------------------------------------------------------------------------------------------

    def subscribe(
        self,
        *logical_topics: str,
        group: str | None = None,
        description: str = "",
        partition_fetch_bytes: int | None = None,
        gather: bool = False,
    ) -> None:
        """Consume ``logical_topics`` in this consumer's group, committing after each batch it finished with; fetching
        at most ``partition_fetch_bytes`` ahead per partition (the settings' ``partition_fetch_bytes`` by default).
        ``gather``: off the first-task path, let the broker gather bigger batches (the settings' ``gather_ms``)."""
        topics = [self._kafka.topic_name(topic) for topic in logical_topics]
        self.topics = (*self.topics, *topics)
        gathering = gather and self._kafka.gather_ms > 0
        group_id = self._kafka.topic_name(f"satupintu.{group or self.name}")

        async def on_batch(message: KafkaMessage) -> None:
            records = message.raw_message
            await self.handle_batch(records if isinstance(records, tuple | list) else (records,))

        on_batch.__name__ = f"{self.name.replace('-', '_')}_consumer"
        on_batch.__doc__ = f"{self.name}: {description}"
        subscriber = self._broker.subscriber(
            *topics,
            group_id=group_id,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            auto_offset_reset="earliest",
            parser=readable_headers,
            decoder=raw_body,
            batch=True,
            max_records=self._kafka.max_batch_records,
            batch_timeout_ms=self._kafka.batch_wait_ms,
            fetch_max_bytes=self._kafka.fetch_max_bytes,
            max_partition_fetch_bytes=partition_fetch_bytes or self._kafka.partition_fetch_bytes,
            fetch_min_bytes=self._kafka.gather_bytes if gathering else 1,
            fetch_max_wait_ms=self._kafka.gather_ms if gathering else 500,
            session_timeout_ms=self._kafka.session_timeout_ms,
            title=self.name,
            description=description,
        )
        subscriber(on_batch)
        self._subscribers.append((group_id, subscriber))

    async def measure_lag(self) -> None:
        """Set ``satupintu_consumer_lag_events`` for each partition this consumer reads
        (:mod:`satupintu.common.consumer_lag`), and drop the series of partitions it no longer has."""
        reported = set()
        for group_id, subscriber in self._subscribers:
            if subscriber.consumer is None:
                continue
            for lag in await partition_lags(subscriber.consumer):
                labels = (self.name, group_id, lag.topic, str(lag.partition))
                self._metrics.consumer_lag.labels(*labels).set(lag.records)
                reported.add(labels)
        for labels in self._lag_reported - reported:
            self._metrics.consumer_lag.remove(*labels)
        self._lag_reported = reported

    async def handle_batch(self, records: Sequence[Record]) -> None:
        """FastStream's handler: :meth:`process_batch`; should something still escape it, pause with backoff and
        raise, so the batch is sought back (``NACK_ON_ERROR``) and fetched again, never committed."""
        try:
            await self.process_batch(records)
        except Exception as failure:
            self._failed_batches += 1
            pause = self.retry.delay(min(self._failed_batches, 8))
            _logger.error(
                "%s: a batch of %d could not be finished (%r); fetching it again in %.1fs",
                self.name,
                len(records),
                failure,
                pause,
            )
            await asyncio.sleep(pause)
            raise
        self._failed_batches = 0
        self.blocked = None

    async def process(self, record: Record) -> None:
        """Process one record (see :meth:`process_batch`)."""
        await self.process_batch((record,))

    async def replay(self, record: Record) -> Replayed:
        """Process one of this consumer's dead letters again, ``record`` as it was before it was dead-lettered (its
        topic, partition and offset, without the ``dlq_*`` headers), and say what came of it: :meth:`process`, as if
        it arrived again (the inbox makes an event already applied a no-op; one that fails again is dead-lettered
        again with its new reason), even if this process remembers having dead-lettered it."""
        self._dead_letters_sent.pop((record.topic, record.partition, record.offset), None)
        noted: list[Replayed] = []
        replaying = _replaying.set(noted)
        try:
            await self.process(record)
        except StillFailing as failure:
            return Replayed(ReplayOutcome.FAILED, str(failure)[:500])
        finally:
            _replaying.reset(replaying)
        return noted[-1] if noted else Replayed(ReplayOutcome.SKIPPED, f"not an event {self.name} handles")

    async def process_batch(self, records: Sequence[Record]) -> None:
        """Finish with every record in order: applied, skipped or dead-lettered. Only a failure that outlasts the
        in-place retries (:class:`StillFailing`) or a cancellation escapes, and then nothing is committed."""
        work: list[tuple[Record, ItemT]] = []
        for record in records:
            if (record.topic, record.partition, record.offset) in self._dead_letters_sent:
                continue  # dead-lettered before this batch was fetched again: never applied as well
            try:
                fault_point(f"{self.name}.read", (record.key or b"").decode("utf-8", errors="replace"))
                item = self.read(record)
            except Exception as unreadable:  # whatever a hostile record makes a parser raise
                item = Invalid(f"unreadable record: {type(unreadable).__name__}: {unreadable}"[:500])
            if isinstance(item, Invalid):
                await self.dead_letter(record, item.reason)
            elif item is not None:
                work.append((record, item))
        if len(work) > 1 and self.applies_together:
            try:
                outcomes = await self.apply_together(work)
            except Exception as failure:
                _logger.info("%s: a batch of %d failed (%r); one event at a time", self.name, len(work), failure)
            else:
                for (record, item), applied in zip(work, outcomes, strict=True):
                    self._count(record, item, applied=applied)
                return
        for record, item in work:
            await self._apply_with_retries(record, item)

    async def _apply_with_retries(self, record: Record, item: ItemT) -> None:
        attempt = 0
        transient_since: float | None = None
        while True:
            try:
                applied = await self.apply_alone(record, item)
            except RejectEvent as rejected:
                await self.dead_letter(record, rejected.reason)
                return
            except Exception as failure:
                if is_transient(failure):
                    transient_since = transient_since or time.monotonic()
                    waited = time.monotonic() - transient_since
                    if waited > self.retry.park_after_seconds and await self.park_aside(record, item, repr(failure)):
                        self._count(record, item, applied=PARKED)
                        return
                    if waited > self.retry.in_place_seconds:
                        raise StillFailing(f"{self.name}: {failure!r}") from failure
                    attempt = min(attempt + 1, 10)
                    where = self._where(record)
                    _logger.warning("%s: transient failure on %s (%s); retrying", self.name, where, failure)
                    await asyncio.sleep(self.retry.delay(attempt))
                    continue
                attempt += 1
                if attempt >= self.retry.max_attempts:
                    _logger.exception("%s: giving up on %s", self.name, self._where(record))
                    await self.dead_letter(record, f"handler failed after {attempt} attempts: {failure!r}"[:500])
                    return
                _logger.warning("%s: %s failed (attempt %d): %r", self.name, self._where(record), attempt, failure)
                await asyncio.sleep(self.retry.delay(attempt))
            else:
                self._count(record, item, applied=applied)
                return

    def _count(self, record: Record, item: ItemT, *, applied: Outcome) -> None:
        if applied == PARKED:
            self.parked += 1
            outcome = PARKED
            _note(Replayed(ReplayOutcome.PARKED, "waiting to be retried (docs/decisions/0003)"))
        elif applied:
            self.processed += 1
            outcome = "processed"
            _note(Replayed(ReplayOutcome.APPLIED))
        else:
            self.duplicates += 1
            outcome = "duplicate"
            _note(Replayed(ReplayOutcome.DUPLICATE))
        self._metrics.events_consumed.labels(self.name, self.type_of(record, item), outcome).inc()

    @staticmethod
    def _where(record: Record) -> str:
        return f"{record.topic}[{record.partition}]@{record.offset}"

    # --- dead letters ----------------------------------------------------------------------------------------------

    async def dead_letter(self, record: Record, reason: str) -> None:
        """Publish ``record`` to its topic's DLQ: key, value and headers as they were, plus ``dlq_*`` headers.
        Retried in place while the broker does not take it; a record too large for the DLQ goes as a trimmed copy.
        """
        position = (record.topic, record.partition, record.offset)
        if position in self._dead_letters_sent:
            return
        origin = [
            ("dlq_reason", reason.encode()),
            ("dlq_consumer", self.name.encode()),
            ("dlq_topic", record.topic.encode()),
            ("dlq_partition", str(record.partition).encode()),
            ("dlq_offset", str(record.offset).encode()),
        ]
        headers = [*(record.headers or ()), *origin]
        value, trimmed = record.value, False
        began = time.monotonic()
        attempt = 0
        while True:
            try:
                fault_point(f"{self.name}.dead_letter")
                await self.send_dead_letter(dead_letter_topic(record.topic), record.key, value, headers)
            except (MessageSizeTooLargeError, RecordTooLargeError) as too_large:
                if trimmed:
                    raise StillFailing(f"even the trimmed dead letter is too large: {too_large!r}") from too_large
                trimmed, value = True, None  # at once: the original headers, the value's digest and size, the reason
                headers = [
                    *(record.headers or ()),
                    *origin,
                    ("dlq_trimmed", b"true"),
                    ("dlq_value_sha256", hashlib.sha256(record.value or b"").hexdigest().encode()),
                    ("dlq_value_bytes", str(len(record.value or b"")).encode()),
                ]
                continue
            except Exception as failure:
                attempt += 1
                self.blocked = f"cannot dead-letter to {dead_letter_topic(record.topic)}: {failure!r}"[:300]
                if time.monotonic() - began > self.retry.in_place_seconds:
                    raise StillFailing(self.blocked) from failure
                _logger.error("%s: %s; retrying", self.name, self.blocked)
                await asyncio.sleep(self.retry.delay(attempt))
                continue
            break
        self.blocked = None
        self._dead_letters_sent[position] = None
        if len(self._dead_letters_sent) > _REMEMBERED_DEAD_LETTERS:
            self._dead_letters_sent.popitem(last=False)
        self.dead_lettered += 1
        _note(Replayed(ReplayOutcome.DEAD_LETTERED, reason))
        self._metrics.events_consumed.labels(self.name, self.type_of(record), "dead_lettered").inc()
        self._metrics.dead_letters.labels(self.name, record.topic).inc()
        _logger.warning("%s: dead-lettered %s: %s", self.name, self._where(record), reason)

    async def send_dead_letter(
        self, topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        """Put one dead letter on the broker and wait for its acknowledgement."""
        await self.dead_letters.send(topic, key, value, headers)


def _note(replayed: Replayed) -> None:
    noted = _replaying.get()
    if noted is not None:
        noted.append(replayed)


def consumers_ready(consumers: Sequence[RecordConsumer[Any]]) -> str | None:
    """Why some consumer cannot go on (for ``/readyz``), or None when every one can."""
    blocked = [f"{consumer.name}: {consumer.blocked}" for consumer in consumers if consumer.blocked]
    return "; ".join(blocked) or None
