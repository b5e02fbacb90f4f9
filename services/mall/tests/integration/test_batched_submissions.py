"""A batch of submissions on the real database: a submission redelivered with a new event id in the same batch
is projected once (one application, one record of its reused profile data), as when the two arrive one at a time,
and the batch is applied together (one lookup for the batch's submissions sees the application its first one
added)."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from typing import Any

import pytest
from sqlmodel import col, select

from satupintu.common.consumer import EventConsumer
from satupintu.contract.applications import ApplicationSubmitted
from satupintu.contract.envelope import Event
from satupintu.contract.topics import Topic
from satupintu.mall.storage.repository import ApplicationRepository
from satupintu.mall.storage.tables import ConsentLogEntry
from tests.support import fetched, submitted_event

from .conftest import RunningMall

pytestmark = pytest.mark.integration


def applications_consumer(mall: RunningMall) -> EventConsumer:
    [consumer] = [each for each in mall.app.state.runtime.consumers if isinstance(each, EventConsumer)]
    return consumer


def reusing_profile_data() -> Event[ApplicationSubmitted]:
    event = submitted_event("skck")
    return dataclasses.replace(event, payload=event.payload.model_copy(update={"reused_fields": ("address",)}))


def redelivered(event: Event[Any]) -> Event[Any]:
    """The same submission published again under a new event id."""
    return dataclasses.replace(event, id=str(uuid.uuid4()))


async def projected(mall: RunningMall, application_id: str) -> tuple[Any, ...]:
    """What the mall keeps of a submission: the application's service, agency and state, and its consent uses."""
    async with mall.app.state.runtime.sessions() as session:
        application = await ApplicationRepository(session).get(application_id)
        uses = (
            await session.execute(
                select(ConsentLogEntry.kind, ConsentLogEntry.agency, ConsentLogEntry.field).where(
                    col(ConsentLogEntry.application_id) == application_id
                )
            )
        ).all()
    assert application is not None
    return application.service_code, application.agency, application.state, sorted(tuple(use) for use in uses)


async def test_a_submission_redelivered_with_a_new_id_in_one_batch_is_projected_once_as_one_at_a_time_is(
    mall: RunningMall, caplog: pytest.LogCaptureFixture
) -> None:
    consumer = applications_consumer(mall)
    topic = mall.kafka.topic_name(Topic.APPLICATIONS.name_for())
    together = reusing_profile_data()
    alone = reusing_profile_data()

    with caplog.at_level(logging.INFO, logger="satupintu.common.consuming"):
        await consumer.process_batch(fetched(topic, [together, redelivered(together)], 1_000_000))
    await consumer.process_batch(fetched(topic, [alone], 1_000_002))
    await consumer.process_batch(fetched(topic, [redelivered(alone)], 1_000_003))

    assert "one event at a time" not in caplog.text  # the batch was applied together, not again event by event
    assert await projected(mall, together.subject) == await projected(mall, alone.subject)
    assert len((await projected(mall, together.subject))[3]) == 1
