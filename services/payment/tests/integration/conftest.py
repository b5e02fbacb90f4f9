"""The payment service running on the session's real broker and database, on topics of its own and a clock the
tests move, with helpers to publish an application's lifecycle as intake and routing would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.contract.applications import ApplicationRejected, ApplicationSubmitted
from satupintu.contract.envelope import Event
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.apps import running
from satupintu.devtools.testing.clock import SettableClock
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.waiting import eventually
from satupintu.payment.config import PaymentSettings
from satupintu.payment.main import create_app
from satupintu.payment.services import ExpiryWatch
from tests.support import events_on, produce, record_of, submitted_event, wait_for_events

APPLICATIONS = Topic.APPLICATIONS.name_for()


@dataclass
class RunningPayment:
    """A running payment service and what a test needs around it."""

    app: FastAPI
    client: httpx.AsyncClient
    settings: PaymentSettings
    clock: SettableClock

    @property
    def kafka(self) -> KafkaSettings:
        return self.settings.kafka

    @property
    def watch(self) -> ExpiryWatch:
        watch: ExpiryWatch = self.app.state.payment.watch
        return watch

    async def submit(self, service_code: str) -> Event[ApplicationSubmitted]:
        """Publish an ``application.submitted`` as intake would."""
        event = submitted_event(service_code, submitted_at=self.clock.now)
        await produce(self.kafka, APPLICATIONS, [record_of(event)])
        return event

    async def redeliver(self, event: Event[Any]) -> None:
        """Publish ``event`` again, as a producer's retry would."""
        await produce(self.kafka, APPLICATIONS, [record_of(event)])

    async def reject(self, submitted: Event[ApplicationSubmitted], at: datetime) -> Event[Any]:
        """Publish an ``application.rejected`` of ``submitted`` as routing would."""
        event = submitted.caused(
            ApplicationRejected(
                application_id=submitted.subject,
                agency="polres",
                task_id="task-1",
                reason="Berkas tidak lengkap.",
                rejected_at=at,
            ),
            source="/satupintu/routing",
            actor="service:routing",
        )
        await produce(self.kafka, APPLICATIONS, [record_of(event)])
        return event

    async def events(self, application_id: str, event_type: str, count: int = 1) -> list[Event[Any]]:
        """Wait for ``count`` events of ``event_type`` of the application on ``applications``; all of them."""
        return await wait_for_events(self.kafka, APPLICATIONS, application_id, event_type, count)

    async def all_events(self, application_id: str, event_type: str) -> list[Event[Any]]:
        """The events of ``event_type`` of the application now on ``applications``."""
        return [e for e in await events_on(self.kafka, APPLICATIONS, application_id) if e.type == event_type]

    async def bill_of(self, application_id: str) -> dict[str, Any]:
        """Poll until the application has a bill; its JSON."""

        async def answer() -> httpx.Response:
            return await self.client.get(f"/applications/{application_id}/bill")

        response = await eventually(answer, lambda r: r.status_code == 200, what=f"the bill of {application_id}")
        bill: dict[str, Any] = response.json()
        return bill


@pytest.fixture(scope="module")
def clock() -> SettableClock:
    return SettableClock()


@pytest.fixture(scope="module")
def kafka(kafka_settings: KafkaSettings) -> KafkaSettings:
    """The session's broker with topics of this module's own: the submissions these tests make stay out of the
    topics other services' tests read, and theirs out of these."""
    return kafka_settings.model_copy(update={"topic_prefix": f"{kafka_settings.topic_prefix}payment."})


@pytest.fixture(scope="module")
async def payment(
    kafka: KafkaSettings,
    database_settings: DatabaseSettings,
    clock: SettableClock,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[RunningPayment]:
    """The payment service on this module's topics and its database; its expiry watch is run by the tests."""
    await service_database(database_settings, "payment")
    settings = PaymentSettings(
        kafka=kafka,
        database=database_settings,
        watch_interval_seconds=3600,
        auth={"keys_dir": tmp_path_factory.mktemp("payment-keys")},
    )
    app = create_app(settings, clock)
    async with running(app) as client:
        await eventually(lambda: _relay_active(app), what="payment's outbox relay active")
        yield RunningPayment(app, client, settings, clock)


async def _relay_active(app: FastAPI) -> bool:
    return bool(app.state.runtime.relay.is_active)
