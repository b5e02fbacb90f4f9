"""``satupintu_consumer_lag_events`` on a running service's ``/metrics``, on the real broker: the records a consumer
has not read yet, per partition, while a backlog waits behind a batch it is stuck on, and 0 once it has caught up.
The service is payment; next to its own consumer runs one whose handler waits until the test lets it go, so the
backlog stays put while the test reads the gauge."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.common.topics_admin import ensure_topics
from satupintu.contract.applications import ApplicationSubmitted
from satupintu.contract.envelope import Event
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.apps import running
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.waiting import eventually
from satupintu.payment.config import PaymentSettings
from satupintu.payment.main import create_app
from tests.support import produce, record_of, submitted_event

pytestmark = pytest.mark.integration

APPLICATIONS = Topic.APPLICATIONS.name_for()
LAG = "satupintu_consumer_lag_events"
BACKLOG = 12


def lag_by_partition(exposition: str, consumer: str) -> dict[str, float]:
    """The lag ``consumer`` reports per partition of the applications topic in a ``/metrics`` answer."""
    return {
        sample.labels["partition"]: sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == LAG and sample.labels["consumer"] == consumer
    }


async def test_the_consumer_lag_counts_the_backlog_behind_a_stuck_batch_and_falls_to_zero_once_caught_up(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, tmp_path: Any
) -> None:
    kafka = kafka_settings.model_copy(
        update={"topic_prefix": f"{kafka_settings.topic_prefix}lag.", "max_batch_records": 1}
    )
    await ensure_topics(kafka, [APPLICATIONS])
    await produce(kafka, APPLICATIONS, [record_of(submitted_event()) for _ in range(BACKLOG)])
    await service_database(database_settings, "payment")
    app = create_app(PaymentSettings(kafka=kafka, database=database_settings, auth={"keys_dir": tmp_path}))
    released = asyncio.Event()

    async def held_until_released(uow: Any, event: Event[Any]) -> None:
        await released.wait()

    app.state.runtime.consume(APPLICATIONS, handlers={ApplicationSubmitted: held_until_released}, name="held")

    async with running(app) as client:

        async def lags() -> tuple[dict[str, float], dict[str, float]]:
            exposition = (await client.get("/metrics")).text
            return lag_by_partition(exposition, "held"), lag_by_partition(exposition, "payment")

        held_behind, payment_behind = await eventually(
            lags,
            lambda found: sum(found[0].values()) == BACKLOG - 1 and len(found[1]) == 3 and not any(found[1].values()),
            timeout=60,
            what="the held consumer behind by all but the batch in hand, payment's own caught up",
        )
        released.set()
        held_after, _ = await eventually(
            lags, lambda found: len(found[0]) == 3 and not any(found[0].values()), timeout=60, what="held caught up"
        )

    assert len(held_behind) == 3
    assert payment_behind == {"0": 0, "1": 0, "2": 0}
    assert held_after == {"0": 0, "1": 0, "2": 0}
