"""The worker SDK on the real broker: a redelivered task (even to a restarted worker) publishes one decision, and
stopping the worker finishes the task in hand and commits it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from satupintu.agency_sdk import AgencyWorker, Outcome, PostgresLedger, Task, approve, decision_event_id
from satupintu.common.settings import KafkaSettings
from satupintu.contract.envelope import Event
from satupintu.contract.tasks import TaskAssigned
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.waiting import eventually
from tests.support import events_on, wait_for_events

pytestmark = pytest.mark.integration

DECISIONS = Topic.AGENCY_DECISIONS.name_for("dlh")
Assign = Callable[..., Awaitable[Event[TaskAssigned]]]


def assigned_event(agency: str, service_code: str) -> Event[TaskAssigned]:
    now = datetime.now(UTC)
    application_id = str(uuid.uuid4())
    return Event(
        payload=TaskAssigned(
            application_id=application_id,
            task_id=str(uuid.uuid4()),
            agency=agency,
            service_code=service_code,
            stage_index=0,
            fields={"building_function": "hunian"},
            due_at=now + timedelta(days=10),
            assigned_at=now,
        ),
        source="/satupintu/routing",
        subject=application_id,
        actor="service:routing",
    )


async def test_a_task_delivered_again_to_a_restarted_worker_publishes_one_decision(
    kafka_settings: KafkaSettings, assign: Assign, ledger_dsn: str
) -> None:
    decided: list[str] = []
    mine: set[str] = set()

    async def environment_office(task: Task) -> Outcome | None:
        if task.application_id not in mine:
            return None  # another test's task: a fresh group reads the topic from its start
        decided.append(task.task_id)
        return approve({"approval": f"PL-{task.task_id[:4]}"})

    name = f"sdk-{uuid.uuid4().hex[:6]}"
    ledger_key = {"agency": "dlh", "worker": name}
    task = await assign("dlh", service_code="pbg", fields={"building_function": "hunian"})
    marker = assigned_event("dlh", service_code="pbg")
    mine.update({task.subject, marker.subject})
    first = AgencyWorker(
        "dlh", kafka_settings, environment_office, worker_name=name, ledger=PostgresLedger(ledger_dsn, **ledger_key)
    )
    await first.start()
    try:
        await wait_for_events(kafka_settings, DECISIONS, task.subject, "task.decided")
    finally:
        await first.stop()

    # the same assignment again (a producer retry upstream, or offsets lost): a new worker, same ledger
    await assign("dlh", event=task)
    await assign("dlh", event=marker)
    restarted = AgencyWorker(
        "dlh", kafka_settings, environment_office, worker_name=name, ledger=PostgresLedger(ledger_dsn, **ledger_key)
    )
    await restarted.start()
    try:
        await wait_for_events(kafka_settings, DECISIONS, marker.subject, "task.decided")
    finally:
        await restarted.stop()

    decisions = [e for e in await events_on(kafka_settings, DECISIONS, task.subject) if e.type == "task.decided"]
    assert [d.id for d in decisions] == [decision_event_id(task.id)]
    assert decided == [task.payload.task_id, marker.payload.task_id]
    assert restarted.duplicates == 1


async def test_stopping_the_worker_finishes_the_task_in_hand_and_commits_it(
    kafka_settings: KafkaSettings, assign: Assign
) -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    seen: list[str] = []
    mine: set[str] = set()

    async def slow_check(task: Task) -> Outcome | None:
        if task.application_id not in mine:
            return None
        seen.append(task.task_id)
        entered.set()
        await release.wait()
        return approve({"approval": "PL-slow"})

    name = f"graceful-{uuid.uuid4().hex[:6]}"
    worker = AgencyWorker("dlh", kafka_settings, slow_check, worker_name=name)
    task = assigned_event("dlh", service_code="pbg")
    later = assigned_event("dlh", service_code="pbg")
    mine.update({task.subject, later.subject})
    await assign("dlh", event=task)
    await worker.start()
    await asyncio.wait_for(entered.wait(), timeout=30)

    stopping = asyncio.create_task(worker.stop())
    await asyncio.wait({stopping}, timeout=1.0)  # stop must not finish while the task in hand is unfinished
    still_running = not stopping.done()
    release.set()
    await asyncio.wait_for(stopping, timeout=30)
    [decision] = await wait_for_events(kafka_settings, DECISIONS, task.subject, "task.decided")

    # a new worker in the same group starts after the committed task: it sees only the next one
    await assign("dlh", event=later)

    async def record(task: Task) -> Outcome | None:
        if task.application_id not in mine:
            return None
        seen.append(task.task_id)
        return approve()

    successor = AgencyWorker("dlh", kafka_settings, record, worker_name=name)
    await successor.start()
    try:
        await eventually(lambda: _decided(kafka_settings, later.subject), what="the next task decided")
    finally:
        await successor.stop()

    assert still_running
    assert decision.payload.outputs == {"approval": "PL-slow"}
    assert seen == [task.payload.task_id, later.payload.task_id]


async def _decided(kafka: KafkaSettings, application_id: str) -> list[Any]:
    return [e for e in await events_on(kafka, DECISIONS, application_id) if e.type == "task.decided"]
