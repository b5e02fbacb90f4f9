"""The mall service running on the session's real broker and database, with a clock the tests move, staff tokens,
and helpers to publish an application's lifecycle the way intake and routing would."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
import pytest
from fastapi import FastAPI

from satupintu.common.auth import Role, TokenIssuer, load_or_create_local_keys
from satupintu.common.settings import AuthSettings, DatabaseSettings, KafkaSettings
from satupintu.contract.applications import (
    ApplicationCancelled,
    ApplicationCompleted,
    ApplicationRejected,
    ApplicationSlaBreached,
    ApplicationSubmitted,
    Business,
)
from satupintu.contract.envelope import Event
from satupintu.contract.payments import PaymentBilled, PaymentCancelled, PaymentConfirmed, PaymentExpired
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.clock import SettableClock
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.waiting import eventually
from satupintu.mall.config import MallSettings
from satupintu.mall.main import create_app
from satupintu.mall.storage.repository import ApplicationRepository
from tests.conftest import running
from tests.support import produce, record_of, submitted_event, wait_for_events

APPLICATIONS = Topic.APPLICATIONS.name_for()
MALL = Topic.MALL.name_for()


@dataclass
class RunningMall:
    """A running mall service and what a test needs around it."""

    app: FastAPI
    client: httpx.AsyncClient
    settings: MallSettings
    clock: SettableClock

    @property
    def kafka(self) -> KafkaSettings:
        return self.settings.kafka

    def token(
        self,
        *roles: Role,
        subject: str = "rina",
        agency: str | None = None,
        ttl: int | None = None,
        issued_at: float | None = None,
    ) -> str:
        """A staff token the mall accepts (issued at ``issued_at``, epoch seconds, when given)."""
        private_pem, _ = load_or_create_local_keys(self.settings.auth.keys_dir)
        issuer = TokenIssuer(
            AuthSettings(), private_key_pem=private_pem, clock=time.time if issued_at is None else (lambda: issued_at)
        )
        return issuer.issue(subject, set(roles), agency, ttl)

    def headers(self, *roles: Role, subject: str = "rina", agency: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(*roles, subject=subject, agency=agency)}"}

    def officer(self, agency: str, subject: str = "budi") -> dict[str, str]:
        return self.headers(Role.OFFICER, subject=subject, agency=agency)

    async def submit(
        self,
        service_code: str,
        submitted_at: datetime | None = None,
        *,
        language: str = "id",
        nik: str = "3171015506900002",
        reused_fields: tuple[str, ...] = (),
        business: Business | None = None,
        wait: bool = True,
    ) -> Event[ApplicationSubmitted]:
        """Publish an ``application.submitted`` as intake would (by ``business``, through its representative, when
        given), and wait until the mall knows it."""
        event = submitted_event(service_code, submitted_at=submitted_at or self.clock.now)
        kind = "business" if business else "person"
        applicant = event.payload.applicant.model_copy(
            update={"language": language, "nik": nik, "kind": kind, "business": business}
        )
        payload = event.payload.model_copy(update={"applicant": applicant, "reused_fields": reused_fields})
        event = Event(payload=payload, source=event.source, subject=event.subject, actor=event.actor, id=event.id)
        await produce(self.kafka, APPLICATIONS, [record_of(event)])
        if wait:
            await self.wait_until_known(event.payload.tracking_code)
        return event

    async def wait_until_known(self, tracking_code: str) -> None:
        """Poll until the mall's projection has the application (a complaint about it is then accepted)."""

        async def known() -> bool:
            async with self.app.state.runtime.sessions() as session:
                return await ApplicationRepository(session).by_tracking_code(tracking_code) is not None

        await eventually(known, what=f"the mall knows {tracking_code}")

    async def complete(self, submitted: Event[ApplicationSubmitted], at: datetime) -> Event[Any]:
        event = submitted.caused(
            ApplicationCompleted(application_id=submitted.subject, outputs={"x": {"number": "OUT-1"}}, completed_at=at),
            source="/satupintu/routing",
            actor="service:routing",
        )
        await produce(self.kafka, APPLICATIONS, [record_of(event)])
        return event

    async def reject(self, submitted: Event[ApplicationSubmitted], at: datetime, agency: str) -> Event[Any]:
        event = submitted.caused(
            ApplicationRejected(
                application_id=submitted.subject,
                agency=agency,
                task_id="task-1",
                reason="Berkas tidak lengkap.",
                rejected_at=at,
            ),
            source="/satupintu/routing",
            actor="service:routing",
        )
        await produce(self.kafka, APPLICATIONS, [record_of(event)])
        return event

    async def cancel(self, submitted: Event[ApplicationSubmitted], at: datetime) -> Event[Any]:
        """Publish routing's ``application.cancelled`` (the fee was not paid in time)."""
        event = submitted.caused(
            ApplicationCancelled(application_id=submitted.subject, reason="payment_expired", cancelled_at=at),
            source="/satupintu/routing",
            actor="service:routing",
        )
        await produce(self.kafka, APPLICATIONS, [record_of(event)])
        return event

    async def bill(
        self, submitted: Event[ApplicationSubmitted], amount: int, at: datetime, agency: str
    ) -> Event[PaymentBilled]:
        """Publish the payment service's ``payment.billed`` for an application (PNBP, expiring in 7 days)."""
        event = submitted.caused(
            PaymentBilled(
                application_id=submitted.subject,
                bill_id=f"bill-{submitted.subject[:8]}",
                billing_code="899123456789014",
                service_code=submitted.payload.service_code,
                agency=agency,
                kind="pnbp",
                amount=amount,
                qris="00020101021226...6304ABCD",
                pay_before_stage=0,
                expires_at=at + timedelta(days=7),
                billed_at=at,
            ),
            source="/satupintu/payment",
            actor="service:payment",
        )
        await produce(self.kafka, APPLICATIONS, [record_of(event)])
        return event

    async def pay(
        self, billed: Event[PaymentBilled], at: datetime, channel: Literal["gateway", "counter"] = "gateway"
    ) -> Event[PaymentConfirmed]:
        """Publish the payment service's ``payment.confirmed`` for a bill, paid in full at ``at``."""
        event = billed.caused(
            PaymentConfirmed(
                application_id=billed.subject,
                bill_id=billed.payload.bill_id,
                billing_code=billed.payload.billing_code,
                amount=billed.payload.amount,
                channel=channel,
                reference=f"TRX-{billed.subject[:8]}",
                paid_at=at,
                confirmed_at=at,
            ),
            source="/satupintu/payment",
            actor="service:payment",
        )
        await produce(self.kafka, APPLICATIONS, [record_of(event)])
        return event

    async def expire(self, billed: Event[PaymentBilled], at: datetime) -> Event[PaymentExpired]:
        """Publish the payment service's ``payment.expired`` for a bill."""
        event = billed.caused(
            PaymentExpired(
                application_id=billed.subject,
                bill_id=billed.payload.bill_id,
                billing_code=billed.payload.billing_code,
                expired_at=at,
            ),
            source="/satupintu/payment",
            actor="service:payment",
        )
        await produce(self.kafka, APPLICATIONS, [record_of(event)])
        return event

    async def withdraw(self, billed: Event[PaymentBilled], at: datetime) -> Event[PaymentCancelled]:
        """Publish the payment service's ``payment.cancelled`` for a bill whose application was rejected."""
        event = billed.caused(
            PaymentCancelled(
                application_id=billed.subject,
                bill_id=billed.payload.bill_id,
                billing_code=billed.payload.billing_code,
                reason="application_rejected",
                cancelled_at=at,
            ),
            source="/satupintu/payment",
            actor="service:payment",
        )
        await produce(self.kafka, APPLICATIONS, [record_of(event)])
        return event

    async def redeliver(self, *events: Event[Any]) -> None:
        """Produce ``events`` again, unchanged (the same ids), as a producer retrying after a lost ack would."""
        await produce(self.kafka, APPLICATIONS, [record_of(event) for event in events])

    async def breach(self, submitted: Event[ApplicationSubmitted], due_at: datetime, at: datetime) -> None:
        event = submitted.caused(
            ApplicationSlaBreached(
                application_id=submitted.subject, due_at=due_at, breached_at=at, escalation_target="kepala-dpmptsp"
            ),
            source="/satupintu/routing",
            actor="service:routing",
        )
        await produce(self.kafka, APPLICATIONS, [record_of(event)])

    async def mall_events(self, key: str, event_type: str, count: int = 1) -> list[Event[Any]]:
        """Wait for ``count`` events of ``event_type`` under ``key`` on the ``mall`` topic; all of them."""
        return await wait_for_events(self.kafka, MALL, key, event_type, count)

    async def survey_token(self, application_id: str) -> str:
        """The token of the survey link the mall sent for an application (read from ``survey.invited``)."""
        invited = (await self.mall_events(application_id, "survey.invited"))[0]
        url: str = invited.payload.survey_url
        return url.rsplit("/", 1)[1]


