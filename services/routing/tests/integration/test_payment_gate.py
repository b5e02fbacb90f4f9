"""Payment gates the workflow, on the real broker and database: a fee due first holds the application with no task
until ``payment.confirmed`` (even one that came before the submission), then the stage starts as it would have and
the application's due date moves later by the working days it waited; a fee due before issuing lets the earlier
stages run; ``payment.expired`` cancels an unpaid application once, withdrawing its open tasks, and changes nothing
for one already paid; a second confirmation changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI

from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.contract.base import Decision
from satupintu.contract.envelope import Event
from satupintu.contract.payments import PaymentExpired
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.clock import SettableClock
from satupintu.devtools.testing.payments import BILLING_CODE, pay
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.waiting import eventually
from satupintu.routing.config import RoutingSettings
from satupintu.routing.main import create_app
from satupintu.routing.storage.repository import WorkflowRepository
from satupintu.routing.storage.tables import WorkflowRecord
from tests.conftest import running
from tests.support import decide, decision_event, events_on, produce, record_of, submitted_event, wait_for_events

pytestmark = pytest.mark.integration

APPLICATIONS = Topic.APPLICATIONS.name_for()
WIB = ZoneInfo("Asia/Jakarta")
PBG_DATA = {
    "building_function": "hunian",
    "floor_area_m2": 120.5,
    "floors": 2,
    "site_address": "Jl. Melati 7, Balikpapan",
    "land_certificate_number": "SHM-00123",
}


@pytest.fixture
def clock() -> SettableClock:
    """Monday 2 November 2026, 10:00 WIB."""
    return SettableClock(datetime(2026, 11, 2, 10, 0, tzinfo=WIB))


@pytest.fixture
async def routing(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, clock: SettableClock
) -> AsyncIterator[FastAPI]:
    """A running routing service on this session's broker and database, on ``clock``."""
    await service_database(database_settings, "routing")
    settings = RoutingSettings(kafka=kafka_settings, database=database_settings, sla_check_interval_seconds=3600)
    app = create_app(settings, clock)
    async with running(app):
        yield app


def tasks_topic(agency: str) -> str:
    return Topic.AGENCY_TASKS.name_for(agency)


async def workflow_row(app: FastAPI, application_id: str) -> WorkflowRecord:
    async with app.state.routing.runtime.sessions() as session:
        record = await WorkflowRepository(session).workflow(application_id)
    assert record is not None
    return record


async def stored(app: FastAPI, application_id: str) -> WorkflowRecord:
    """The workflow row, once routing has stored it."""

    async def row() -> WorkflowRecord | None:
        async with app.state.routing.runtime.sessions() as session:
            return await WorkflowRepository(session).workflow(application_id)

    found = await eventually(row, lambda record: record is not None, what="workflow stored")
    assert found is not None
    return found


async def expire(kafka: KafkaSettings, application_id: str) -> None:
    expired = Event(
        payload=PaymentExpired(
            application_id=application_id, bill_id="bill-1", billing_code=BILLING_CODE, expired_at=datetime.now(WIB)
        ),
        source="/satupintu/payment",
        subject=application_id,
        actor="service:payment",
    )
    await produce(kafka, APPLICATIONS, [record_of(expired)])


async def lifecycle(kafka: KafkaSettings, application_id: str) -> list[str]:
    return [event.type for event in await events_on(kafka, APPLICATIONS, application_id)]


async def test_a_first_stage_fee_holds_the_application_until_paid_and_its_due_date_moves_by_the_wait(
    routing: FastAPI, kafka_settings: KafkaSettings, clock: SettableClock
) -> None:
    submitted = submitted_event("skck")
    application_id = submitted.subject
    await produce(kafka_settings, APPLICATIONS, [record_of(submitted)])
    held = await stored(routing, application_id)
    clock.now = datetime(2026, 11, 6, 10, 0, tzinfo=WIB)  # Friday: past SKCK's 3 working days, four began unpaid
    breaches = await routing.state.routing.sla_watch.check_once()
    no_task_yet = await events_on(kafka_settings, tasks_topic("polres"), application_id)

    await pay(kafka_settings, application_id)
    [assignment] = await wait_for_events(kafka_settings, tasks_topic("polres"), application_id, "task.assigned")
    paid = await workflow_row(routing, application_id)

    assert (held.payment_stage, held.paid_at, held.waiting_since is not None) == (0, None, True)
    assert no_task_yet == []
    assert breaches == 0
    assert paid.waiting_since is None
    assert paid.paid_at is not None
    assert paid.due_at == routing.state.routing.workflows.calendar_for("polres").due_at(held.due_at, 4)
    assert assignment.payload.due_at > clock.now
    assert await lifecycle(kafka_settings, application_id) == [
        "application.submitted",
        "payment.confirmed",
        "application.stage_started",
        "application.task_updated",
    ]


