"""Routing keeps an application's personal form fields (the catalogue's ``personal``) sealed in its database and
opens them only to forward each agency its visible fields: a stored row holds none of them in clear, whether written
on submission, changed by a citizen's answer, or stored in clear before sealing existed and sealed since."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import text

from satupintu.common.runtime import ServiceRuntime
from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.contract.applications import ApplicationInformationProvided
from satupintu.contract.base import Decision
from satupintu.contract.envelope import Event
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.payments import payment_confirmed
from satupintu.devtools.testing.plugin import service_database
from satupintu.routing.config import RoutingSettings
from satupintu.routing.main import create_app
from tests.conftest import running
from tests.support import decide, decision_event, produce, record_of, submitted_event, wait_for_events

pytestmark = pytest.mark.integration

APPLICATIONS = Topic.APPLICATIONS.name_for()
POLRES_TASKS = Topic.AGENCY_TASKS.name_for("polres")


@pytest.fixture
async def routing(kafka_settings: KafkaSettings, database_settings: DatabaseSettings) -> AsyncIterator[FastAPI]:
    """A running routing service on this session's broker and database."""
    await service_database(database_settings, "routing")
    settings = RoutingSettings(
        kafka=kafka_settings,
        database=database_settings,
        sla_check_interval_seconds=3600,
        personal_data_sealing_interval_seconds=3600,
    )
    app = create_app(settings)
    async with running(app):
        yield app


async def stored_row(app: FastAPI, application_id: str) -> dict[str, Any]:
    """The workflow row as PostgreSQL holds it, and its whole text."""
    runtime: ServiceRuntime = app.state.runtime
    async with runtime.sessions() as session:
        row = (
            await session.execute(
                text(
                    "SELECT row_to_json(w)::text AS raw, w.data, w.personal_data_ciphertext, w.holder_ciphertext "
                    "FROM workflows w "
                    "WHERE application_id = :id"
                ),
                {"id": application_id},
            )
        ).one()
    return dict(row._mapping)


async def answer_address(kafka: KafkaSettings, assignment: Event[Any], answers: dict[str, Any]) -> Event[Any]:
    """Ask the citizen for information on ``assignment``'s task, answer with ``answers``, and return the task
    assigned again."""
    application_id = assignment.payload.application_id
    await decide(kafka, decision_event(assignment, Decision.NEEDS_INFORMATION, questions=("Alamat terbaru?",)))
    [requested] = await wait_for_events(kafka, APPLICATIONS, application_id, "application.information_requested")
    answer = requested.caused(
        ApplicationInformationProvided(
            application_id=application_id,
            task_id=assignment.payload.task_id,
            agency="polres",
            answers=answers,
            provided_at=datetime.now(UTC),
        ),
        source="/satupintu/intake",
        actor="citizen",
    )
    await produce(kafka, APPLICATIONS, [record_of(answer)])
    return (await wait_for_events(kafka, POLRES_TASKS, application_id, "task.assigned", 2))[1]


async def test_personal_fields_are_sealed_in_the_database_and_forwarded_opened(
    routing: FastAPI, kafka_settings: KafkaSettings
) -> None:
    address, corrected = f"Jl. Merdeka {uuid.uuid4().hex}", f"Jl. Kenanga {uuid.uuid4().hex}"
    submitted = submitted_event("skck", {"purpose": "Melamar pekerjaan", "address": address})
    await produce(kafka_settings, APPLICATIONS, [record_of(submitted), record_of(payment_confirmed(submitted.subject))])
    [assignment] = await wait_for_events(kafka_settings, POLRES_TASKS, submitted.subject, "task.assigned")
    on_submission = await stored_row(routing, submitted.subject)

    reassigned = await answer_address(kafka_settings, assignment, {"address": corrected})
    after_answer = await stored_row(routing, submitted.subject)

    assert assignment.payload.fields == {"purpose": "Melamar pekerjaan", "address": address}
    assert address not in on_submission["raw"]
    assert on_submission["data"] == {"purpose": "Melamar pekerjaan"}
    assert on_submission["personal_data_ciphertext"].startswith("v1.")
    assert reassigned.payload.fields == {"purpose": "Melamar pekerjaan", "address": corrected}
    assert address not in after_answer["raw"]
    assert corrected not in after_answer["raw"]
    assert after_answer["data"] == {"purpose": "Melamar pekerjaan"}


async def test_whom_the_document_is_for_is_sealed_in_the_database_and_forwarded_to_the_issuer_again(
    routing: FastAPI, kafka_settings: KafkaSettings
) -> None:
    submitted = submitted_event("skck", {"purpose": "Melamar pekerjaan", "address": "Jl. Merdeka 1"})
    await produce(kafka_settings, APPLICATIONS, [record_of(submitted), record_of(payment_confirmed(submitted.subject))])
    [assignment] = await wait_for_events(kafka_settings, POLRES_TASKS, submitted.subject, "task.assigned")

    reassigned = await answer_address(kafka_settings, assignment, {"address": "Jl. Kenanga 2"})
    row = await stored_row(routing, submitted.subject)

    holder = (submitted.payload.applicant.name, submitted.payload.applicant.nik)
    assert assignment.payload.holder is not None
    assert (assignment.payload.holder.name, assignment.payload.holder.nik) == holder
    assert reassigned.payload.holder == assignment.payload.holder  # loaded back from the sealed column
    assert row["holder_ciphertext"].startswith("v1.")
    assert submitted.payload.applicant.nik not in row["raw"]
    assert submitted.payload.applicant.name not in row["raw"]


async def test_a_row_stored_before_sealing_has_its_personal_fields_sealed_and_still_forwarded(
    routing: FastAPI, kafka_settings: KafkaSettings
) -> None:
    address = f"Jl. Melati {uuid.uuid4().hex}"
    submitted = submitted_event("skck", {"purpose": "Melamar pekerjaan", "address": address})
    await produce(kafka_settings, APPLICATIONS, [record_of(submitted), record_of(payment_confirmed(submitted.subject))])
    [assignment] = await wait_for_events(kafka_settings, POLRES_TASKS, submitted.subject, "task.assigned")
    runtime: ServiceRuntime = routing.state.runtime
    async with runtime.sessions() as session, session.begin():  # as a routing from before sealing stored it
        await session.execute(
            text(
                "UPDATE workflows SET data = data || jsonb_build_object('address', CAST(:address AS text)), "
                "personal_data_ciphertext = NULL WHERE application_id = :id"
            ),
            {"address": address, "id": submitted.subject},
        )
    legacy = await stored_row(routing, submitted.subject)

    sealed = await routing.state.routing.sealing.seal_once()
    after_sealing = await stored_row(routing, submitted.subject)
    again = await routing.state.routing.sealing.seal_once()
    reassigned = await answer_address(kafka_settings, assignment, {"purpose": "Melamar kerja di Balikpapan"})

    assert address in legacy["raw"]
    assert sealed >= 1
    assert address not in after_sealing["raw"]
    assert after_sealing["data"] == {"purpose": "Melamar pekerjaan"}
    assert again == 0
    assert reassigned.payload.fields == {"purpose": "Melamar kerja di Balikpapan", "address": address}
