"""Reading and replaying dead letters: the records a consumer put on ``<topic>.dlq`` with ``dlq_*`` headers saying
why (:mod:`satupintu.common.consuming`).

A dead-letter topic is read from its beginning to the end offsets it had when the reading began, without a consumer
group: nothing is committed and the topic keeps its records, so reading (and replaying) can be repeated. What a
service dead-lettered is what its consumers (by ``dlq_consumer``) put on the dead-letter topics of the topics they
read. Replaying one hands it, as it was before it was dead-lettered, to the consumer that dead-lettered it
(:meth:`~satupintu.common.consuming.RecordConsumer.replay`); it is never published back to its topic, which would
deliver it again to every consumer group (docs/decisions/0014-dead-letter-api.md).
"""

from __future__ import annotations

import asyncio
import heapq
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from satupintu.common.consuming import Record, RecordConsumer, Replayed, ReplayOutcome
from satupintu.common.settings import KafkaSettings
from satupintu.contract.topics import DLQ_SUFFIX, dead_letter_topic

DLQ_HEADER_PREFIX = "dlq_"
READ_TIMEOUT_SECONDS = 60.0


class DeadLettersUnreadable(Exception):
    """The dead-letter topics could not be read (the broker away, or too slow): nothing was replayed."""


@dataclass(frozen=True, order=True)
class DeadLetterPosition:
    """Where a dead letter is: its dead-letter topic (the name without the cluster's prefix), partition and offset;
    written ``applications.dlq:2:17``."""

    topic: str
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{self.topic}:{self.partition}:{self.offset}"

    @classmethod
    def parse(cls, text: str) -> DeadLetterPosition:
        """The position ``topic:partition:offset`` names; ``ValueError`` when it names none."""
        topic, _, rest = text.strip().partition(":")
        partition, _, offset = rest.partition(":")
        if not topic.endswith(DLQ_SUFFIX) or not partition.isdigit() or not offset.isdigit():
            raise ValueError(f"{text!r} is not a dead letter's position (`<topic>.dlq:<partition>:<offset>`)")
        return cls(topic, int(partition), int(offset))


