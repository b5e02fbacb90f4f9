"""``make bench``'s step "one slow agency never stalls another": another agency's submit → first task, measured
without and then with one agency's tasks topic flooded (tasks its worker is too slow to take: none runs here) and its
decisions arriving slowly. Both at routing's output (``task.assigned`` on the agency's topic) and at the desk (the
task in the desk's database). Figures and how to read them: docs/performance.md. Not a test: nothing asserts."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.load import application_body, percentile
from satupintu.common.settings import KafkaSettings
from satupintu.contract.base import Decision
from satupintu.contract.envelope import Event, from_record
from satupintu.contract.tasks import TaskAssigned
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.payments import payment_confirmed
from tests.support import decision_event, record_of, submitted_event

FLOODED = "polres"
"""The slow agency: its tasks topic is flooded, its decisions come slowly (SKCK is its service)."""
MEASURED = "djp"
"""The other agency: the bench's NPWP applications go to it."""
DECISIONS_PER_SECOND = 2.0


async def publish(kafka: KafkaSettings, events: list[Event[Any]], logical_topic: str) -> None:
    """Publish ``events`` on a topic at once (acknowledged together, not one by one)."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers, linger_ms=20, **kafka.client_options())
    await producer.start()
    try:
        topic = kafka.topic_name(logical_topic)
        pending = []
        for event in events:
            record = record_of(event)
            pending.append(await producer.send(topic, record.value, key=record.key, headers=record.header_list()))
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


def flood_task(index: int) -> Event[TaskAssigned]:
    """One of the flood's assignments for the slow agency, as routing would publish it."""
    application_id, now = str(uuid.uuid4()), datetime.now(UTC)
    return Event(
        payload=TaskAssigned(
            application_id=application_id,
            task_id=str(uuid.uuid4()),
            agency=FLOODED,
            service_code="skck",
            stage_index=0,
            fields={"purpose": "Melamar pekerjaan", "address": f"Jl. Banjir {index}"},
            due_at=now + timedelta(days=10),
            assigned_at=now,
        ),
        source="/satupintu/routing",
        subject=application_id,
        actor="service:routing",
    )


async def routed_assignments(kafka: KafkaSettings, count: int) -> list[Event[TaskAssigned]]:
    """Submit ``count`` SKCK applications (their fee paid) through routing; the assignments it publishes, for the
    slow decisions to answer."""
    topic = kafka.topic_name(Topic.AGENCY_TASKS.name_for(FLOODED))
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka.bootstrap_servers, group_id=None)
    await consumer.start()
    await consumer.seek_to_end()
    submitted = [submitted_event("skck") for _ in range(count)]
    wanted = {event.subject for event in submitted}
    found: dict[str, Event[TaskAssigned]] = {}
    try:
        events: list[Event[Any]] = [e for s in submitted for e in (s, payment_confirmed(s.subject))]
        await publish(kafka, events, Topic.APPLICATIONS.name_for())
        deadline = time.monotonic() + 60
        while set(found) != wanted and time.monotonic() < deadline:
            for messages in (await consumer.getmany(timeout_ms=200)).values():
                for message in messages:
                    if dict(message.headers).get("ce_type") == b"task.assigned":
                        event = from_record(message.headers, message.value, message.key)
                        if event.subject in wanted:
                            found[event.subject] = event
    finally:
        await consumer.stop()
    return list(found.values())


async def slow_decisions(kafka: KafkaSettings, assignments: list[Event[TaskAssigned]]) -> None:
    """The slow agency's decisions: one approval every ``1 / DECISIONS_PER_SECOND`` seconds until cancelled."""
    for assignment in assignments:
        decided = decision_event(assignment, Decision.APPROVED)
        await publish(kafka, [decided], Topic.AGENCY_DECISIONS.name_for(FLOODED))
        await asyncio.sleep(1 / DECISIONS_PER_SECOND)


