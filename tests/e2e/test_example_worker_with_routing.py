"""A birth registration (akta-kelahiran) end to end with routing, the desk and the example BPJS worker: the civil
registry's officer approves at the desk with the certificate number, the worker (the real console script) enrols the
baby, and the application completes; without a number the worker asks the citizen once and approves the answer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from satupintu.agency_sdk import AgencyWorker, Outcome, PostgresLedger, Task, decision_event_id
from satupintu.agency_sdk.example_worker import bpjs_enrolment_check
from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.contract.applications import ApplicationInformationProvided
from satupintu.contract.base import Decision
from satupintu.contract.envelope import Event
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.waiting import eventually
from tests.support import events_on, produce, record_of, submitted_event, wait_for_events

pytestmark = pytest.mark.e2e

APPLICATIONS = Topic.APPLICATIONS.name_for()
BIRTH = {
    "child_name": "Ayu Lestari",
    "child_birth_date": "2026-11-01",
    "child_sex": "perempuan",
    "birth_place": "Balikpapan",
    "kk_number": "6471010101260001",
}


@pytest.fixture
def example_worker(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, ledger_dsn: str, tmp_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """The example worker as an agency would run it: the ``satupintu-agency-worker`` console script, its ledger in
    its own database on this session's server (created by the ``ledger_dsn`` fixture, so the session drops it)."""
    script = Path(sys.executable).parent / "satupintu-agency-worker"
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("AGENCY_WORKER_")},
        "KAFKA_BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": kafka_settings.topic_prefix,
        "DATABASE_URL": database_settings.owner().url,  # an agency's program, owner of its ledger's database
        "DATABASE_NAME_PREFIX": database_settings.name_prefix,
        "AGENCY_WORKER_NAME": f"bpjs-e2e-{uuid.uuid4().hex[:6]}",
    }
    with (tmp_path / "worker.log").open("ab") as log:
        process = subprocess.Popen([str(script)], env=env, stdout=log, stderr=subprocess.STDOUT)
    yield process
    if process.poll() is None:
        process.kill()
        process.wait(timeout=30)


async def registry_approves(desk: Any, kafka: KafkaSettings, application_id: str, outputs: dict[str, Any]) -> None:
    """The civil registry's officer claims the task at the desk and approves it with ``outputs``."""
    [assignment] = await wait_for_events(
        kafka, Topic.AGENCY_TASKS.name_for("disdukcapil"), application_id, "task.assigned"
    )
    officer = desk.token("disdukcapil", "rina")
    task_id = assignment.payload.task_id
    await desk.wait_for_task(officer, task_id)
    claimed = await desk.client.post(f"/tasks/{task_id}/claim", headers=officer)
    approved = await desk.client.post(
        f"/tasks/{task_id}/decision", headers=officer, json={"decision": "approved", "outputs": outputs}
    )
    assert claimed.status_code == 200, claimed.text
    assert approved.status_code == 202, approved.text


async def test_the_example_worker_enrols_the_baby_once_the_registry_issued_the_birth_certificate(
    desk: Any, routing: Any, kafka_settings: KafkaSettings, example_worker: subprocess.Popen[bytes]
) -> None:
    submitted = submitted_event("akta-kelahiran", BIRTH)
    application_id = submitted.subject
    await produce(kafka_settings, APPLICATIONS, [record_of(submitted)])

    certificate = {"birth_certificate_number": "6471-LT-20112026-0007"}
    await registry_approves(desk, kafka_settings, application_id, certificate)
    [completed] = await wait_for_events(
        kafka_settings, APPLICATIONS, application_id, "application.completed", timeout=60
    )
    [enrolment] = await wait_for_events(
        kafka_settings, Topic.AGENCY_TASKS.name_for("bpjs-kes"), application_id, "task.assigned"
    )
    [decision] = await wait_for_events(
        kafka_settings, Topic.AGENCY_DECISIONS.name_for("bpjs-kes"), application_id, "task.decided"
    )
    bpjs_officer = desk.token("bpjs-kes")
    await eventually(
        lambda: desk.pool(bpjs_officer),
        lambda ids: enrolment.payload.task_id not in ids,
        what="the worker's decision closes the task on the BPJS desk",
    )
    example_worker.send_signal(signal.SIGTERM)
    exit_code = example_worker.wait(timeout=30)

    assert enrolment.payload.previous_outputs == {"disdukcapil": certificate}
    assert decision.id == decision_event_id(enrolment.id)
    assert decision.actor.startswith("service:agency-bpjs-e2e-")
    member_number = completed.payload.outputs["bpjs-kes"]["member_number"]
    assert len(member_number) == 13
    assert member_number.isdigit()
    assert completed.payload.outputs["disdukcapil"] == certificate
    assert exit_code == 0


async def test_without_a_certificate_number_the_worker_asks_once_and_approves_the_answer(
    desk: Any, routing: Any, kafka_settings: KafkaSettings, ledger_dsn: str
) -> None:
    submitted = submitted_event("akta-kelahiran", BIRTH)
    application_id = submitted.subject

    async def this_application_only(task: Task) -> Outcome | None:
        return await bpjs_enrolment_check(task) if task.application_id == application_id else None

    worker_name = f"bpjs-ask-{uuid.uuid4().hex[:6]}"
    worker = AgencyWorker(
        "bpjs-kes",
        kafka_settings,
        this_application_only,
        worker_name=worker_name,
        ledger=PostgresLedger(ledger_dsn, agency="bpjs-kes", worker=worker_name),
    )
    await worker.start()
    try:
        await produce(kafka_settings, APPLICATIONS, [record_of(submitted)])
        await registry_approves(desk, kafka_settings, application_id, {})
        [requested] = await wait_for_events(
            kafka_settings, APPLICATIONS, application_id, "application.information_requested", timeout=60
        )
        answer = Event(
            payload=ApplicationInformationProvided(
                application_id=application_id,
                task_id=requested.payload.task_id,
                agency="bpjs-kes",
                answers={"message": "Nomor akta kelahiran anak kami 6471-LT-20112026-0008"},
                provided_at=datetime.now(UTC),
            ),
            source="/satupintu/intake",
            subject=application_id,
            actor="citizen",
        )
        await produce(kafka_settings, APPLICATIONS, [record_of(answer)])
        [completed] = await wait_for_events(
            kafka_settings, APPLICATIONS, application_id, "application.completed", timeout=60
        )
    finally:
        await worker.stop()

    decisions = [
        event
        for event in await events_on(kafka_settings, Topic.AGENCY_DECISIONS.name_for("bpjs-kes"), application_id)
        if event.type == "task.decided"
    ]
    assert [d.payload.decision for d in decisions] == [Decision.NEEDS_INFORMATION, Decision.APPROVED]
    assert len({d.id for d in decisions}) == 2
    assert completed.payload.outputs["bpjs-kes"]["birth_certificate_number"] == "6471-LT-20112026-0008"
