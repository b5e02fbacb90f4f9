"""One agency's backlog does not hold back another's tasks at the desk: the desk reads every agency's tasks topic in
one consumer, and a task for another agency is taken in its turn, not after the backlog (docs/performance.md, one
slow agency never stalls another)."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from satupintu.agency.config import AgencySettings
from satupintu.agency.main import create_app
from satupintu.common.settings import KafkaSettings
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.apps import running
from satupintu.devtools.testing.clock import SettableClock
from satupintu.devtools.testing.waiting import eventually
from tests.desk import assigned_event
from tests.support import record_of

pytestmark = pytest.mark.integration

BACKLOG = 6_000
"""Tasks flooding one agency: megabytes, many times a batch and a partition's fetch."""


async def publish_backlog(kafka: KafkaSettings, agency: str, count: int) -> list[str]:
    """Publish ``count`` assignments on ``agency``'s tasks topic at once (not one acknowledgement at a time); their
    task ids."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers, linger_ms=20, **kafka.client_options())
    await producer.start()
    try:
        events = [assigned_event(agency) for _ in range(count)]
        topic = kafka.topic_name(Topic.AGENCY_TASKS.name_for(agency))
        sent = []
        for event in events:
            record = record_of(event)
            sent.append(await producer.send(topic, record.value, key=record.key, headers=record.header_list()))
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    return [event.payload.task_id for event in events]


async def test_a_task_for_one_agency_reaches_the_desk_before_another_agencys_backlog_is_worked_off(
    agency_settings: AgencySettings, clock: SettableClock, kafka_settings: KafkaSettings, topics: None
) -> None:
    connection = await asyncpg.connect(agency_settings.database.owner().service_url("agency", driver="postgresql"))

    async def taken(task_ids: list[str]) -> int:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM desk_tasks WHERE task_id = ANY($1::text[])", task_ids
        )
        return count

    try:
        async with running(create_app(agency_settings, clock=clock)):
            flooded = await publish_backlog(kafka_settings, "dpmptsp", BACKLOG)
            [other] = await publish_backlog(kafka_settings, "imigrasi", 1)
            waiting = BACKLOG - await taken(flooded)

            await eventually(lambda: taken([other]), lambda count: count == 1, what="imigrasi's task at the desk")

            taken_meanwhile = await taken(flooded) - (BACKLOG - waiting)
            assert taken_meanwhile < waiting / 3, (
                f"imigrasi's task waited while the desk took {taken_meanwhile} of the {waiting} dpmptsp tasks queued "
                "before it"
            )
    finally:
        await connection.close()