async def first_task_at_desk(
    intake_url: str, kafka: KafkaSettings, desk_dsn: str, rate: float, seconds: float
) -> dict[str, float]:
    """Open-loop NPWP submissions at ``rate`` per second; from sending the POST to ``task.assigned`` on the measured
    agency's topic (``p*_ms``) and to the task in the desk's database (``desk_p*_ms``, polled every 20 ms)."""
    consumer = AIOKafkaConsumer(
        kafka.topic_name(Topic.AGENCY_TASKS.name_for(MEASURED)),
        bootstrap_servers=kafka.bootstrap_servers,
        group_id=None,
        auto_offset_reset="latest",
    )
    await consumer.start()
    await consumer.seek_to_end()
    sent: dict[str, float] = {}
    assigned: dict[str, float] = {}
    at_desk: dict[str, float] = {}
    desk = await asyncpg.connect(desk_dsn)

    async def listen() -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=200)
            now = time.perf_counter()
            for messages in batches.values():
                for message in messages:
                    if dict(message.headers).get("ce_type") == b"task.assigned":
                        assigned.setdefault((message.key or b"").decode(), now)

    async def watch_desk() -> None:
        while True:
            waiting = [key for key in sent if key not in at_desk]
            if waiting:
                rows = await desk.fetch(
                    "SELECT application_id FROM desk_tasks WHERE application_id = ANY($1::text[])", waiting
                )
                now = time.perf_counter()
                for row in rows:
                    at_desk.setdefault(row["application_id"], now)
            await asyncio.sleep(0.02)

    watchers = [asyncio.create_task(listen()), asyncio.create_task(watch_desk())]
    async with httpx.AsyncClient(timeout=30) as client:

        async def submit(index: int) -> None:
            started = time.perf_counter()
            answer = await client.post(intake_url, json=application_body(index))
            if answer.status_code == 202:
                sent[answer.json()["application_id"]] = started

        submissions = []
        total = int(rate * seconds)
        began = time.perf_counter()
        for index in range(total):
            await asyncio.sleep(max(0.0, began + index / rate - time.perf_counter()))
            submissions.append(asyncio.create_task(submit(index)))
        await asyncio.gather(*submissions)
    deadline = time.monotonic() + 120
    while (set(sent) - set(assigned) or set(sent) - set(at_desk)) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    for watcher in watchers:
        watcher.cancel()
    await asyncio.gather(*watchers, return_exceptions=True)
    await consumer.stop()
    await desk.close()
    to_topic = [(assigned[key] - sent[key]) * 1000 for key in sent if key in assigned]
    to_desk = [(at_desk[key] - sent[key]) * 1000 for key in sent if key in at_desk]
    return {
        "offered_per_second": rate,
        "submitted": len(sent),
        "tasks_seen": len(to_topic),
        "p50_ms": round(percentile(to_topic, 0.50), 1),
        "p99_ms": round(percentile(to_topic, 0.99), 1),
        "at_desk": len(to_desk),
        "desk_p50_ms": round(percentile(to_desk, 0.50), 1),
        "desk_p99_ms": round(percentile(to_desk, 0.99), 1),
    }


async def flooded_desk_count(desk_dsn: str, task_ids: list[str]) -> int:
    """How many of the flood's tasks the desk has taken."""
    connection = await asyncpg.connect(desk_dsn)
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM desk_tasks WHERE task_id = ANY($1::text[])", task_ids
        )
    finally:
        await connection.close()
    return count


async def one_slow_agency(
    intake_url: str, kafka: KafkaSettings, desk_dsn: str, *, flood: int, rate: float, seconds: float
) -> dict[str, Any]:
    """The measured agency's submit → first task without, then with, the slow agency flooded; and how far the desk
    got with the flood by the end of the run."""
    assignments = await routed_assignments(kafka, max(1, int(seconds * DECISIONS_PER_SECOND) + 5))
    calm = await first_task_at_desk(intake_url, kafka, desk_dsn, rate, seconds)
    flood_events = [flood_task(index) for index in range(flood)]
    await publish(kafka, list(flood_events), Topic.AGENCY_TASKS.name_for(FLOODED))
    deciding = asyncio.create_task(slow_decisions(kafka, assignments))
    try:
        flooded = await first_task_at_desk(intake_url, kafka, desk_dsn, rate, seconds)
    finally:
        deciding.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await deciding
    taken = await flooded_desk_count(desk_dsn, [event.payload.task_id for event in flood_events])
    return {
        "flooded_agency": FLOODED,
        "measured_agency": MEASURED,
        "flood_tasks": flood,
        "flood_taken_by_desk_at_end": taken,
        "without_flood": calm,
        "with_flood": flooded,
        "ratio_p99": round(flooded["p99_ms"] / calm["p99_ms"], 2) if calm["p99_ms"] else None,
        "ratio_desk_p99": round(flooded["desk_p99_ms"] / calm["desk_p99_ms"], 2) if calm["desk_p99_ms"] else None,
    }
