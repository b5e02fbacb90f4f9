"""The outbox relay on the real database and broker: order per key, one active relay of two, takeover."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import pytest
from sqlalchemy import event as sqlalchemy_event

from satupintu.common.broker import create_broker
from satupintu.common.database import create_engine, create_tables, session_factory
from satupintu.common.outbox import Outbox, OutboxMessage, OutboxRelay
from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.common.topics_admin import ensure_topics
from satupintu.contract.applications import ApplicationTaskUpdated
from satupintu.contract.base import TaskState
from satupintu.contract.envelope import Event
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.kafka import read_to_end
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.waiting import eventually

pytestmark = pytest.mark.integration

T = TypeVar("T")


def updates(application_id: str, count: int) -> list[Event[ApplicationTaskUpdated]]:
    """``count`` events of one application, in the order they must be published."""
    return [
        Event(
            payload=ApplicationTaskUpdated(
                application_id=application_id,
                task_id=f"task-{index:03d}",
                agency="polres",
                state=TaskState.ASSIGNED,
                at=datetime.now(UTC),
            ),
            source="/test",
            subject=application_id,
            actor="service:test",
        )
        for index in range(count)
    ]


async def test_two_relays_publish_each_event_once_in_order_and_the_standby_takes_over(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings
) -> None:
    kafka = kafka_settings.model_copy(
        update={"topic_prefix": f"{kafka_settings.topic_prefix}relay{uuid.uuid4().hex[:6]}."}
    )
    await ensure_topics(kafka, [Topic.APPLICATIONS.name_for()])
    await service_database(database_settings, "relaytest")
    owner = database_settings.owner()  # a scratch database: its tables are the test's own
    engine = create_engine(owner, "relaytest")
    await create_tables(engine, [OutboxMessage])
    sessions = session_factory(engine)
    outbox = Outbox(kafka)
    dsn = owner.service_url("relaytest", driver="postgresql")
    brokers = [create_broker(kafka, "relaytest-a"), create_broker(kafka, "relaytest-b")]
    for broker in brokers:
        await broker.connect()
    first, second = (OutboxRelay(dsn, broker, batch_size=7, poll_interval=0.2) for broker in brokers)
    application_id = str(uuid.uuid4())
    events = updates(application_id, 60)
    tasks = [asyncio.create_task(first.run())]
    try:
        await eventually(_value(lambda: first.is_active), what="first relay active")
        tasks.append(asyncio.create_task(second.run()))
        for chunk in (events[:30], events[30:40]):
            async with sessions() as session, session.begin():
                await outbox.add(session, *chunk)
        await eventually(_value(lambda: first.published), lambda n: n == 40, what="first batch published")
        assert (first.is_active, second.is_active, second.published) == (True, False, 0)

        tasks[0].cancel()  # the active relay dies; its lock goes with its connection
        await asyncio.gather(tasks[0], return_exceptions=True)
        async with sessions() as session, session.begin():
            await outbox.add(session, *events[40:])
        await eventually(_value(lambda: second.published), lambda n: n == 20, what="standby took over")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for broker in brokers:
            await broker.stop()
        await engine.dispose()

    records = await read_to_end(kafka.bootstrap_servers, kafka.topic_name(Topic.APPLICATIONS.name_for()))
    published_ids = [record.header("ce_id") for record in records if record.header("ce_subject") == application_id]
    assert published_ids == [event.id for event in events]


def _value(read: Callable[[], T]) -> Callable[[], Awaitable[T]]:
    """A probe for :func:`eventually` that reads a plain value."""

    async def probe() -> T:
        return read()

    return probe


async def test_a_commit_wakes_the_leading_relay_of_its_own_process_without_a_notify(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings
) -> None:
    kafka = kafka_settings.model_copy(
        update={"topic_prefix": f"{kafka_settings.topic_prefix}relaywake{uuid.uuid4().hex[:6]}."}
    )
    await ensure_topics(kafka, [Topic.APPLICATIONS.name_for()])
    await service_database(database_settings, "relaywake")
    owner = database_settings.owner()
    engine = create_engine(owner, "relaywake")
    await create_tables(engine, [OutboxMessage])
    sessions = session_factory(engine)
    outbox = Outbox(kafka)
    broker = create_broker(kafka, "relaywake")
    await broker.connect()
    # It would not poll again within the test: only a wake-up makes it publish.
    relay = OutboxRelay(owner.service_url("relaywake", driver="postgresql"), broker, poll_interval=3600)
    outbox.local_relay = relay
    statements: list[str] = []
    sqlalchemy_event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    task = asyncio.create_task(relay.run())
    try:
        await eventually(_value(lambda: relay.is_active), what="relay active")
        async with sessions() as session, session.begin():
            await outbox.add(session, *updates(str(uuid.uuid4()), 1))
        await eventually(_value(lambda: relay.published), lambda n: n == 1, what="the committed event published")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await broker.stop()
        await engine.dispose()
    assert not [statement for statement in statements if "pg_notify" in statement]
