"""A citizen answers an agency's question, with intake and routing running on the real broker and database: the
answer is accepted once, refused when nothing was asked or from a stranger, and travels sealed to the agency."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from satupintu.common.settings import KafkaSettings
from satupintu.contract.base import Decision
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.payments import pay
from satupintu.devtools.testing.sealing import opened, reader_keys
from satupintu.devtools.testing.waiting import eventually
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app as create_intake
from satupintu.routing.config import RoutingSettings
from satupintu.routing.main import create_app as create_routing
from tests.conftest import running
from tests.support import decide, decision_event, skck_application, wait_for_events

pytestmark = pytest.mark.e2e

APPLICATIONS = Topic.APPLICATIONS.name_for()


async def test_answer_is_accepted_once_and_refused_when_nothing_was_asked(
    tmp_path: Path,
    kafka_settings: KafkaSettings,
    make_settings: Callable[..., Any],
) -> None:
    intake_settings = await make_settings(IntakeSettings, "intake", documents_dir=tmp_path)
    intake = create_intake(intake_settings)
    routing = create_routing(await make_settings(RoutingSettings, "routing"))
    async with running(intake) as client, running(routing):
        accepted = (await client.post("/applications", json=await skck_application(client))).json()
        application_id, code = accepted["application_id"], accepted["tracking_code"]
        await pay(kafka_settings, application_id)
        answer = {"nik": "3171015506900002", "answers": {"address": "Jl. Merdeka No. 1 RT 02"}, "message": "Sudah"}

        [assignment] = await wait_for_events(
            kafka_settings, Topic.AGENCY_TASKS.name_for("polres"), application_id, "task.assigned"
        )
        unasked = await client.post(f"/applications/{code}/information", json=answer)
        questions = ("Alamat lengkap dengan RT/RW?",)
        await decide(kafka_settings, decision_event(assignment, Decision.NEEDS_INFORMATION, questions=questions))

        async def asked() -> dict[str, Any]:
            body: dict[str, Any] = (await client.get(f"/applications/{code}")).json()
            return body

        waiting = await eventually(asked, lambda b: b["status"] == "information_requested", what="question shown")
        stranger = await client.post(f"/applications/{code}/information", json={**answer, "nik": "3171014107900003"})
        invalid = await client.post(f"/applications/{code}/information", json={**answer, "answers": {"purpose": 7}})
        first = await client.post(f"/applications/{code}/information", json=answer)
        second = await client.post(f"/applications/{code}/information", json=answer)
        reassigned = await wait_for_events(
            kafka_settings, Topic.AGENCY_TASKS.name_for("polres"), application_id, "task.assigned", 2
        )
        [provided] = await wait_for_events(
            kafka_settings, APPLICATIONS, application_id, "application.information_provided"
        )

    assert (unasked.status_code, unasked.json()["type"].split("/")[-1]) == (409, "no-information-requested")
    assert waiting["tasks"][0]["questions"] == list(questions)
    assert stranger.status_code == 403
    assert invalid.status_code == 422
    assert "answers/purpose" in [error["field"] for error in invalid.json()["errors"]]
    assert first.status_code == 202, first.text
    assert first.json()["agency"] == "polres"
    assert (second.status_code, second.json()["type"].split("/")[-1]) == (409, "information-already-provided")
    keys = await reader_keys(kafka_settings, intake_settings.auth.keys_dir)
    expected = {"address": "Jl. Merdeka No. 1 RT 02", "message": "Sudah"}
    for answers in (provided.payload.answers, reassigned[1].payload.answers):
        assert "Merdeka" not in str(answers)  # sealed: only the agency that asked (and intake) opens them
        assert {name: opened(value, keys, subject=application_id, field=name) for name, value in answers.items()} == (
            expected
        )
