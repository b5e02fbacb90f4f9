"""Hostile and broken records in the middle of a batch, consumed from the real broker by a real consumer group: every
valid event is applied exactly once, each poison is in ``<topic>.dlq`` with its reason and its original headers
byte for byte, and the group's committed offset reaches the end (nothing left unhandled, nothing lost).

The poisons: a value nested 100,000 deep (``json`` raises ``RecursionError``), a ``ce_type`` and a ``ce_id`` that
are not UTF-8, a record too large for the DLQ (it goes there trimmed), a ``MemoryError`` while reading (from a
fault point: it cannot be produced for real), and an event whose handler always fails; the dead-letter topic also
refuses the first two dead letters (the consumer says why on ``/readyz`` meanwhile, and retries in place).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlalchemy import text

from satupintu.common import faults
from satupintu.common.broker import create_broker
from satupintu.common.consumer import EventConsumer, RetryPolicy, UnitOfWork
from satupintu.common.database import create_engine, create_tables, session_factory
from satupintu.common.inbox import InboxEntry
from satupintu.common.outbox import Outbox, OutboxMessage
from satupintu.common.parking import ParkedEvent
from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.contract.applications import ApplicationSubmitted
from satupintu.contract.envelope import Event
from satupintu.contract.topics import Topic, dead_letter_topic
from satupintu.devtools.testing.kafka import Record, read_to_end
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.waiting import eventually
from tests.support import record_of, submitted_event

pytestmark = pytest.mark.integration

CONSUMER = "poisontest"
DLQ_MAX_MESSAGE_BYTES = "600000"


def headers_of(event: Event[Any]) -> list[tuple[str, bytes]]:
    return record_of(event).header_list()


def with_header(headers: list[tuple[str, bytes]], name: str, value: bytes) -> list[tuple[str, bytes]]:
    return [(key, value if key == name else raw) for key, raw in headers]


async def create_topics(kafka: KafkaSettings, topic: str) -> None:
    """The topic with one partition (so the records come in the order written) and a DLQ that takes less than the
    topic does, so a record the topic took can be too large for its dead letter."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(topic, 1, 1),
                NewTopic(
                    dead_letter_topic(topic), 1, 1, topic_configs={"max.message.bytes": str(DLQ_MAX_MESSAGE_BYTES)}
                ),
            ]
        )
    finally:
        await admin.close()


