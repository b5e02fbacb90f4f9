"""The citizen's side on the real broker and database: the status projection follows a whole lifecycle (a
redelivered event applied once), an answer to an agency's question is accepted once and refused when not asked, and
neither the status answer nor the pages show an internal id."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.contract.applications import (
    ApplicationCompleted,
    ApplicationInformationRequested,
    ApplicationStageStarted,
    ApplicationTaskUpdated,
    StageTask,
)
from satupintu.contract.base import TaskState
from satupintu.contract.envelope import Event
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.waiting import eventually
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app as create_intake
from tests.conftest import running
from tests.support import (
    produce,
    record_of,
    skck_application,
    upload_document,
    wait_for_events,
)

pytestmark = pytest.mark.integration

APPLICATIONS = Topic.APPLICATIONS.name_for()


@pytest.fixture
async def intake_settings(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, tmp_path: Path
) -> IntakeSettings:
    await service_database(database_settings, "intake")
    return IntakeSettings(kafka=kafka_settings, database=database_settings, documents_dir=tmp_path)


def routing_event(application_id: str, payload: Any) -> Event[Any]:
    return Event(payload=payload, source="/satupintu/routing", subject=application_id, actor="service:routing")


async def test_status_projection_follows_a_lifecycle_and_applies_a_redelivered_event_once(
    intake_settings: IntakeSettings, kafka_settings: KafkaSettings
) -> None:
    app = create_intake(intake_settings)
    async with running(app) as client:
        accepted = (await client.post("/applications", json=await skck_application(client))).json()
        application_id, code = accepted["application_id"], accepted["tracking_code"]
        now = datetime.now(UTC)
        task_id = str(uuid.uuid4())
        due = now + timedelta(days=3)
        started = routing_event(
            application_id,
            ApplicationStageStarted(
                application_id=application_id,
                stage_index=0,
                stage_name="pemeriksaan",
                stage_count=1,
                tasks=(StageTask(task_id=task_id, agency="polres", due_at=due),),
                started_at=now,
            ),
        )
        claimed = routing_event(
            application_id,
            ApplicationTaskUpdated(
                application_id=application_id, task_id=task_id, agency="polres", state=TaskState.CLAIMED, at=now
            ),
        )
        approved = routing_event(
            application_id,
            ApplicationTaskUpdated(
                application_id=application_id, task_id=task_id, agency="polres", state=TaskState.APPROVED, at=now
            ),
        )
        completed = routing_event(
            application_id,
            ApplicationCompleted(
                application_id=application_id, outputs={"polres": {"skck_number": "SKCK/77"}}, completed_at=now
            ),
        )
        await produce(
            kafka_settings,
            APPLICATIONS,
            [record_of(e) for e in (started, claimed, claimed, approved, completed)],
        )

        async def status() -> dict[str, Any]:
            answer = await client.get(f"/applications/{code.lower()}")
            assert answer.status_code == 200, answer.text
            body: dict[str, Any] = answer.json()
            return body

        final = await eventually(status, lambda body: body["status"] == "completed", what="completed")
        missing = await client.get("/applications/SP-NOPE0-000000-000000")

    assert [item["kind"] for item in final["timeline"]] == [
        "application.stage_started",
        "application.task_updated",
        "application.task_updated",
        "application.completed",
    ]
    assert final["applicant_nik"] == "************0002"  # issue 17: at most the last 4 digits
    assert final["applicant_initials"] == "S. R."
    assert "Siti" not in str(final)
    assert final["tasks"][0]["state"] == "approved"
    assert final["tasks"][0]["agency_name"]["en"] == "District Police"
    assert final["outputs"] == {"polres": {"skck_number": "SKCK/77"}}
    assert final["current_stage"] == 0
    assert missing.status_code == 404
    assert missing.json()["type"].endswith("/unknown-tracking-code")


async def test_tracking_answers_and_pages_show_agencies_stages_and_states_but_no_internal_id(
    intake_settings: IntakeSettings, kafka_settings: KafkaSettings
) -> None:
    app = create_intake(intake_settings)
    async with running(app) as client:
        application = {
            "service_code": "pbg",
            "applicant": {"nik": "3171015506900002", "name": "Siti Rahayu", "language": "en"},
            "data": {
                "building_function": "hunian",
                "floor_area_m2": 120.5,
                "floors": 2,
                "site_address": "Jl. Melati 7, Balikpapan",
                "land_certificate_number": "SHM-00123",
            },
            "documents": [
                {"name": "building_plan", "sha256": await upload_document(client, "building_plan")},
                {"name": "land_certificate", "sha256": await upload_document(client, "land_certificate")},
            ],
            "consent_reuse": False,
        }
        accepted = await client.post("/applications", json=application)
        assert accepted.status_code == 202, accepted.text
        application_id, code = accepted.json()["application_id"], accepted.json()["tracking_code"]
        now = datetime.now(UTC)
        works_task, environment_task = str(uuid.uuid4()), str(uuid.uuid4())
        events = [
            ApplicationStageStarted(
                application_id=application_id,
                stage_index=0,
                stage_name="kajian-teknis",
                stage_count=2,
                tasks=(
                    StageTask(task_id=works_task, agency="dinas-pupr", due_at=now + timedelta(days=14)),
                    StageTask(task_id=environment_task, agency="dlh", due_at=now + timedelta(days=10)),
                ),
                started_at=now,
            ),
            ApplicationTaskUpdated(
                application_id=application_id, task_id=works_task, agency="dinas-pupr", state=TaskState.CLAIMED, at=now
            ),
            ApplicationInformationRequested(
                application_id=application_id,
                task_id=works_task,
                agency="dinas-pupr",
                questions=("Berapa lantai?",),
                requested_at=now,
            ),
            ApplicationInformationRequested(
                application_id=application_id,
                task_id=environment_task,
                agency="dlh",
                questions=("Apakah ada sumur resapan?",),
                requested_at=now,
            ),
        ]
        await produce(kafka_settings, APPLICATIONS, [record_of(routing_event(application_id, e)) for e in events])

        async def status() -> dict[str, Any]:
            answer = await client.get(f"/applications/{code}")
            assert answer.status_code == 200, answer.text
            body: dict[str, Any] = answer.json()
            return body

        asked = await eventually(
            status,
            lambda body: len(body["tasks"]) == 2 and all(task["questions"] for task in body["tasks"]),
            what="both questions shown",
        )
        raw_status = (await client.get(f"/applications/{code}")).text
        status_page = await client.get(f"/track/{code}?lang=en")
        answer_page = await client.get(f"/track/{code}/answer?lang=en")
        to_environment = await client.post(
            f"/applications/{code}/information",
            json={"nik": "3171015506900002", "agency": "dlh", "message": "Ada, dua sumur"},
        )
        unknown_agency = await client.post(
            f"/applications/{code}/information",
            json={"nik": "3171015506900002", "agency": "polres", "message": "?"},
        )
        to_works = await client.post(
            f"/track/{code}/answer",
            data={"answer-nik": "3171015506900002", "answer-agency": "dinas-pupr", "data-floors": "3"},
        )
        provided = await wait_for_events(
            kafka_settings, APPLICATIONS, application_id, "application.information_provided", 2
        )

    internal_ids = (application_id, works_task, environment_task)
    for shown in (raw_status, status_page.text, answer_page.text, to_environment.text, to_works.text):
        assert not [found for found in internal_ids if found in shown]
        assert "task_id" not in shown
        assert "application_id" not in shown
    assert [(task["agency"], task["stage_index"], task["state"]) for task in asked["tasks"]] == [
        ("dinas-pupr", 0, "information_requested"),
        ("dlh", 0, "information_requested"),
    ]
    assert all(task["due_at"] for task in asked["tasks"])
    assert {"task_id"} & {key for item in asked["timeline"] for key in item["detail"]} == set()
    assert status_page.status_code == answer_page.status_code == 200
    assert [option.split('"')[1] for option in answer_page.text.split('name="answer-agency" value=')[1:]] == [
        "dinas-pupr",
        "dlh",
    ]
    assert to_environment.status_code == 202, to_environment.text
    assert set(to_environment.json()) == {"tracking_code", "agency", "status", "provided_at"}
    assert to_environment.json()["agency"] == "dlh"
    assert (unknown_agency.status_code, unknown_agency.json()["type"].split("/")[-1]) == (
        409,
        "no-information-requested",
    )
    assert to_works.status_code == 303, to_works.text
    assert [(event.payload.agency, event.payload.task_id) for event in provided] == [
        ("dlh", environment_task),
        ("dinas-pupr", works_task),
    ]
