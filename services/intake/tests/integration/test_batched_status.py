"""The status projection given a batch on the real database: a stage started, the same stage started again under
a new event id and its task claimed, all of one application in one batch, project what they project one at a time,
and the batch is applied together (its applications and tasks read once for the batch)."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from satupintu.common.consumer import EventConsumer
from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.contract.applications import ApplicationStageStarted, ApplicationTaskUpdated, StageTask
from satupintu.contract.base import TaskState
from satupintu.contract.envelope import Event
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.plugin import service_database
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app as create_intake
from tests.conftest import running
from tests.support import fetched, skck_application

pytestmark = pytest.mark.integration


@pytest.fixture
async def intake_settings(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, tmp_path: Path
) -> IntakeSettings:
    await service_database(database_settings, "intake")
    return IntakeSettings(kafka=kafka_settings, database=database_settings, documents_dir=tmp_path)


def status_consumer(app: FastAPI) -> EventConsumer:
    [consumer] = [each for each in app.state.intake.runtime.consumers if getattr(each, "name", "") == "intake-status"]
    assert isinstance(consumer, EventConsumer)
    return consumer


def first_stage(application_id: str, due: datetime) -> list[Event[Any]]:
    """Its first stage started, started again under a new event id (a republished event), and its task claimed."""
    now = datetime.now(UTC)
    task_id = str(uuid.uuid4())

    def from_routing(payload: Any) -> Event[Any]:
        return Event(payload=payload, source="/satupintu/routing", subject=application_id, actor="service:routing")

    started = from_routing(
        ApplicationStageStarted(
            application_id=application_id,
            stage_index=0,
            stage_name="pemeriksaan",
            stage_count=1,
            tasks=(StageTask(task_id=task_id, agency="polres", due_at=due),),
            started_at=now,
        )
    )
    claimed = from_routing(
        ApplicationTaskUpdated(
            application_id=application_id, task_id=task_id, agency="polres", state=TaskState.CLAIMED, at=now
        )
    )
    return [started, dataclasses.replace(started, id=str(uuid.uuid4())), claimed]


async def submitted(client: httpx.AsyncClient) -> tuple[str, str]:
    accepted = (await client.post("/applications", json=await skck_application(client))).json()
    return accepted["application_id"], accepted["tracking_code"]


async def status(client: httpx.AsyncClient, tracking_code: str) -> dict[str, Any]:
    """What the citizen's status answer shows of the stages: state, stage, due date, tasks and timeline."""
    answer = await client.get(f"/applications/{tracking_code.lower()}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return {
        "status": body["status"],
        "current_stage": body["current_stage"],
        "due_at": body["due_at"],
        "tasks": [(task["agency"], task["state"]) for task in body["tasks"]],
        "timeline": [item["kind"] for item in body["timeline"]],
    }


async def test_stage_events_of_one_application_in_one_batch_project_what_they_project_one_at_a_time(
    intake_settings: IntakeSettings, kafka_settings: KafkaSettings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_intake(intake_settings)
    topic = kafka_settings.topic_name(Topic.APPLICATIONS.name_for())
    due = datetime.now(UTC) + timedelta(days=3)
    async with running(app) as client:
        consumer = status_consumer(app)
        together, together_code = await submitted(client)
        alone, alone_code = await submitted(client)

        with caplog.at_level(logging.INFO, logger="satupintu.common.consuming"):
            await consumer.process_batch(fetched(topic, first_stage(together, due), 1_000_000))
        for offset, event in enumerate(first_stage(alone, due), start=1_000_003):
            await consumer.process_batch(fetched(topic, [event], offset))

        batched, one_at_a_time = await status(client, together_code), await status(client, alone_code)

    assert "one event at a time" not in caplog.text  # the batch was applied together, not again event by event
    assert batched == one_at_a_time
    assert batched["tasks"] == [("polres", "claimed")]
