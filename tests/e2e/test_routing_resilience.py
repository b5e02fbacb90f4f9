"""Routing survives a crash between reading a decision and committing it, and a second instance takes over the
work of one killed mid-run; every effect happens exactly once. Real processes, real broker, real database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from satupintu.agency_sdk import AgencyWorker, Outcome, Task, approve
from satupintu.common.faults import EXIT_CODE
from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.contract.applications import ApplicationSubmitted
from satupintu.contract.base import Decision
from satupintu.contract.envelope import Event, KafkaRecord
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.kafka import Record, read_to_end
from satupintu.devtools.testing.payments import payment_confirmed
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.waiting import eventually
from tests.processes import ServiceProcess
from tests.support import decide, decision_event, events_on, produce, record_of, submitted_event, wait_for_events

pytestmark = pytest.mark.e2e

APPLICATIONS = Topic.APPLICATIONS.name_for()
PBG_DATA = {
    "building_function": "usaha",
    "floor_area_m2": 300,
    "floors": 3,
    "site_address": "Jl. Sudirman 10",
    "land_certificate_number": "SHM-77",
}


def paid(applications: list[Event[ApplicationSubmitted]]) -> list[KafkaRecord]:
    """Each submission's record followed by its fee's payment (routing holds a fee service until paid)."""
    return [
        record for event in applications for record in (record_of(event), record_of(payment_confirmed(event.subject)))
    ]


async def test_crash_after_reading_a_decision_before_commit_yields_one_next_stage_task_per_agency(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    await service_database(database_settings, "routing")
    crashing = ServiceProcess(
        "routing", kafka_settings, database_settings, tmp_path, faults="routing.task.decided.before_commit"
    ).start()
    restarted: ServiceProcess | None = None
    try:
        await crashing.ready()
        submitted = submitted_event("pbg", PBG_DATA)
        application_id = submitted.subject
        await produce(
            kafka_settings, APPLICATIONS, [record_of(submitted), record_of(payment_confirmed(application_id))]
        )
        [works] = await wait_for_events(
            kafka_settings, Topic.AGENCY_TASKS.name_for("dinas-pupr"), application_id, "task.assigned"
        )
        [environment] = await wait_for_events(
            kafka_settings, Topic.AGENCY_TASKS.name_for("dlh"), application_id, "task.assigned"
        )

        await decide(kafka_settings, decision_event(works, Decision.APPROVED, outputs={"review": "KRK-1"}))
        exit_code = await crashing.exited()
        updates_while_down = [
            e.payload.state
            for e in await events_on(kafka_settings, APPLICATIONS, application_id)
            if e.type == "application.task_updated"
        ]
        await decide(kafka_settings, decision_event(environment, Decision.APPROVED, outputs={"approval": "PL-1"}))

        restarted = ServiceProcess("routing", kafka_settings, database_settings, tmp_path, label="-again").start()
        await restarted.ready()
        [licensing] = await wait_for_events(
            kafka_settings, Topic.AGENCY_TASKS.name_for("dpmptsp"), application_id, "task.assigned", timeout=60
        )
        await decide(kafka_settings, decision_event(licensing, Decision.APPROVED))
        await wait_for_events(kafka_settings, APPLICATIONS, application_id, "application.completed", timeout=60)
    finally:
        crashing.kill()
        if restarted is not None:
            restarted.stop()

    assigned = {
        agency: [
            e
            for e in await events_on(kafka_settings, Topic.AGENCY_TASKS.name_for(agency), application_id)
            if e.type == "task.assigned"
        ]
        for agency in ("dinas-pupr", "dlh", "dpmptsp")
    }
    completions = [
        e for e in await events_on(kafka_settings, APPLICATIONS, application_id) if e.type == "application.completed"
    ]
    assert exit_code == EXIT_CODE
    assert updates_while_down == ["assigned", "assigned"]
    assert {agency: len(events) for agency, events in assigned.items()} == {"dinas-pupr": 1, "dlh": 1, "dpmptsp": 1}
    assert len(completions) == 1
    assert completions[0].payload.outputs["dinas-pupr"] == {"review": "KRK-1"}


async def test_two_instances_share_the_work_and_one_killed_mid_run_loses_and_duplicates_nothing(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    await service_database(database_settings, "routing")
    first = ServiceProcess("routing", kafka_settings, database_settings, tmp_path, label="-a").start()
    second = ServiceProcess("routing", kafka_settings, database_settings, tmp_path, label="-b").start()

    async def police(task: Task) -> Outcome:
        return approve({"skck_number": f"SKCK/{task.application_id[:8]}"})

    worker = AgencyWorker("polres", kafka_settings, police, worker_name="resilience")
    applications = [submitted_event("skck") for _ in range(40)]
    ids = {event.subject for event in applications}
    try:
        await asyncio.gather(first.ready(), second.ready())
        await worker.start()
        await produce(kafka_settings, APPLICATIONS, paid(applications[:20]))

        async def completed() -> set[str]:
            records = await read_to_end(kafka_settings.bootstrap_servers, kafka_settings.topic_name(APPLICATIONS))
            return {
                (r.key or b"").decode()
                for r in records
                if r.header("ce_type") == "application.completed" and (r.key or b"").decode() in ids
            }

        await eventually(completed, lambda done: len(done) >= 5, timeout=60, what="some applications completed")
        first.kill()
        await produce(kafka_settings, APPLICATIONS, paid(applications[20:]))
        done = await eventually(completed, lambda found: found == ids, timeout=120, what="all 40 completed")
    finally:
        await worker.stop()
        first.kill()
        second.stop()

    tasks = await read_to_end(
        kafka_settings.bootstrap_servers, kafka_settings.topic_name(Topic.AGENCY_TASKS.name_for("polres"))
    )
    # A relay killed between publishing and deleting its batch publishes that batch again (decision 0002): the
    # same event, same id, which every consumer's inbox drops. What must never happen is a second, different event.
    assigned = events_per_application(tasks, "task.assigned", ids)
    records = await read_to_end(kafka_settings.bootstrap_servers, kafka_settings.topic_name(APPLICATIONS))
    completions = events_per_application(records, "application.completed", ids)
    assert done == ids
    assert {key: len(events) for key, events in assigned.items()} == dict.fromkeys(ids, 1)
    assert {key: len(events) for key, events in completions.items()} == dict.fromkeys(ids, 1)


def events_per_application(records: list[Record], kind: str, ids: set[str]) -> dict[str, set[str]]:
    """The distinct event ids of one kind per application among ``ids``."""
    found: dict[str, set[str]] = {}
    for record in records:
        key = (record.key or b"").decode()
        if key in ids and record.header("ce_type") == kind:
            found.setdefault(key, set()).add(record.header("ce_id") or "")
    return found
