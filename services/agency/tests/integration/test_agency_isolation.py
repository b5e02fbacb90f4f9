"""One agency's backlog does not hold back another's tasks at the desk: the desk reads every agency's tasks topic in
one consumer, and a task for another agency is taken in its turn, not after the backlog (docs/performance.md, one
slow agency never stalls another)."""

from __future__ import annotations

import asyncio
from typing import Any

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

BACKLOG = 3_000
"""Tasks waiting for the flooded agency: several times a batch and a partition's fetch."""


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
    flooded = await publish_backlog(kafka_settings, "dpmptsp", BACKLOG)
    [other] = await publish_backlog(kafka_settings, "imigrasi", 1)
    connection = await asyncpg.connect(agency_settings.database.owner().service_url("agency", driver="postgresql"))

    async def at_the_desk() -> Any:
        return await connection.fetchrow(
            "SELECT count(*) FILTER (WHERE task_id = ANY($1::text[])) AS flooded,"
            " bool_or(task_id = $2) AS other_there FROM desk_tasks WHERE agency IN ('dpmptsp', 'imigrasi')",
            flooded,
            other,
        )

    try:
        async with running(create_app(agency_settings, clock=clock)):
            seen = await eventually(at_the_desk, lambda row: bool(row["other_there"]), what="imigrasi's task")
            assert seen["flooded"] < BACKLOG, "imigrasi's task waited until dpmptsp's whole backlog was taken"
            await eventually(at_the_desk, lambda row: row["flooded"] == BACKLOG, what="dpmptsp's backlog taken")
    finally:
        await connection.close()
