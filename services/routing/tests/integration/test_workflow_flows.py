"""Routing drives applications through their service's stages on the real broker and database: one agency, two
stages with parallel agencies, a rejection, an information request, SLA breaches, decisions accepted or refused to
the agency, and records that are no agency's decision dead-lettered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI

from satupintu.common.catalogue import load_catalogue
from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.contract.applications import ApplicationInformationProvided
from satupintu.contract.base import Decision, DocumentRef
from satupintu.contract.envelope import Event
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.clock import SettableClock
from satupintu.devtools.testing.payments import pay
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.waiting import eventually
from satupintu.routing.config import RoutingSettings
from satupintu.routing.main import create_app
from tests.conftest import running
from tests.support import (
    dead_letters,
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
PBG_DATA = {
    "building_function": "hunian",
    "floor_area_m2": 120.5,
    "floors": 2,
    "site_address": "Jl. Melati 7, Balikpapan",
    "land_certificate_number": "SHM-00123",
}
WIB = ZoneInfo("Asia/Jakarta")


@pytest.fixture
async def routing(kafka_settings: KafkaSettings, database_settings: DatabaseSettings) -> AsyncIterator[FastAPI]:
    """A running routing service on this session's broker and database."""
    await service_database(database_settings, "routing")
    app = create_app(RoutingSettings(kafka=kafka_settings, database=database_settings, sla_check_interval_seconds=3600))
    async with running(app):
        yield app


async def submit(kafka: KafkaSettings, event: Event[Any]) -> str:
    """Submit the application, and pay its fee at once when its service has one (routing holds it until then)."""
    await produce(kafka, APPLICATIONS, [record_of(event)])
    service = load_catalogue().service(event.payload.service_code)
    if service is not None and service.fee is not None:
        await pay(kafka, event.subject)
    return event.subject


def tasks_topic(agency: str) -> str:
    return Topic.AGENCY_TASKS.name_for(agency)


async def lifecycle(kafka: KafkaSettings, application_id: str) -> list[str]:
    return [event.type for event in await events_on(kafka, APPLICATIONS, application_id)]


async def test_one_agency_service_is_assigned_approved_and_completed_with_outputs(
    routing: FastAPI, kafka_settings: KafkaSettings
) -> None:
    application_id = await submit(kafka_settings, submitted_event("skck"))

    [assignment] = await wait_for_events(kafka_settings, tasks_topic("polres"), application_id, "task.assigned")
    decision = decision_event(assignment, Decision.APPROVED, outputs={"skck_number": "SKCK/1"})
    await decide(kafka_settings, decision)
    [completed] = await wait_for_events(kafka_settings, APPLICATIONS, application_id, "application.completed")
    [accepted] = await wait_for_events(kafka_settings, tasks_topic("polres"), application_id, "task.decision_accepted")

    assert (accepted.payload.task_id, accepted.payload.decision) == (assignment.payload.task_id, Decision.APPROVED)
    assert (accepted.payload.decision_event_id, accepted.causation_id) == (decision.id, decision.id)
    assert assignment.payload.fields == {"purpose": "Melamar pekerjaan", "address": "Jl. Merdeka 1"}
    assert completed.payload.outputs == {"polres": {"skck_number": "SKCK/1"}}
    assert completed.correlation_id == assignment.correlation_id
    assert await lifecycle(kafka_settings, application_id) == [
        "application.submitted",
        "payment.confirmed",
        "application.stage_started",
        "application.task_updated",
        "application.task_updated",
        "application.completed",
    ]


async def test_two_parallel_agencies_then_a_third_stage_receives_both_outputs(
    routing: FastAPI, kafka_settings: KafkaSettings
) -> None:
    application_id = await submit(kafka_settings, submitted_event("pbg", PBG_DATA))

    [works] = await wait_for_events(kafka_settings, tasks_topic("dinas-pupr"), application_id, "task.assigned")
    [environment] = await wait_for_events(kafka_settings, tasks_topic("dlh"), application_id, "task.assigned")
    await decide(kafka_settings, decision_event(works, Decision.APPROVED, outputs={"review": "KRK-7"}))
    [works_approved] = await eventually(
        lambda: _task_updates(kafka_settings, application_id, "approved"),
        lambda found: len(found) == 1,
        what="dinas-pupr approval recorded",
    )
    stage_two_early = await events_on(kafka_settings, tasks_topic("dpmptsp"), application_id)
    await decide(kafka_settings, decision_event(environment, Decision.APPROVED, outputs={"approval": "PL-9"}))
    [licensing] = await wait_for_events(kafka_settings, tasks_topic("dpmptsp"), application_id, "task.assigned")
    await decide(kafka_settings, decision_event(licensing, Decision.APPROVED, outputs={"pbg_number": "PBG-1"}))
    [completed] = await wait_for_events(kafka_settings, APPLICATIONS, application_id, "application.completed")

    assert works_approved == "dinas-pupr"
    assert stage_two_early == []
    assert set(works.payload.fields) == {"building_function", "floor_area_m2", "floors", "site_address"}
    assert set(environment.payload.fields) == {"building_function", "floor_area_m2", "site_address"}
    assert "land_certificate_number" not in works.payload.fields
    assert licensing.payload.stage_index == 1
    assert licensing.payload.previous_outputs == {"dinas-pupr": {"review": "KRK-7"}, "dlh": {"approval": "PL-9"}}
    assert completed.payload.outputs == {
        "dinas-pupr": {"review": "KRK-7"},
        "dlh": {"approval": "PL-9"},
        "dpmptsp": {"pbg_number": "PBG-1"},
    }


