"""A batch of records on the real database and broker: the events are applied in order in one transaction, once
each; a poison record and an event whose handler keeps failing cost only themselves (dead-lettered with reasons),
and a redelivered batch changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import text

from satupintu.common.broker import create_broker
from satupintu.common.consumer import EventConsumer, RetryPolicy, UnitOfWork
from satupintu.common.database import create_engine, create_tables, session_factory
from satupintu.common.inbox import InboxEntry
from satupintu.common.outbox import Outbox, OutboxMessage
from satupintu.common.parking import ParkedEvent
from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.common.topics_admin import ensure_topics
from satupintu.contract.applications import ApplicationSubmitted
from satupintu.contract.envelope import Event
from satupintu.contract.topics import Topic, dead_letter_topic
from satupintu.devtools.testing.kafka import consumer_record, read_to_end
from satupintu.devtools.testing.plugin import service_database
from tests.support import fetched, record_of, submitted_event

pytestmark = pytest.mark.integration


async def test_a_batch_applies_each_event_once_in_order_and_dead_letters_only_the_poison_and_the_failing_one(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings
) -> None:
    await service_database(database_settings, "batchtest")
    engine = create_engine(database_settings.owner(), "batchtest")  # a scratch database: its tables are the test's
    topic = kafka_settings.topic_name(Topic.APPLICATIONS.name_for())
    logical = Topic.APPLICATIONS.name_for()
    await ensure_topics(kafka_settings, [logical, dead_letter_topic(logical)])
    broker = create_broker(kafka_settings, "batchtest")
    await broker.connect()
    try:
        await create_tables(engine, [InboxEntry, OutboxMessage, ParkedEvent])
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE IF NOT EXISTS effects (n serial, application_id text)"))
        events = [submitted_event() for _ in range(6)]
        failing = events[3].subject

        async def handle(uow: UnitOfWork, event: Event[Any]) -> None:
            await uow.session.execute(text("INSERT INTO effects (application_id) VALUES (:id)"), {"id": event.subject})
            if event.subject == failing:
                raise RuntimeError("the handler cannot process this one")

        consumer = EventConsumer(
            name="batchtest",
            sessions=session_factory(engine),
            outbox=Outbox(kafka_settings),
            broker=broker,
            kafka=kafka_settings,
            handlers={ApplicationSubmitted: handle},
            retry=RetryPolicy(max_attempts=2, initial_delay=0.01),
        )
        records = [record_of(event) for event in events]
        poison_key = f"poison-{uuid.uuid4()}".encode()
        written = [(r.value, r.header_list(), r.key) for r in records]
        written.insert(2, (b"{not json", [("ce_type", b"application.submitted")], poison_key))
        batch = [  # as fetched: one after the other from one partition
            consumer_record(topic, value, headers, key=key, offset=offset)
            for offset, (value, headers, key) in enumerate(written)
        ]
        batch.append(batch[0])  # a redelivery inside the same poll

        await consumer.process_batch(batch)
        await consumer.process_batch(batch)  # the whole batch again, as after a crash before the offset commit

        async with engine.connect() as connection:
            applied = [
                row[0] for row in await connection.execute(text("SELECT application_id FROM effects ORDER BY n"))
            ]
        dead = await read_to_end(kafka_settings.bootstrap_servers, dead_letter_topic(topic))
    finally:
        await broker.stop()
        await consumer.dead_letters.stop()
        await engine.dispose()

    assert applied == [event.subject for event in events if event.subject != failing]
    reasons = {record.key: record.header("dlq_reason") or "" for record in dead}
    assert "handler failed after 2 attempts" in reasons[failing.encode()]
    assert reasons[poison_key]
    assert consumer.processed == 5


async def test_a_handler_loads_what_a_batch_needs_once_and_an_event_applied_alone_loads_only_its_own(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings
) -> None:
    await service_database(database_settings, "batchload")
    engine = create_engine(database_settings.owner(), "batchload")
    topic = kafka_settings.topic_name(Topic.APPLICATIONS.name_for())
    broker = create_broker(kafka_settings, "batchload")
    await broker.connect()
    loads: list[list[str]] = []
    seen: list[tuple[str, list[str]]] = []

    async def load(events: Sequence[Event[Any]]) -> list[str]:
        loads.append([event.subject for event in events])
        return [event.subject for event in events]

    async def handle(uow: UnitOfWork, event: Event[Any]) -> None:
        seen.append((event.subject, await uow.load_for_batch("subjects", event, load)))
        if event.subject == failing:
            raise RuntimeError("fails, so the batch is applied again one event at a time")

    try:
        await create_tables(engine, [InboxEntry, OutboxMessage, ParkedEvent])
        consumer = EventConsumer(
            name="batchload",
            sessions=session_factory(engine),
            outbox=Outbox(kafka_settings),
            broker=broker,
            kafka=kafka_settings,
            handlers={ApplicationSubmitted: handle},
            retry=RetryPolicy(max_attempts=1, initial_delay=0.01),
        )
        events = [submitted_event() for _ in range(4)]
        failing = "none yet"
        await consumer.process_batch(fetched(topic, events))
        together = list(loads)
        loads.clear()
        more = [submitted_event() for _ in range(2)]
        failing = more[1].subject
        await consumer.process_batch(fetched(topic, more, first_offset=9))
    finally:
        await broker.stop()
        await consumer.dead_letters.stop()
        await engine.dispose()

    subjects = [event.subject for event in events]
    assert together == [subjects]
    assert [loaded for _, loaded in seen[:4]] == [subjects] * 4
    assert [more[0].subject] in loads  # applied alone after the batch failed: its own event only
