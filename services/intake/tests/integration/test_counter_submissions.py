"""A clerk at a mall's counter submits an application for the citizen in front of them (decision 0036), on the real
broker and database: validated exactly like the citizen's, the contact proven by the code the citizen reads out,
recorded with the channel ``counter``, the clerk as actor and the ticket; limited per clerk, not per address; and
refused to anyone but an officer of a mall's agency."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from satupintu.common.auth import Role, TokenIssuer, load_or_create_local_keys
from satupintu.common.settings import AuthSettings, KafkaSettings
from satupintu.contract.topics import Topic
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app
from tests.conftest import running
from tests.support import wait_for_events

from .conftest import code_sent_to, count, new_citizen, npwp, staff_headers

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"
APPLICATIONS = "SELECT count(*) FROM applications"


@pytest.fixture
async def intake(make_settings: Callable[..., Any], tmp_path: Path) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """Intake with a public limit of one POST per address at once and room for four requests per clerk an hour."""
    settings: IntakeSettings = await make_settings(
        IntakeSettings,
        "intake",
        documents_dir=tmp_path,
        rate_limit_per_minute=1,
        rate_limit_burst=1,
        counter_requests_per_clerk_per_hour=4,
    )
    app = create_app(settings)
    app.state.clerk = f"clerk-{uuid.uuid4().hex[:8]}"
    async with running(app) as client:
        yield app, client


def clerk(app: FastAPI, agency: str = "dpmptsp", name: str | None = None) -> dict[str, str]:
    """A bearer token of an officer of ``agency`` (a mall's, by default); each test's clerk is its own, since the
    per-clerk limit is counted in the session's database."""
    private_pem, _ = load_or_create_local_keys(app.state.intake.settings.auth.keys_dir)
    issuer = TokenIssuer(AuthSettings(), private_key_pem=private_pem, clock=time.time)
    token = issuer.issue(name or app.state.clerk, {Role.OFFICER}, agency, None)
    return {"Authorization": f"Bearer {token}"}


async def code_for(
    client: httpx.AsyncClient, app: FastAPI, kafka: KafkaSettings, nik: str, email: str
) -> dict[str, str]:
    """Have a code sent to the citizen's e-mail, and read it as they would read it out."""
    asked = await client.post("/counter/contact-codes", json={"nik": nik, "email": email}, headers=clerk(app))
    assert asked.status_code == 202, asked.text
    verification_id, code = await code_sent_to(kafka, email)
    assert verification_id == asked.json()["verification_id"]
    return {"verification_id": verification_id, "code": code}


async def test_a_clerk_submits_for_the_citizen_with_the_code_they_read_out_as_a_counter_application(
    intake: tuple[FastAPI, httpx.AsyncClient], kafka_settings: KafkaSettings
) -> None:
    app, client = intake
    nik, email = new_citizen()
    ticket_id = str(uuid.uuid4())
    contact_code = await code_for(client, app, kafka_settings, nik, email)

    answer = await client.post(
        "/counter/applications",
        json={**npwp(nik, email, consent=False), "contact_code": contact_code, "ticket_id": ticket_id},
        headers=clerk(app),
    )
    assert answer.status_code == 202, answer.text
    application_id = answer.json()["application_id"]
    [event] = await wait_for_events(
        kafka_settings, Topic.APPLICATIONS.name_for(), application_id, "application.submitted"
    )
    again = await client.post(
        "/counter/applications",
        json={**npwp(nik, email, consent=False), "contact_code": contact_code},
        headers=clerk(app),
    )

    assert event.payload.channel == "counter"
    assert event.payload.ticket_id == ticket_id
    assert event.actor == f"officer:dpmptsp:{app.state.clerk}"
    assert event.payload.tracking_code == answer.json()["tracking_code"]
    assert again.status_code == 422  # a code proves one submission
    assert [error["field"] for error in again.json()["errors"]] == ["contact_code/code"]


async def test_a_clerks_submission_is_validated_exactly_like_the_citizens(
    intake: tuple[FastAPI, httpx.AsyncClient], kafka_settings: KafkaSettings
) -> None:
    app, client = intake
    nik, email = new_citizen()
    contact_code = await code_for(client, app, kafka_settings, nik, email)
    bad = npwp(nik, email, consent=False)
    bad["data"]["monthly_income"] = -5
    bad["applicant"]["nik"] = nik  # the same citizen, a wrong field
    before = await count(app, APPLICATIONS)

    citizens = await client.post("/applications", json=bad)
    clerks = await client.post("/counter/applications", json={**bad, "contact_code": contact_code}, headers=clerk(app))
    unknown_service = await client.post(
        "/counter/applications",
        json={**bad, "service_code": "no-such-service", "contact_code": contact_code},
        headers=clerk(app),
    )

    assert citizens.status_code == clerks.status_code == 422
    assert clerks.headers["content-type"] == PROBLEM
    assert clerks.json()["errors"] == citizens.json()["errors"]
    assert [error["field"] for error in clerks.json()["errors"]] == ["data/monthly_income"]
    assert [error["field"] for error in unknown_service.json()["errors"]] == ["service_code"]
    assert await count(app, APPLICATIONS) == before


async def test_a_wrong_or_absent_code_or_one_sent_to_another_contact_is_refused_and_nothing_is_stored(
    intake: tuple[FastAPI, httpx.AsyncClient], kafka_settings: KafkaSettings
) -> None:
    app, client = intake
    nik, email = new_citizen()
    _, other_email = new_citizen()
    contact_code = await code_for(client, app, kafka_settings, nik, email)
    wrong = "000000" if contact_code["code"] != "000000" else "111111"
    before = await count(app, APPLICATIONS)

    absent = await client.post("/counter/applications", json=npwp(nik, email, consent=False), headers=clerk(app))
    mistyped = await client.post(
        "/counter/applications",
        json={**npwp(nik, email, consent=False), "contact_code": {**contact_code, "code": wrong}},
        headers=clerk(app),
    )
    elsewhere = await client.post(  # the code went to `email`; the application gives another address
        "/counter/applications",
        json={**npwp(nik, other_email, consent=False), "contact_code": contact_code},
        headers=clerk(app),
    )

    assert absent.status_code == mistyped.status_code == elsewhere.status_code == 422
    assert [error["field"] for error in absent.json()["errors"]] == ["contact_code"]
    assert [error["field"] for error in mistyped.json()["errors"]] == ["contact_code/code"]
    assert [error["field"] for error in elsewhere.json()["errors"]] == ["contact_code/code"]
    assert await count(app, APPLICATIONS) == before


async def test_only_an_officer_of_a_malls_agency_submits_at_the_counter(
    intake: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = intake
    nik, email = new_citizen()
    body = {**npwp(nik, email, consent=False), "contact_code": {"verification_id": str(uuid.uuid4()), "code": "123456"}}

    anonymous = await client.post("/counter/applications", json=body)
    operator = await client.post("/counter/applications", json=body, headers=staff_headers(app, Role.OPERATOR))
    police = await client.post("/counter/applications", json=body, headers=clerk(app, agency="polres"))
    code_by_police = await client.post(
        "/counter/contact-codes", json={"nik": nik, "email": email}, headers=clerk(app, agency="polres")
    )

    assert anonymous.status_code == 401
    assert operator.status_code == police.status_code == code_by_police.status_code == 403


async def test_counter_requests_escape_the_per_address_limit_and_meet_the_per_clerk_one(
    intake: tuple[FastAPI, httpx.AsyncClient], kafka_settings: KafkaSettings
) -> None:
    app, client = intake
    nik, email = new_citizen()

    public = [await client.post("/profile/verification", json={"nik": nik}) for _ in range(2)]
    contact_code = await code_for(client, app, kafka_settings, nik, email)  # the clerk's first request of four
    submitted = await client.post(
        "/counter/applications",
        json={**npwp(nik, email, consent=False), "contact_code": contact_code},
        headers=clerk(app),
    )
    third = await client.post("/counter/contact-codes", json={"nik": nik, "email": email}, headers=clerk(app))
    fourth = await client.post("/counter/contact-codes", json={"nik": nik, "email": email}, headers=clerk(app))
    fifth = await client.post("/counter/contact-codes", json={"nik": nik, "email": email}, headers=clerk(app))

    assert public[1].status_code == 429  # the address's one POST is spent
    assert public[1].json()["type"].endswith("/rate-limited")
    assert submitted.status_code == 202, submitted.text
    assert third.status_code == fourth.status_code == 202
    assert fifth.status_code == 429
    assert [error["field"] for error in fifth.json()["errors"]] == ["clerk"]
    assert int(fifth.headers["Retry-After"]) > 0


async def test_a_clerk_uploads_the_citizens_documents_for_the_application(
    intake: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = intake
    content = f"%PDF-1.4 ktp {uuid.uuid4()}".encode()
    files = {"file": ("ktp.pdf", content, "application/pdf")}

    anonymous = await client.post("/counter/documents", files=files)
    uploaded = await client.post("/counter/documents", files=files, headers=clerk(app))
    again = await client.post("/counter/documents", files=files, headers=clerk(app))  # past the public burst

    assert anonymous.status_code == 401
    assert uploaded.status_code == again.status_code == 201, uploaded.text
    assert uploaded.json()["media_type"] == "application/pdf"
