"""Parked events on the real broker and database: an event whose handler keeps failing with something that passes
(a service it needs is away) is parked instead of holding its partition; later events of its key wait behind it,
other keys go on; once the cause passes the parked events are applied in their key's order; one that never
recovers is dead-lettered after its parked retries, and the events behind it then follow."""

from __future__ import annotations

import uuid
from dataclasses import replace
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
from satupintu.devtools.testing.kafka import read_to_end
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.waiting import eventually
from tests.support import produce, record_of, submitted_event

pytestmark = pytest.mark.integration

QUICK = RetryPolicy(
    initial_delay=0.01, max_delay=0.05, park_after_seconds=0.2, parked_first_delay=0.2, parked_max_delay=0.5
)


def same_key(event: Event[Any], application_id: str) -> Event[Any]:
    """``event`` as an event of ``application_id`` (the Kafka key)."""
    payload = event.payload.model_copy(update={"application_id": application_id})
    return Event(payload=payload, source=event.source, subject=application_id, actor=event.actor)


class RegistryOutage:
    """A service the handler needs, away for some applications until it is back, and for some events for good."""

    def __init__(self) -> None:
        self.away_for: set[str] = set()
        self.never_back: set[str] = set()

    def check(self, event: Event[Any]) -> None:
        if event.subject in self.away_for or event.id in self.never_back:
            raise ConnectionRefusedError(111, "the civil registry does not answer")


async def test_a_failing_event_is_parked_its_key_waits_behind_it_and_all_apply_in_order_once_it_recovers(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings
) -> None:
    kafka = kafka_settings.model_copy(update={"topic_prefix": f"{kafka_settings.topic_prefix}parked."})
    logical = Topic.APPLICATIONS.name_for()
    await ensure_topics(kafka, [logical, dead_letter_topic(logical)])
    await service_database(database_settings, "parkedtest")
    engine = create_engine(database_settings.owner(), "parkedtest")  # a scratch database: its tables are the test's
    await create_tables(engine, [InboxEntry, OutboxMessage, ParkedEvent])
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE effects (n serial, application_id text, marker text)"))
    outage = RegistryOutage()

    async def handle(uow: UnitOfWork, event: Event[Any]) -> None:
        outage.check(event)
        await uow.session.execute(
            text("INSERT INTO effects (application_id, marker) VALUES (:id, :marker)"),
            {"id": event.subject, "marker": event.payload.tracking_code},
        )

    stalled, doomed = str(uuid.uuid4()), str(uuid.uuid4())
    first, second, third = (same_key(submitted_event(), stalled) for _ in range(3))
    lost, after_lost = (same_key(submitted_event(), doomed) for _ in range(2))
    outage.away_for.add(stalled)
    outage.never_back.add(lost.id)
    others = [submitted_event() for _ in range(4)]
    broker = create_broker(kafka, "parkedtest")
    consumer = EventConsumer(
        name="parkedtest",
        sessions=session_factory(engine),
        outbox=Outbox(kafka),
        broker=broker,
        kafka=kafka,
        handlers={ApplicationSubmitted: handle},
        retry=replace(QUICK, parked_max_attempts=3),
    )
    consumer.subscribe(logical)

    async def effects() -> list[tuple[str, str]]:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT application_id, marker FROM effects ORDER BY n"))
            return [(row[0], row[1]) for row in rows]

    try:
        await broker.start()
        await produce(kafka, logical, [record_of(event) for event in [first, others[0], second, lost, others[1]]])
        await eventually(
            effects, lambda found: {others[0].subject, others[1].subject} <= {a for a, _ in found}, what="others"
        )
        await eventually(lambda: parked_count(engine), lambda count: count >= 3, what="the stalled key parked")
        await produce(kafka, logical, [record_of(event) for event in [third, after_lost, *others[2:]]])
        await eventually(effects, lambda found: {o.subject for o in others} <= {a for a, _ in found}, what="others")
        applied_while_away = await effects()

        outage.away_for.clear()  # the registry is back for the stalled application, never for the lost event

        async def retried() -> int:  # what the runtime does every parked_poll_seconds
            await consumer.retry_parked()
            return await parked_count(engine)

        await eventually(retried, lambda count: count == 0, what="every parked event applied or dead-lettered")
        applied = await effects()
        dead = await read_to_end(kafka.bootstrap_servers, kafka.topic_name(dead_letter_topic(logical)))
    finally:
        await broker.stop()
        await consumer.dead_letters.stop()
        await engine.dispose()

    assert stalled not in {application for application, _ in applied_while_away}
    stalled_markers = [marker for application, marker in applied if application == stalled]
    assert stalled_markers == [event.payload.tracking_code for event in (first, second, third)]
    assert [marker for application, marker in applied if application == doomed] == [after_lost.payload.tracking_code]
    assert sorted(application for application, _ in applied if application not in {stalled, doomed}) == sorted(
        other.subject for other in others
    )
    [letter] = dead
    assert letter.header("ce_id") == lost.id
    assert "still failing after 3 parked retries" in (letter.header("dlq_reason") or "")


async def parked_count(engine: Any) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(text("SELECT count(*) FROM parked_events")))
