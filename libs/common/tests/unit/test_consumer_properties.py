"""The consumers' shared path under generated histories (hypothesis, fakes): whatever mix of valid, invalid and
unreadable records arrives, whatever the handlers and the dead-letter topic fail with, every record ends applied or
dead-lettered, each exactly once, and no offset is committed past a record that is neither.

Kafka is played by a loop that behaves as FastStream with ``AckPolicy.NACK_ON_ERROR`` does: a batch whose handler
returns is committed; one whose handler raises is sought back and fetched again from its first record.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest
from faststream.kafka import KafkaBroker
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from satupintu.common.consuming import Invalid, Record, RecordConsumer, RejectEvent, RetryPolicy
from satupintu.common.settings import KafkaSettings
from satupintu.devtools.testing.kafka import consumer_record

pytestmark = pytest.mark.unit

TOPIC = "t.applications"
MAX_ATTEMPTS = 3
IMMEDIATE = RetryPolicy(max_attempts=MAX_ATTEMPTS, initial_delay=0, max_delay=0, in_place_seconds=0)


@dataclass
class Script:
    """What happens to one record: how it reads, and how often each step fails before it works."""

    kind: str  # valid, invalid, unreadable, rejected
    failures: int = 0  # handler failures (MAX_ATTEMPTS or more in one go: dead-lettered)
    transient: int = 0  # failures that pass by themselves (the batch is fetched again)


@dataclass
class FakeConsumer(RecordConsumer[int]):
    """A consumer whose records are scripted; its effects and dead letters are counted."""

    scripts: list[Script]
    dead_letter_outages: int = 0
    effects: Counter[int] = field(default_factory=Counter)
    inbox: set[int] = field(default_factory=set)
    letters: Counter[int] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        super().__init__(name="fake", broker=KafkaBroker(), kafka=KafkaSettings(), retry=IMMEDIATE)

    def read(self, record: Record) -> int | Invalid | None:
        script = self.scripts[record.offset]
        if script.kind == "unreadable":
            raise RecursionError("maximum recursion depth exceeded while decoding a JSON array")
        if script.kind == "invalid":
            return Invalid("payload is not valid JSON")
        return record.offset

    async def apply_together(self, work: Sequence[tuple[Record, int]]) -> list[bool]:
        if any(self._fails(offset, consume=False) for _, offset in work):
            raise RuntimeError("one of the batch failed: the transaction rolls back")
        return [self._apply(offset) for _, offset in work]

    async def apply_alone(self, record: Record, item: int) -> bool:
        if self._fails(item, consume=True):
            raise AssertionError("unreachable")
        return self._apply(item)

    def _fails(self, offset: int, *, consume: bool) -> bool:
        script = self.scripts[offset]
        if script.kind == "rejected":
            if consume:
                raise RejectEvent("the handler refuses this event")
            return True
        if script.transient:
            if consume:
                script.transient -= 1
                raise ConnectionResetError(104, "Connection reset by peer")
            return True
        if script.failures:
            if consume:
                script.failures -= 1
                raise RuntimeError("the handler failed")
            return True
        return False

    def _apply(self, offset: int) -> bool:
        if offset in self.inbox:
            return False
        self.inbox.add(offset)
        self.effects[offset] += 1
        return True

    async def send_dead_letter(
        self, topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        if self.dead_letter_outages:
            self.dead_letter_outages -= 1
            raise OSError("the broker does not answer")
        assert topic == f"{TOPIC}.dlq"
        self.letters[int(dict(headers)["dlq_offset"])] += 1


SCRIPTS = st.builds(
    Script,
    kind=st.sampled_from(["valid", "valid", "valid", "invalid", "unreadable", "rejected"]),
    failures=st.integers(0, MAX_ATTEMPTS + 1),
    transient=st.integers(0, 2),
)


async def consume_everything(consumer: FakeConsumer, batch_size: int) -> list[int]:
    """Play Kafka until every record is committed; the committed offset after each commit."""
    records = [consumer_record(TOPIC, b"{}", [], offset=offset) for offset in range(len(consumer.scripts))]
    committed, commits, fetches = 0, [], 0
    while committed < len(records):
        fetches += 1
        assert fetches < 10_000, "the consumer never finishes"
        batch = records[committed : committed + batch_size]
        try:
            await consumer.handle_batch(batch)
        except Exception:  # noqa: S112 (NACK_ON_ERROR: sought back, fetched again; handle_batch logged why)
            continue
        committed += len(batch)
        handled = set(consumer.effects) | set(consumer.letters)
        assert set(range(committed)) <= handled, "an offset was committed past a record neither applied nor dead"
        commits.append(committed)
    return commits


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scripts=st.lists(SCRIPTS, min_size=1, max_size=30),
    batch_size=st.integers(1, 12),
    dead_letter_outages=st.integers(0, 3),
)
def test_every_record_is_applied_or_dead_lettered_exactly_once_and_never_committed_before(
    scripts: list[Script], batch_size: int, dead_letter_outages: int
) -> None:
    must_die = {offset for offset, script in enumerate(scripts) if script.kind != "valid"}
    may_die = {offset for offset, script in enumerate(scripts) if script.failures >= MAX_ATTEMPTS}
    consumer = FakeConsumer(scripts=scripts, dead_letter_outages=dead_letter_outages)

    commits = asyncio.run(consume_everything(consumer, batch_size))

    assert commits[-1] == len(scripts)
    dead, applied = set(consumer.letters), set(consumer.effects)
    assert not dead & applied, "a record was both applied and dead-lettered"
    assert dead | applied == set(range(len(scripts)))
    assert must_die <= dead <= must_die | may_die
    assert set(consumer.letters.values()) <= {1}, "a record was dead-lettered twice"
    assert set(consumer.effects.values()) <= {1}, "a record was applied twice"
    assert consumer.blocked is None