@dataclass(frozen=True)
class DeadLetter:
    """One record of a dead-letter topic, as it is there (``record``), and what its headers say."""

    record: ConsumerRecord[bytes, bytes]
    topic_prefix: str = ""
    """The cluster's topic prefix (``KAFKA_TOPIC_PREFIX``), left out of the names shown."""

    @cached_property
    def headers(self) -> dict[str, str]:
        """The headers as text (bytes that are not UTF-8 replaced), the last of a name winning."""
        return {name: (value or b"").decode("utf-8", errors="replace") for name, value in self.record.headers or ()}

    @property
    def position(self) -> DeadLetterPosition:
        """Where it is on its dead-letter topic."""
        return DeadLetterPosition(self._logical(self.record.topic), self.record.partition, self.record.offset)

    @property
    def dead_lettered_at(self) -> datetime:
        """When it was dead-lettered (the record's timestamp)."""
        return datetime.fromtimestamp(self.record.timestamp / 1000, UTC)

    @property
    def source_topic(self) -> str:
        """The full name of the topic it came from: the dead-letter topic's, which ``dlq_topic`` must name."""
        topic: str = self.record.topic
        return topic.removesuffix(DLQ_SUFFIX)

    @property
    def topic(self) -> str:
        """The topic it came from, without the cluster's prefix."""
        return self._logical(self.source_topic)

    @property
    def partition(self) -> int | None:
        """Its partition on the topic it came from (``dlq_partition``)."""
        return _number(self.headers.get("dlq_partition"))

    @property
    def offset(self) -> int | None:
        """Its offset on the topic it came from (``dlq_offset``)."""
        return _number(self.headers.get("dlq_offset"))

    @property
    def consumer(self) -> str:
        """The consumer that dead-lettered it (``dlq_consumer``)."""
        return self.headers.get("dlq_consumer", "")

    @property
    def reason(self) -> str:
        """Why (``dlq_reason``)."""
        return self.headers.get("dlq_reason", "")

    @property
    def trimmed(self) -> bool:
        """Whether only a trimmed copy was kept (too large for the dead-letter topic): its value is gone."""
        return self.headers.get("dlq_trimmed") == "true"

    @property
    def value_bytes(self) -> int:
        """The size of its value, in bytes (for a trimmed copy, of the value that was not kept)."""
        if self.trimmed:
            return _number(self.headers.get("dlq_value_bytes")) or 0
        return len(self.record.value or b"")

    @property
    def key(self) -> str | None:
        """Its key, as text."""
        return None if self.record.key is None else self.record.key.decode("utf-8", errors="replace")

    def header(self, name: str) -> str | None:
        """One of its headers as text (``ce_id``, ``ce_type``, ``ce_subject`` ...), None when absent."""
        return self.headers.get(name)

    def unreplayable(self) -> str | None:
        """Why it cannot be replayed, or None when it can."""
        if self.trimmed:
            digest = self.headers.get("dlq_value_sha256", "?")
            return (
                f"trimmed: its value ({self.value_bytes} bytes, SHA-256 {digest}) was too large for the dead-letter "
                "topic and was not kept; find the event at its origin"
            )
        if self.headers.get("dlq_topic", self.source_topic) != self.source_topic:
            return (
                f"its dlq_topic header names {self.headers.get('dlq_topic')!r}, not the topic of its dead-letter queue"
            )
        if self.partition is None or self.offset is None:
            return "its dlq_partition and dlq_offset headers do not say where it came from"
        return None

    def original(self) -> Record:
        """The record as it was before it was dead-lettered: its topic, partition and offset, its key and value, and
        its headers byte for byte without the ``dlq_*`` ones."""
        headers = [(name, value) for name, value in self.record.headers or () if not name.startswith(DLQ_HEADER_PREFIX)]
        return ConsumerRecord(
            topic=self.source_topic,
            partition=self.partition or 0,
            offset=self.offset or 0,
            timestamp=self.record.timestamp,
            timestamp_type=self.record.timestamp_type,
            key=self.record.key,
            value=self.record.value,
            checksum=None,
            serialized_key_size=self.record.serialized_key_size,
            serialized_value_size=self.record.serialized_value_size,
            headers=headers,
        )

    def origin(self) -> tuple[str, str, int | None, int | None]:
        """Which record of which consumer this is a dead letter of (dead-lettered again, a record has several)."""
        return (self.consumer, self.source_topic, self.partition, self.offset)

    def order(self) -> tuple[int, str, int, int]:
        """Dead letters sort by when they were dead-lettered, then where."""
        return (self.record.timestamp, self.record.topic, self.record.partition, self.record.offset)

    def _logical(self, name: str) -> str:
        return name.removeprefix(self.topic_prefix)