async def _task_updates(kafka: KafkaSettings, application_id: str, state: str) -> list[str]:
    return [
        event.payload.agency
        for event in await events_on(kafka, APPLICATIONS, application_id)
        if event.type == "application.task_updated" and event.payload.state == state
    ]


async def test_rejection_in_parallel_stage_withdraws_sibling_task(
    routing: FastAPI, kafka_settings: KafkaSettings
) -> None:
    application_id = await submit(kafka_settings, submitted_event("pbg", PBG_DATA))
    [works] = await wait_for_events(kafka_settings, tasks_topic("dinas-pupr"), application_id, "task.assigned")
    [environment] = await wait_for_events(kafka_settings, tasks_topic("dlh"), application_id, "task.assigned")

    reason = "Lokasi berada di kawasan lindung"
    await decide(kafka_settings, decision_event(environment, Decision.REJECTED, reason=reason))
    [rejected] = await wait_for_events(kafka_settings, APPLICATIONS, application_id, "application.rejected")
    [withdrawn] = await wait_for_events(kafka_settings, tasks_topic("dinas-pupr"), application_id, "task.withdrawn")

    assert (rejected.payload.agency, rejected.payload.reason) == ("dlh", reason)
    assert withdrawn.payload.task_id == works.payload.task_id
    assert await events_on(kafka_settings, tasks_topic("dpmptsp"), application_id) == []
    assert "withdrawn" in await _task_updates_states(kafka_settings, application_id)


async def _task_updates_states(kafka: KafkaSettings, application_id: str) -> list[str]:
    return [
        event.payload.state
        for event in await events_on(kafka, APPLICATIONS, application_id)
        if event.type == "application.task_updated"
    ]


async def test_information_request_pauses_the_task_and_the_answer_reassigns_it(
    routing: FastAPI, kafka_settings: KafkaSettings
) -> None:
    application_id = await submit(kafka_settings, submitted_event("skck"))
    [assignment] = await wait_for_events(kafka_settings, tasks_topic("polres"), application_id, "task.assigned")

    questions = ("Mohon unggah surat pengantar dari kelurahan",)
    await decide(kafka_settings, decision_event(assignment, Decision.NEEDS_INFORMATION, questions=questions))
    [requested] = await wait_for_events(
        kafka_settings, APPLICATIONS, application_id, "application.information_requested"
    )
    answer = requested.caused(
        ApplicationInformationProvided(
            application_id=application_id,
            task_id=assignment.payload.task_id,
            agency="polres",
            answers={"address": "Jl. Merdeka No. 1 RT 02"},
            provided_at=datetime.now(UTC),
        ),
        source="/satupintu/intake",
        actor="citizen",
    )
    await produce(kafka_settings, APPLICATIONS, [record_of(answer)])
    reassigned = await wait_for_events(kafka_settings, tasks_topic("polres"), application_id, "task.assigned", 2)
    await decide(kafka_settings, decision_event(reassigned[1], Decision.APPROVED))
    await wait_for_events(kafka_settings, APPLICATIONS, application_id, "application.completed")

    assert requested.payload.questions == questions
    assert reassigned[1].payload.task_id == assignment.payload.task_id
    assert reassigned[1].payload.answers == {"address": "Jl. Merdeka No. 1 RT 02"}
    assert reassigned[1].payload.fields["address"] == "Jl. Merdeka No. 1 RT 02"
    assert await _task_updates_states(kafka_settings, application_id) == [
        "assigned",
        "information_requested",
        "assigned",
        "approved",
    ]


