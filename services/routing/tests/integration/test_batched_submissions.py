"""A batch of submissions on the real database: a submission redelivered with a new event id in the same batch
starts one workflow, as when the two arrive one at a time, and the batch is applied together (one lookup for the
batch's submissions recognises the workflow its first one created)."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI

from satupintu.common.consumer import EventConsumer
from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.contract.envelope import Event
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.plugin import service_database
from satupintu.routing.config import RoutingSettings
from satupintu.routing.main import create_app
from satupintu.routing.storage.repository import WorkflowRepository
from tests.conftest import running
from tests.support import fetched, submitted_event

pytestmark = pytest.mark.integration

PBG_DATA = {
    "building_function": "hunian",
    "floor_area_m2": 120.5,
    "floors": 2,
    "site_address": "Jl. Melati 7, Balikpapan",
    "land_certificate_number": "SHM-00123",
}


@pytest.fixture
async def routing(kafka_settings: KafkaSettings, database_settings: DatabaseSettings) -> AsyncIterator[FastAPI]:
    """A running routing service on this session's broker and database."""
    await service_database(database_settings, "routing")
    app = create_app(RoutingSettings(kafka=kafka_settings, database=database_settings, sla_check_interval_seconds=3600))
    async with running(app):
        yield app


def applications_consumer(app: FastAPI) -> EventConsumer:
    [consumer] = [each for each in app.state.routing.runtime.consumers if isinstance(each, EventConsumer)]
    return consumer


def redelivered(event: Event[Any]) -> Event[Any]:
    """The same submission published again under a new event id."""
    return dataclasses.replace(event, id=str(uuid.uuid4()))


async def stored(app: FastAPI, application_id: str) -> tuple[Any, ...]:
    """What routing keeps of an application: its workflow's state and stage, and its tasks."""
    async with app.state.routing.runtime.sessions() as session:
        repository = WorkflowRepository(session)
        workflow = await repository.workflow(application_id)
        tasks = await repository.tasks(application_id)
    assert workflow is not None
    return workflow.state, workflow.current_stage, [(task.stage_index, task.agency, task.state) for task in tasks]


async def test_a_submission_redelivered_with_a_new_id_in_one_batch_starts_one_workflow_as_one_at_a_time_does(
    routing: FastAPI, kafka_settings: KafkaSettings, caplog: pytest.LogCaptureFixture
) -> None:
    consumer = applications_consumer(routing)
    topic = kafka_settings.topic_name(Topic.APPLICATIONS.name_for())
    together = submitted_event("pbg", PBG_DATA)
    alone = submitted_event("pbg", PBG_DATA)

    with caplog.at_level(logging.INFO, logger="satupintu.common.consuming"):
        await consumer.process_batch(fetched(topic, [together, redelivered(together)], 1_000_000))
    await consumer.process_batch(fetched(topic, [alone], 1_000_002))
    await consumer.process_batch(fetched(topic, [redelivered(alone)], 1_000_003))

    assert "one event at a time" not in caplog.text  # the batch was applied together, not again event by event
    assert await stored(routing, together.subject) == await stored(routing, alone.subject)
    tasks = (await stored(routing, together.subject))[2]
    assert len({(stage, agency) for stage, agency, _ in tasks}) == len(tasks)  # one task per agency: started once