def _number(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() else None


@dataclass(frozen=True)
class Selection:
    """Which dead letters: every criterion given must hold (none given: all of them). Names of topics are without
    the cluster's prefix; ``reason_contains`` ignores case; ``since`` is inclusive, ``until`` exclusive."""

    consumers: frozenset[str] = frozenset()
    topics: frozenset[str] = frozenset()
    event_types: frozenset[str] = frozenset()
    event_ids: frozenset[str] = frozenset()
    reason_contains: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    positions: frozenset[DeadLetterPosition] = frozenset()

    def is_everything(self) -> bool:
        """Whether no criterion is given."""
        return self == Selection()

    def matches(self, letter: DeadLetter) -> bool:
        """Whether ``letter`` is selected."""
        written = letter.dead_lettered_at
        return (
            (not self.consumers or letter.consumer in self.consumers)
            and (not self.topics or letter.topic in self.topics)
            and (not self.event_types or letter.header("ce_type") in self.event_types)
            and (not self.event_ids or letter.header("ce_id") in self.event_ids)
            and (not self.reason_contains or self.reason_contains.casefold() in letter.reason.casefold())
            and (self.since is None or written >= self.since)
            and (self.until is None or written < self.until)
            and (not self.positions or letter.position in self.positions)
        )


async def read_dead_letters(
    kafka: KafkaSettings,
    topics: Iterable[str],
    visit: Callable[[DeadLetter], None],
    *,
    timeout_seconds: float = READ_TIMEOUT_SECONDS,
) -> int:
    """Hand every record of the dead-letter ``topics`` (full names; those that do not exist are left out) to
    ``visit``, from each partition's beginning to the end offset it had when the reading began, without a consumer
    group; how many there were. ``DeadLettersUnreadable`` when they cannot all be read within ``timeout_seconds``."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka.bootstrap_servers,
        client_id=f"satupintu-dead-letters-{uuid.uuid4().hex[:8]}",
        group_id=None,
        enable_auto_commit=False,
        fetch_max_bytes=kafka.fetch_max_bytes,
        max_partition_fetch_bytes=kafka.fetch_max_bytes,
        request_timeout_ms=int(timeout_seconds * 1000),
        **kafka.client_options(),
    )
    examined = 0
    try:
        async with asyncio.timeout(timeout_seconds):
            partitions = await _partitions(kafka, topics)
            if not partitions:
                return 0
            await consumer.start()
            consumer.assign(partitions)
            starts = await consumer.beginning_offsets(partitions)
            ends = await consumer.end_offsets(partitions)
            for partition in partitions:
                consumer.seek(partition, starts[partition])
            remaining = {partition for partition in partitions if ends[partition] > starts[partition]}
            while remaining:
                batches = await consumer.getmany(*remaining, timeout_ms=500)
                for partition, records in batches.items():
                    for record in records:
                        if record.offset < ends[partition]:
                            examined += 1
                            visit(DeadLetter(record, kafka.topic_prefix))
                for partition in list(remaining):
                    if await consumer.position(partition) >= ends[partition]:
                        remaining.discard(partition)
    except TimeoutError as slow:
        raise DeadLettersUnreadable(f"the dead-letter topics could not be read within {timeout_seconds:.0f}s") from slow
    except DeadLettersUnreadable:
        raise
    except Exception as failure:
        raise DeadLettersUnreadable(f"the dead-letter topics could not be read: {failure!r}"[:300]) from failure
    finally:
        await consumer.stop()
    return examined


async def _partitions(kafka: KafkaSettings, topics: Iterable[str]) -> list[TopicPartition]:
    """The partitions of those of ``topics`` that exist (never asking about one that does not: a cluster that
    creates topics on first mention would create it)."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=kafka.bootstrap_servers,
        client_id=f"satupintu-dead-letters-{uuid.uuid4().hex[:8]}",
        **kafka.client_options(),
    )
    await admin.start()
    try:
        existing = sorted(set(topics) & set(await admin.list_topics()))
        described = await admin.describe_topics(existing) if existing else []
    finally:
        await admin.close()
    partitions: list[TopicPartition] = []
    for description in described:
        if description["error_code"]:
            raise DeadLettersUnreadable(
                f"{description['topic']} cannot be described (Kafka error {description['error_code']}: is the "
                "service's user allowed to read it?)"
            )
        partitions += [TopicPartition(description["topic"], p["partition"]) for p in description["partitions"]]
    return sorted(partitions)


@dataclass(frozen=True)
class _Ranked:
    """A dead letter in a heap of those kept: the least is the first to give way (the oldest of the newest kept, or
    the newest of the oldest kept)."""

    key: tuple[int, str, int, int]
    newest: bool
    letter: DeadLetter

    def __lt__(self, other: _Ranked) -> bool:
        return self.key < other.key if self.newest else self.key > other.key


@dataclass
class _Kept:
    """The ``limit`` newest (or oldest) dead letters a scan offers, and how many it offered: memory stays bounded
    however long the dead-letter topics are."""

    limit: int
    newest: bool
    matched: int = 0
    _heap: list[_Ranked] = field(default_factory=list)

    def offer(self, letter: DeadLetter) -> None:
        self.matched += 1
        ranked = _Ranked(letter.order(), self.newest, letter)
        if len(self._heap) < self.limit:
            heapq.heappush(self._heap, ranked)
        elif self._heap and self._heap[0] < ranked:
            heapq.heapreplace(self._heap, ranked)

    def letters(self) -> list[DeadLetter]:
        """The kept dead letters, newest first (or oldest first)."""
        return [ranked.letter for ranked in sorted(self._heap, key=lambda r: r.key, reverse=self.newest)]


