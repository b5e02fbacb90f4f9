"""The SLA clock stops while an agency waits for the citizen (decision 0028), on the real broker and database: a
waiting task past its first due date is never reported; the answer re-assigns it with a due date later by the working
days it waited, and only passing that date is a breach, announced once on the agency's topic and once on
``applications`` for notification."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.contract.applications import ApplicationInformationProvided
from satupintu.contract.base import Decision
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.clock import SettableClock
from satupintu.devtools.testing.payments import payment_confirmed
from satupintu.devtools.testing.plugin import service_database
from satupintu.routing.config import RoutingSettings
from satupintu.routing.main import create_app
from satupintu.routing.storage.repository import WorkflowRepository
from tests.conftest import running
from tests.support import (
    decide,
    decision_event,
    events_on,
    produce,
    record_of,
    submitted_event,
    wait_for_events,
)

pytestmark = pytest.mark.integration

APPLICATIONS = Topic.APPLICATIONS.name_for()
POLRES_TASKS = Topic.AGENCY_TASKS.name_for("polres")
WIB = ZoneInfo("Asia/Jakarta")


async def test_a_task_that_waited_three_working_days_is_due_three_working_days_later_and_not_breached_meanwhile(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings
) -> None:
    # Submitted Monday 2 November 2026, 10:00 WIB: SKCK's polres task is due Thursday 5 November, 23:59:59 WIB.
    clock = SettableClock(datetime(2026, 11, 2, 10, 0, tzinfo=WIB))
    await service_database(database_settings, "routing")
    app = create_app(
        RoutingSettings(kafka=kafka_settings, database=database_settings, sla_check_interval_seconds=3600), clock
    )
    async with running(app):
        routing = app.state.routing

        async def breached_at() -> tuple[datetime | None, datetime | None]:
            async with routing.runtime.sessions() as session:
                repository = WorkflowRepository(session)
                [task] = await repository.tasks(application_id)
                workflow = await repository.workflow(application_id)
                assert workflow is not None
                return task.sla_breached_at, workflow.sla_breached_at

        submitted = submitted_event("skck")
        application_id = submitted.subject
        await produce(
            kafka_settings, APPLICATIONS, [record_of(submitted), record_of(payment_confirmed(application_id))]
        )
        [assignment] = await wait_for_events(kafka_settings, POLRES_TASKS, application_id, "task.assigned")
        clock.now = datetime(2026, 11, 3, 10, 0, tzinfo=WIB)  # Tuesday: polres asks the citizen
        await decide(kafka_settings, decision_event(assignment, Decision.NEEDS_INFORMATION, questions=("Untuk apa?",)))
        [requested] = await wait_for_events(
            kafka_settings, APPLICATIONS, application_id, "application.information_requested"
        )

        clock.now = datetime(2026, 11, 6, 10, 0, tzinfo=WIB)  # Friday: past the first due date, still waiting
        await routing.sla_watch.check_once()
        while_waiting = await breached_at()
        answer = requested.caused(
            ApplicationInformationProvided(
                application_id=application_id,
                task_id=assignment.payload.task_id,
                agency="polres",
                answers={"message": "Untuk melamar pekerjaan"},
                provided_at=clock.now,
            ),
            source="/satupintu/intake",
            actor="citizen",
        )
        await produce(kafka_settings, APPLICATIONS, [record_of(answer)])
        reassigned = await wait_for_events(kafka_settings, POLRES_TASKS, application_id, "task.assigned", 2)

        clock.now = datetime(2026, 11, 10, 23, 59, 0, tzinfo=WIB)  # the new due date's last minute
        await routing.sla_watch.check_once()
        before_new_due = await breached_at()
        clock.now = datetime(2026, 11, 11, 0, 0, 30, tzinfo=WIB)
        await routing.sla_watch.check_once()
        await routing.sla_watch.check_once()
        [task_breach] = await wait_for_events(kafka_settings, POLRES_TASKS, application_id, "task.sla_breached")
        [public_breach] = await wait_for_events(
            kafka_settings, APPLICATIONS, application_id, "application.task_sla_breached"
        )
        lifecycle = [event.type for event in await events_on(kafka_settings, APPLICATIONS, application_id)]

    # Wednesday, Thursday and Friday began while it waited: Thursday 5 + 3 working days = Tuesday 10 November
    new_due = datetime(2026, 11, 10, 23, 59, 59, tzinfo=WIB)
    assert assignment.payload.due_at == datetime(2026, 11, 5, 23, 59, 59, tzinfo=WIB)
    assert reassigned[1].payload.due_at == new_due
    assert while_waiting == (None, None)
    assert before_new_due[0] is None
    assert task_breach.payload.due_at == public_breach.payload.due_at == new_due
    assert (public_breach.payload.task_id, public_breach.payload.agency) == (assignment.payload.task_id, "polres")
    assert public_breach.payload.escalation_target == task_breach.payload.escalation_target == "kasat-intelkam"
    assert public_breach.payload.breached_at == task_breach.payload.breached_at
    assert lifecycle.count("application.task_sla_breached") == 1