async def test_answers_reach_only_the_asking_agencys_next_task_with_only_what_it_may_see(
    routing: FastAPI, kafka_settings: KafkaSettings
) -> None:
    plan, certificate = (
        DocumentRef(name="building_plan", sha256="a" * 64),
        DocumentRef(name="land_certificate", sha256="b" * 64),
    )
    application_id = await submit(kafka_settings, submitted_event("pbg", PBG_DATA, documents=(plan, certificate)))
    [works] = await wait_for_events(kafka_settings, tasks_topic("dinas-pupr"), application_id, "task.assigned")
    [environment] = await wait_for_events(kafka_settings, tasks_topic("dlh"), application_id, "task.assigned")

    question = "Berapa jumlah lantai yang sebenarnya?"
    await decide(kafka_settings, decision_event(works, Decision.NEEDS_INFORMATION, questions=(question,)))
    [requested] = await wait_for_events(
        kafka_settings, APPLICATIONS, application_id, "application.information_requested"
    )
    new_plan, new_certificate = (
        DocumentRef(name="building_plan", sha256="c" * 64),
        DocumentRef(name="land_certificate", sha256="d" * 64),
    )
    answer = requested.caused(
        ApplicationInformationProvided(
            application_id=application_id,
            task_id=works.payload.task_id,
            agency="dinas-pupr",
            answers={
                "floors": 3,  # a field dinas-pupr sees
                "land_certificate_number": "SHM-00999",  # a field it does not see
                "message": "Lantai tiga, sertifikat baru terlampir",
                question: "Tiga lantai",
                "something_else": "neither a field nor the request's",
            },
            documents=(new_plan, new_certificate),
            provided_at=datetime.now(UTC),
        ),
        source="/satupintu/intake",
        actor="citizen",
    )
    await produce(kafka_settings, APPLICATIONS, [record_of(answer)])
    [_, works_again] = await wait_for_events(
        kafka_settings, tasks_topic("dinas-pupr"), application_id, "task.assigned", 2
    )
    await decide(kafka_settings, decision_event(works_again, Decision.APPROVED, outputs={"review": "KRK-8"}))
    await decide(kafka_settings, decision_event(environment, Decision.APPROVED, outputs={"approval": "PL-2"}))
    [licensing] = await wait_for_events(kafka_settings, tasks_topic("dpmptsp"), application_id, "task.assigned")

    assert works_again.payload.task_id == works.payload.task_id
    assert works_again.payload.answers == {
        "floors": 3,
        "message": "Lantai tiga, sertifikat baru terlampir",
        question: "Tiga lantai",
    }
    assert works_again.payload.fields == {
        "building_function": "hunian",
        "floor_area_m2": 120.5,
        "floors": 3,
        "site_address": "Jl. Melati 7, Balikpapan",
    }
    assert works_again.payload.documents == (plan, new_plan)
    # the parallel agency was assigned once, before the question, and never again
    assert [event.type for event in await events_on(kafka_settings, tasks_topic("dlh"), application_id)] == [
        "task.assigned",
        "task.decision_accepted",
    ]
    assert environment.payload.answers == {}
    assert environment.payload.documents == ()
    # a later stage sees the corrected application as its catalogue entry allows, never the answers
    assert licensing.payload.answers == {}
    assert licensing.payload.fields["land_certificate_number"] == "SHM-00999"
    assert licensing.payload.fields["floors"] == 3
    assert licensing.payload.documents == (certificate, new_certificate)


async def test_sla_breach_is_published_once_with_weekend_and_holiday_not_counted(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings
) -> None:
    # Friday 14 August 2026, 10:00 WIB; Monday 17 August is Independence Day. SKCK has 3 working days:
    # Tuesday 18, Wednesday 19, Thursday 20 -> due Thursday 20 August 23:59:59 WIB.
    clock = SettableClock(datetime(2026, 8, 14, 10, 0, tzinfo=WIB))
    await service_database(database_settings, "routing")
    app = create_app(
        RoutingSettings(kafka=kafka_settings, database=database_settings, sla_check_interval_seconds=3600), clock
    )
    async with running(app):
        application_id = await submit(kafka_settings, submitted_event("skck"))
        [assignment] = await wait_for_events(kafka_settings, tasks_topic("polres"), application_id, "task.assigned")
        clock.now = datetime(2026, 8, 20, 23, 59, 0, tzinfo=WIB)
        early = await app.state.routing.sla_watch.check_once()
        clock.now = datetime(2026, 8, 21, 0, 0, 30, tzinfo=WIB)
        first = await app.state.routing.sla_watch.check_once()
        second = await app.state.routing.sla_watch.check_once()
        [task_breach] = await wait_for_events(
            kafka_settings, tasks_topic("polres"), application_id, "task.sla_breached"
        )
        [breach] = await wait_for_events(kafka_settings, APPLICATIONS, application_id, "application.sla_breached")
        [public_task_breach] = await wait_for_events(
            kafka_settings, APPLICATIONS, application_id, "application.task_sla_breached"
        )

    due = datetime(2026, 8, 20, 23, 59, 59, tzinfo=WIB)
    assert assignment.payload.due_at == due
    assert early == 0
    assert first >= 2
    assert second == 0
    assert (task_breach.payload.task_id, task_breach.payload.escalation_target) == (
        assignment.payload.task_id,
        "kasat-intelkam",
    )
    assert public_task_breach.payload.model_dump() == task_breach.payload.model_dump()
    assert breach.payload.due_at == due
    assert breach.payload.escalation_target == "kasat-intelkam"
    assert breach.payload.breached_at - due < timedelta(minutes=1)