@pytest.fixture(scope="module")
def clock() -> SettableClock:
    return SettableClock()


@pytest.fixture(scope="module")
def mall_settings() -> dict[str, Any]:
    """Settings a test module gives its mall instead of the defaults here (override this fixture in the module)."""
    return {}


@pytest.fixture(scope="module")
async def mall(
    kafka_settings: KafkaSettings,
    database_settings: DatabaseSettings,
    clock: SettableClock,
    mall_settings: dict[str, Any],
) -> AsyncIterator[RunningMall]:
    """The mall on the session's topics and its database, on a clock the tests move."""
    await service_database(database_settings, "mall")
    settings = MallSettings(
        kafka=kafka_settings,
        database=database_settings,
        **{
            "complaint_check_interval_seconds": 3600,
            "public_url": "https://mpp.example.go.id",
            "intake_url": "https://satupintu.example.go.id",
            # Every test of a module is one client address; test_rate_limits.py turns the limits on.
            "kiosk_rate_limit_per_minute": 0,
            "rate_limit_per_minute": 0,
            **mall_settings,
        },
    )
    app = create_app(settings, clock=clock)
    async with running(app) as client:
        yield RunningMall(app, client, settings, clock)


@pytest.fixture(autouse=True)
def real_time(clock: SettableClock) -> None:
    """Each test starts at the real time; it moves the clock from there."""
    clock.now = datetime.now(UTC)