async def test_poison_records_in_a_batch_are_dead_lettered_with_their_reasons_and_every_event_applied_once(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings
) -> None:
    kafka = kafka_settings.model_copy(update={"topic_prefix": f"{kafka_settings.topic_prefix}poison."})
    topic = kafka.topic_name(Topic.APPLICATIONS.name_for())
    await create_topics(kafka, topic)
    events = [submitted_event() for _ in range(9)]
    template = headers_of(submitted_event())
    failing = events[6]
    poisons: dict[str, tuple[list[tuple[str, bytes]], bytes, str]] = {
        "nested": (template, b"[" * 100_000, "not valid JSON"),
        "type-not-utf8": (with_header(template, "ce_type", b"application.\xffsubmitted"), b"{}", "ce_type"),
        "id-not-utf8": (with_header(template, "ce_id", b"\xfe\xff-id"), record_of(events[0]).value, "ce_id"),
        "too-large": (template, b'{"note": "' + b"x" * 700_000, "not valid JSON"),
        "memory": (headers_of(submitted_event()), record_of(submitted_event()).value, "MemoryError"),
    }
    keys = {kind: f"poison-{kind}-{uuid.uuid4()}".encode() for kind in poisons}
    written: list[tuple[bytes, bytes, list[tuple[str, bytes]]]] = []
    for index, event in enumerate(events):
        written.append((event.subject.encode(), record_of(event).value, headers_of(event)))
        if index < len(poisons):
            kind = list(poisons)[index]
            headers, value, _ = poisons[kind]
            written.append((keys[kind], value, headers))

    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers, acks="all")
    await producer.start()
    try:
        for key, value, headers in written:
            await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()

    await service_database(database_settings, CONSUMER)
    engine = create_engine(database_settings.owner(), CONSUMER)  # a scratch database: its tables are the test's
    await create_tables(engine, [InboxEntry, OutboxMessage, ParkedEvent])
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE effects (n serial, application_id text)"))

    async def handle(uow: UnitOfWork, event: Event[Any]) -> None:
        await uow.session.execute(text("INSERT INTO effects (application_id) VALUES (:id)"), {"id": event.subject})
        if event.subject == failing.subject:
            raise RuntimeError("this event's handler always fails")

    broker = create_broker(kafka, CONSUMER)
    consumer = EventConsumer(
        name=CONSUMER,
        sessions=session_factory(engine),
        outbox=Outbox(kafka),
        broker=broker,
        kafka=kafka,
        handlers={ApplicationSubmitted: handle},
        retry=RetryPolicy(max_attempts=2, initial_delay=0.01),
    )
    consumer.subscribe(Topic.APPLICATIONS.name_for())
    blocked_while_refused: list[str | None] = []
    faults.arm(f"{CONSUMER}.read:{keys['memory'].decode()}", raise_memory_error)
    faults.arm(f"{CONSUMER}.dead_letter", refuse_twice(lambda: blocked_while_refused.append(consumer.blocked)))
    try:
        await broker.start()
        committed = await eventually(
            lambda: committed_offset(kafka, topic), lambda offset: offset == len(written), what="all committed"
        )
    finally:
        faults.disarm()
        await broker.stop()
        await consumer.dead_letters.stop()
    async with engine.connect() as connection:
        applied = [row[0] for row in await connection.execute(text("SELECT application_id FROM effects ORDER BY n"))]
    await engine.dispose()
    dead = await read_to_end(kafka.bootstrap_servers, dead_letter_topic(topic))

    assert committed == len(written)
    assert applied == [event.subject for event in events if event is not failing]
    letters: dict[bytes | None, list[Record]] = {}
    for letter in dead:
        letters.setdefault(letter.key, []).append(letter)
    assert sorted(letters) == sorted([*keys.values(), failing.subject.encode()])
    assert all(len(copies) == 1 for copies in letters.values()), "a poison was dead-lettered twice"
    for kind, (headers, value, reason) in poisons.items():
        [letter] = letters[keys[kind]]
        assert reason in (letter.header("dlq_reason") or ""), (kind, letter.header("dlq_reason"))
        assert letter.header("dlq_consumer") == CONSUMER
        assert [(name, raw) for name, raw in letter.headers.items() if not name.startswith("dlq_")] == headers
        if kind == "too-large":
            assert letter.value == b""
            assert letter.header("dlq_trimmed") == "true"
            assert letter.header("dlq_value_sha256") == hashlib.sha256(value).hexdigest()
        else:
            assert letter.value == value
    [handler_letter] = letters[failing.subject.encode()]
    assert "handler failed after 2 attempts" in (handler_letter.header("dlq_reason") or "")
    assert any("cannot dead-letter" in (blocked or "") for blocked in blocked_while_refused), blocked_while_refused
    assert consumer.blocked is None
    assert consumer.processed == len(events) - 1


def raise_memory_error() -> None:
    raise MemoryError


def refuse_twice(observe: Callable[[], None]) -> Callable[[], None]:
    calls = 0

    def refuse() -> None:
        nonlocal calls
        calls += 1
        observe()
        if calls <= 2:
            raise OSError("the dead-letter topic's leader does not answer")

    return refuse


async def committed_offset(kafka: KafkaSettings, topic: str) -> int:
    """The consumer group's committed offset of the topic's one partition."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(kafka.topic_name(f"satupintu.{CONSUMER}"))
    finally:
        await admin.close()
    found = offsets.get(TopicPartition(topic, 0))
    return found.offset if found is not None else -1