async def test_decisions_an_agency_may_not_make_are_refused_to_it_and_records_of_no_agencys_task_dead_lettered(
    routing: FastAPI, kafka_settings: KafkaSettings
) -> None:
    application_id = await submit(kafka_settings, submitted_event("pbg", PBG_DATA))
    [works] = await wait_for_events(kafka_settings, tasks_topic("dinas-pupr"), application_id, "task.assigned")
    [environment] = await wait_for_events(kafka_settings, tasks_topic("dlh"), application_id, "task.assigned")

    unknown_task = decision_event(works, Decision.APPROVED)
    unknown_task = Event(
        payload=unknown_task.payload.model_copy(update={"task_id": "no-such-task"}),
        source=unknown_task.source,
        subject=unknown_task.subject,
        actor=unknown_task.actor,
    )
    await decide(kafka_settings, unknown_task)
    # dlh claims to decide the works review, on its own topic
    await decide(kafka_settings, decision_event(works, Decision.APPROVED, agency="dlh"))
    # a decision naming dinas-pupr arrives on dlh's topic
    await decide(kafka_settings, decision_event(works, Decision.APPROVED), on_agency_topic="dlh")
    # the environment task is decided twice
    first = decision_event(environment, Decision.APPROVED, outputs={"approval": "PL-1"})
    twice = decision_event(environment, Decision.REJECTED, reason="changed our mind")
    await decide(kafka_settings, first)
    await decide(kafka_settings, twice)
    # a rejection without a reason
    no_reason = decision_event(works, Decision.REJECTED)
    await decide(kafka_settings, no_reason)

    async def letters() -> list[dict[str, str | None]]:
        found = await dead_letters(kafka_settings, Topic.AGENCY_DECISIONS.name_for("dinas-pupr"), application_id)
        found += await dead_letters(kafka_settings, Topic.AGENCY_DECISIONS.name_for("dlh"), application_id)
        return [letter for letter in found if letter["dlq_consumer"] == "routing"]

    found = await eventually(letters, lambda found: len(found) == 3, what="three records of no agency's task")
    [works_refused] = await wait_for_events(
        kafka_settings, tasks_topic("dinas-pupr"), application_id, "task.decision_refused"
    )
    [environment_refused] = await wait_for_events(
        kafka_settings, tasks_topic("dlh"), application_id, "task.decision_refused"
    )
    [environment_accepted] = await wait_for_events(
        kafka_settings, tasks_topic("dlh"), application_id, "task.decision_accepted"
    )
    reasons = sorted(letter["dlq_reason"] or "" for letter in found)
    states = await _task_updates_states(kafka_settings, application_id)

    assert reasons == sorted(
        [
            f"unknown task no-such-task for application {application_id}",
            "task belongs to agency 'dinas-pupr', not 'dlh'",
            "decision names agency 'dinas-pupr' but came on the topic of 'dlh'",
        ]
    )
    assert (environment_accepted.payload.decision_event_id, environment_accepted.payload.decision) == (
        first.id,
        Decision.APPROVED,
    )
    assert (
        environment_refused.payload.task_id,
        environment_refused.payload.decision_event_id,
        environment_refused.payload.decision,
        environment_refused.payload.reason,
        environment_refused.causation_id,
    ) == (environment.payload.task_id, twice.id, Decision.REJECTED, "task was already decided (approved)", twice.id)
    assert (
        works_refused.payload.task_id,
        works_refused.payload.decision_event_id,
        works_refused.payload.reason,
    ) == (works.payload.task_id, no_reason.id, "a rejection needs a reason")
    assert [event.type for event in await events_on(kafka_settings, tasks_topic("dinas-pupr"), application_id)] == [
        "task.assigned",
        "task.decision_refused",
    ]
    assert states == ["assigned", "assigned", "approved"]
    assert await events_on(kafka_settings, tasks_topic("dpmptsp"), application_id) == []
    assert "application.rejected" not in await lifecycle(kafka_settings, application_id)
