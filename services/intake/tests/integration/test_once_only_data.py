"""Once-only data on the real broker and database: a citizen's data is reused only with consent, a valid one-time
code sent to the verified contact on file, and the citizen's grant in the consent ledger for every agency the data
reaches; a wrong, expired or spent code, or a missing grant, reuses nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from satupintu.common.settings import KafkaSettings
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.sealing import opened_submission, reader_keys
from satupintu.devtools.testing.waiting import eventually
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app
from tests.conftest import running
from tests.support import wait_for_events

from .conftest import (
    code_sent_to,
    consent_event,
    count,
    new_citizen,
    npwp,
    skck_without_address,
    verified_citizen,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def intake(make_settings: Callable[..., Any], tmp_path: Path) -> Any:
    app = create_app(await make_settings(IntakeSettings, "intake", documents_dir=tmp_path))
    async with running(app) as client:
        await eventually(lambda: _active(app), what="relay active")
        yield app, client


async def _active(app: Any) -> bool:
    return bool(app.state.runtime.relay.is_active)


async def test_data_is_reused_with_consent_a_valid_code_and_a_grant_and_never_echoed(
    intake: Any, kafka_settings: KafkaSettings
) -> None:
    app, client = intake
    citizen = await verified_citizen(client, kafka_settings, app)
    sent = await client.post("/profile/verification", json={"nik": citizen.nik})
    _, code = await code_sent_to(kafka_settings, citizen.email, 2)
    reused = await client.post(
        "/applications",
        json=await skck_without_address(client, citizen.nik, citizen.email, consent_reuse=True, one_time_code=code),
    )
    [event] = await wait_for_events(
        kafka_settings, Topic.APPLICATIONS.name_for(), reused.json()["application_id"], "application.submitted"
    )
    again = await client.post(
        "/applications",
        json=await skck_without_address(client, citizen.nik, citizen.email, consent_reuse=True, one_time_code=code),
    )

    assert sent.status_code == 202
    assert sent.json()["sent_to"] is None  # issue 17: the answer never says where a code went
    assert reused.status_code == 202, reused.text
    assert "Kenanga" not in reused.text
    assert reused.json()["verification_id"] is None  # its code proved the contact: nothing to confirm
    assert event.payload.reused_fields == ("address",)
    assert "Kenanga" not in str(event.payload.data["address"])  # sealed: only its readers open it
    app, _ = intake
    keys = await reader_keys(kafka_settings, app.state.intake.settings.auth.keys_dir)
    assert opened_submission(event.payload, keys).data["address"] == "Jl. Kenanga 5, Samarinda"
    assert again.status_code == 422
    assert {e["field"] for e in again.json()["errors"]} == {"one_time_code"}


@pytest.mark.parametrize("spoil", ["wrong", "expired", "no-consent", "no-code"])
async def test_nothing_is_reused_without_consent_or_with_a_wrong_or_expired_code(
    intake: Any, kafka_settings: KafkaSettings, spoil: str
) -> None:
    app, client = intake
    citizen = await verified_citizen(client, kafka_settings, app)
    await client.post("/profile/verification", json={"nik": citizen.nik})
    _, code = await code_sent_to(kafka_settings, citizen.email, 2)
    if spoil == "expired":
        async with app.state.runtime.engine.begin() as connection:
            await connection.execute(text("UPDATE one_time_codes SET expires_at = now() - interval '1 minute'"))
    extra: dict[str, Any] = {
        "wrong": {"consent_reuse": True, "one_time_code": f"{(int(code) + 1) % 1_000_000:06d}"},
        "expired": {"consent_reuse": True, "one_time_code": code},
        "no-consent": {"consent_reuse": False, "one_time_code": code},
        "no-code": {"consent_reuse": True},
    }[spoil]
    before = await count(app, "SELECT count(*) FROM applications")

    refused = await client.post(
        "/applications", json=await skck_without_address(client, citizen.nik, citizen.email, **extra)
    )

    fields = {error["field"] for error in refused.json().get("errors", [])}
    assert refused.status_code == 422
    assert await count(app, "SELECT count(*) FROM applications") == before
    if spoil in {"wrong", "expired"}:
        assert fields == {"one_time_code"}
    else:
        assert fields == {"data/address"}


async def test_an_unverified_profile_is_reused_by_nothing_until_its_contact_is_confirmed(
    intake: Any, kafka_settings: KafkaSettings
) -> None:
    app, client = intake
    nik, email = new_citizen()
    first = (await client.post("/applications", json=npwp(nik, email, consent=True))).json()
    await consent_event(kafka_settings, app, first["application_id"], "polres", ("address",), granted=True)
    confirmation_id, _ = await code_sent_to(kafka_settings, email)
    wrong_code = await client.post(
        "/profile/verification/confirm", json={"verification_id": confirmation_id, "code": "000000"}
    )
    await client.post("/profile/verification", json={"nik": nik})
    _, code = await code_sent_to(kafka_settings, email, 2)

    # A code sent to the unverified profile's contact, used on an application, confirms that contact.
    reused = await client.post(
        "/applications", json=await skck_without_address(client, nik, email, consent_reuse=True, one_time_code=code)
    )

    assert first["verification_id"] == confirmation_id
    assert wrong_code.status_code == 422
    assert [error["field"] for error in wrong_code.json()["errors"]] == ["code"]
    assert reused.status_code == 202, reused.text
    [event] = await wait_for_events(
        kafka_settings, Topic.APPLICATIONS.name_for(), reused.json()["application_id"], "application.submitted"
    )
    assert event.payload.reused_fields == ("address",)


async def test_nothing_is_reused_without_a_grant_for_the_agency(intake: Any, kafka_settings: KafkaSettings) -> None:
    app, client = intake
    nik, email = new_citizen()
    first = (await client.post("/applications", json=npwp(nik, email, consent=True))).json()
    verification_id, code = await code_sent_to(kafka_settings, email)
    await client.post("/profile/verification/confirm", json={"verification_id": verification_id, "code": code})
    # A grant for another agency (the tax office, which receives the address of an NPWP) is no grant for the police.
    await consent_event(kafka_settings, app, first["application_id"], "djp", ("address",), granted=True)
    await client.post("/profile/verification", json={"nik": nik})
    _, code = await code_sent_to(kafka_settings, email, 2)

    refused = await client.post(
        "/applications", json=await skck_without_address(client, nik, email, consent_reuse=True, one_time_code=code)
    )

    assert refused.status_code == 422
    assert {error["field"] for error in refused.json()["errors"]} == {"data/address"}


async def test_withdrawn_consent_stops_reuse_for_that_agency_from_the_next_application(
    intake: Any, kafka_settings: KafkaSettings
) -> None:
    app, client = intake
    citizen = await verified_citizen(client, kafka_settings, app)
    await consent_event(kafka_settings, app, citizen.application_id, "polres", ("address",), granted=False)
    await client.post("/profile/verification", json={"nik": citizen.nik})
    _, code = await code_sent_to(kafka_settings, citizen.email, 2)
    refused = await client.post(
        "/applications",
        json=await skck_without_address(client, citizen.nik, citizen.email, consent_reuse=True, one_time_code=code),
    )
    # A grant for every agency, given after the withdrawal, allows the police again.
    await consent_event(kafka_settings, app, citizen.application_id, "*", ("address",), granted=True)
    allowed = await client.post(
        "/applications",
        json=await skck_without_address(client, citizen.nik, citizen.email, consent_reuse=True, one_time_code=code),
    )

    assert refused.status_code == 422
    assert {error["field"] for error in refused.json()["errors"]} == {"data/address"}
    assert allowed.status_code == 202, allowed.text