@dataclass(frozen=True)
class Listing:
    """The dead letters a listing found: up to ``limit`` of those that matched, newest first."""

    letters: list[DeadLetter]
    examined: int
    matched: int


@dataclass(frozen=True)
class ReplayedLetter:
    """One dead letter a replay selected, and what came of it."""

    letter: DeadLetter
    replayed: Replayed


@dataclass(frozen=True)
class ReplayReport:
    """What a replay did (or, dry, would do), in the order it did it: oldest dead letter first."""

    results: list[ReplayedLetter]
    examined: int
    matched: int
    dry_run: bool

    def totals(self) -> dict[ReplayOutcome, int]:
        """How many dead letters came to each outcome."""
        counts = dict.fromkeys(ReplayOutcome, 0)
        for result in self.results:
            counts[result.replayed.outcome] += 1
        return counts


class DeadLetters:
    """What one service dead-lettered: the records its consumers put on the dead-letter topics of the topics they
    read, listed, and replayed through the consumer that dead-lettered each."""

    def __init__(
        self,
        kafka: KafkaSettings,
        consumers: Sequence[RecordConsumer[Any]],
        *,
        read_timeout_seconds: float = READ_TIMEOUT_SECONDS,
    ) -> None:
        self._kafka = kafka
        self._consumers = consumers
        self._read_timeout = read_timeout_seconds

    def consumers(self) -> Mapping[str, RecordConsumer[Any]]:
        """The service's consumers, by name (``dlq_consumer``)."""
        return {consumer.name: consumer for consumer in self._consumers}

    def topics(self) -> list[str]:
        """The dead-letter topics (full names) of the topics this service's consumers read."""
        return sorted({dead_letter_topic(topic) for consumer in self._consumers for topic in consumer.topics})

    async def list(self, selection: Selection, limit: int) -> Listing:
        """The newest ``limit`` of this service's dead letters that ``selection`` selects."""
        kept = _Kept(limit, newest=True)
        examined = await self._scan(selection, kept)
        return Listing(kept.letters(), examined, kept.matched)

    async def replay(self, selection: Selection, *, limit: int, dry_run: bool = False) -> ReplayReport:
        """Replay the oldest ``limit`` of this service's dead letters that ``selection`` selects, oldest first, each
        through the consumer that dead-lettered it. A record dead-lettered more than once (replayed and failed
        again) is replayed once; a trimmed dead letter is skipped (its value is gone)."""
        kept = _Kept(limit, newest=False)
        examined = await self._scan(selection, kept)
        consumers = self.consumers()
        replayed_once: dict[tuple[str, str, int | None, int | None], DeadLetterPosition] = {}
        results: list[ReplayedLetter] = []
        for letter in kept.letters():
            why_not = letter.unreplayable()
            first = replayed_once.setdefault(letter.origin(), letter.position) if why_not is None else None
            if why_not is not None:
                outcome = Replayed(ReplayOutcome.SKIPPED, why_not)
            elif first != letter.position:
                outcome = Replayed(ReplayOutcome.SKIPPED, f"the same record as {first}, replayed once")
            elif dry_run:
                outcome = Replayed(ReplayOutcome.WOULD_REPLAY)
            else:
                outcome = await consumers[letter.consumer].replay(letter.original())
            results.append(ReplayedLetter(letter, outcome))
        return ReplayReport(results, examined, kept.matched, dry_run)

    async def _scan(self, selection: Selection, kept: _Kept) -> int:
        names: Collection[str] = self.consumers().keys()

        def visit(letter: DeadLetter) -> None:
            if letter.consumer in names and selection.matches(letter):
                kept.offer(letter)

        return await read_dead_letters(self._kafka, self.topics(), visit, timeout_seconds=self._read_timeout)