async def test_a_payment_confirmed_before_the_submission_is_applied_when_it_arrives(
    routing: FastAPI, kafka_settings: KafkaSettings
) -> None:
    submitted = submitted_event("skck")
    application_id = submitted.subject

    await pay(kafka_settings, application_id)
    await produce(kafka_settings, APPLICATIONS, [record_of(submitted)])

    [assignment] = await wait_for_events(kafka_settings, tasks_topic("polres"), application_id, "task.assigned")
    assert assignment.payload.stage_index == 0
    assert (await workflow_row(routing, application_id)).paid_at is not None


async def test_a_fee_due_before_issuing_runs_the_earlier_stages_and_holds_the_issuing_one(
    routing: FastAPI, kafka_settings: KafkaSettings
) -> None:
    submitted = submitted_event("pbg", PBG_DATA)
    application_id = submitted.subject
    await produce(kafka_settings, APPLICATIONS, [record_of(submitted)])
    [works] = await wait_for_events(kafka_settings, tasks_topic("dinas-pupr"), application_id, "task.assigned")
    [environment] = await wait_for_events(kafka_settings, tasks_topic("dlh"), application_id, "task.assigned")
    await decide(kafka_settings, decision_event(works, Decision.APPROVED, outputs={"review": "KRK-7"}))
    await decide(kafka_settings, decision_event(environment, Decision.APPROVED, outputs={"approval": "PL-9"}))
    await wait_for_events(kafka_settings, tasks_topic("dlh"), application_id, "task.decision_accepted")
    await wait_for_events(kafka_settings, tasks_topic("dinas-pupr"), application_id, "task.decision_accepted")
    held = await eventually(
        lambda: workflow_row(routing, application_id),
        lambda record: record.waiting_since is not None,
        what="held before issuing",
    )
    before_payment = await events_on(kafka_settings, tasks_topic("dpmptsp"), application_id)

    await pay(kafka_settings, application_id, amount=1_500_000)
    [licensing] = await wait_for_events(kafka_settings, tasks_topic("dpmptsp"), application_id, "task.assigned")

    assert (held.payment_stage, held.current_stage) == (1, 1)
    assert before_payment == []
    assert licensing.payload.stage_index == 1
    assert licensing.payload.previous_outputs == {"dinas-pupr": {"review": "KRK-7"}, "dlh": {"approval": "PL-9"}}


async def test_an_expired_bill_cancels_the_application_once_and_withdraws_its_open_tasks(
    routing: FastAPI, kafka_settings: KafkaSettings
) -> None:
    submitted = submitted_event("pbg", PBG_DATA)
    application_id = submitted.subject
    await produce(kafka_settings, APPLICATIONS, [record_of(submitted)])
    [works] = await wait_for_events(kafka_settings, tasks_topic("dinas-pupr"), application_id, "task.assigned")

    await expire(kafka_settings, application_id)
    await expire(kafka_settings, application_id)
    [cancelled] = await wait_for_events(kafka_settings, APPLICATIONS, application_id, "application.cancelled")
    [withdrawn] = await wait_for_events(kafka_settings, tasks_topic("dinas-pupr"), application_id, "task.withdrawn")
    await wait_for_events(kafka_settings, tasks_topic("dlh"), application_id, "task.withdrawn")
    await pay(kafka_settings, application_id)
    await decide(kafka_settings, decision_event(works, Decision.APPROVED))
    [refused] = await wait_for_events(
        kafka_settings, tasks_topic("dinas-pupr"), application_id, "task.decision_refused"
    )

    assert cancelled.payload.reason == "payment_expired"
    assert withdrawn.payload.task_id == works.payload.task_id
    assert refused.payload.reason == "application is already cancelled"
    assert (await lifecycle(kafka_settings, application_id)).count("application.cancelled") == 1
    record = await workflow_row(routing, application_id)
    assert (record.state, record.paid_at, record.payment_expired_at is not None) == ("cancelled", None, True)


async def test_an_expired_bill_of_a_paid_application_changes_nothing_nor_does_a_second_confirmation(
    routing: FastAPI, kafka_settings: KafkaSettings
) -> None:
    submitted = submitted_event("skck")
    application_id = submitted.subject
    await produce(kafka_settings, APPLICATIONS, [record_of(submitted)])
    await pay(kafka_settings, application_id)
    await pay(kafka_settings, application_id)
    [assignment] = await wait_for_events(kafka_settings, tasks_topic("polres"), application_id, "task.assigned")

    await expire(kafka_settings, application_id)
    await decide(kafka_settings, decision_event(assignment, Decision.APPROVED))
    await wait_for_events(kafka_settings, APPLICATIONS, application_id, "application.completed")

    routed = [kind for kind in await lifecycle(kafka_settings, application_id) if kind.startswith("application.")]
    assert routed == [
        "application.submitted",
        "application.stage_started",
        "application.task_updated",
        "application.task_updated",
        "application.completed",
    ]
    assert [event.type for event in await events_on(kafka_settings, tasks_topic("polres"), application_id)] == [
        "task.assigned",
        "task.decision_accepted",
    ]
