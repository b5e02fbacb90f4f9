"""Once-only data on the real broker and database: a citizen's data is reused only with consent and a valid
one-time code sent to the contact on file; a wrong, expired or spent code reuses nothing."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from satupintu.common.events.envelope import Event
from satupintu.common.events.mall import ConsentWithdrawn
from satupintu.common.events.topics import Topic
from satupintu.common.settings import KafkaSettings
from satupintu.common.testing.kafka import read_to_end
from satupintu.common.testing.sealing import opened_submission, reader_keys
from satupintu.common.testing.waiting import eventually
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app
from tests.conftest import running
from tests.support import produce, record_of, upload_document, wait_for_events

pytestmark = pytest.mark.integration


def new_citizen() -> tuple[str, str]:
    """A valid NIK (a woman born in June 1990) and an e-mail address of our own."""
    serial = random.randint(1, 9999)  # noqa: S311 (test data)
    day = random.randint(41, 68)  # noqa: S311 (a woman born on day 1-28 of June 1990)
    return f"317101{day}0690{serial:04d}", f"warga-{uuid.uuid4().hex[:8]}@example.id"


def npwp(nik: str, email: str, consent: bool) -> dict[str, Any]:
    return {
        "service_code": "npwp",
        "applicant": {"nik": nik, "name": "Dewi Lestari", "email": email, "language": "id"},
        "data": {"occupation": "Guru", "monthly_income": 7_500_000, "address": "Jl. Kenanga 5, Samarinda"},
        "consent_reuse": consent,
    }


async def skck_without_address(client: httpx.AsyncClient, nik: str, email: str, **extra: Any) -> dict[str, Any]:
    return {
        "service_code": "skck",
        "applicant": {"nik": nik, "name": "Dewi Lestari", "email": email, "language": "id"},
        "data": {"purpose": "Melamar pekerjaan"},
        "documents": [{"name": "ktp", "sha256": await upload_document(client)}],
        **extra,
    }


async def code_sent_to(kafka: KafkaSettings, email: str, count: int = 1) -> str:
    """The newest code delivered to ``email`` (the citizen reads their mail)."""

    async def codes() -> list[str]:
        records = await read_to_end(kafka.bootstrap_servers, kafka.topic_name(Topic.NOTIFICATIONS.name_for()))
        found = []
        for record in records:
            if record.header("ce_type") == "verification.code_issued":
                payload = json.loads(record.value)
                if payload["recipient"] == email:
                    found.append(payload["code"])
        return found

    return (await eventually(codes, lambda found: len(found) >= count, what=f"code {count} to {email}"))[-1]


@pytest.fixture
async def intake(make_settings: Callable[..., Any], tmp_path: Path) -> Any:
    app = create_app(await make_settings(IntakeSettings, "intake", documents_dir=tmp_path))
    async with running(app) as client:
        await eventually(lambda: _active(app), what="relay active")
        yield app, client


async def _active(app: Any) -> bool:
    return bool(app.state.runtime.relay.is_active)


async def test_data_is_reused_with_consent_and_a_valid_code_and_never_echoed(
    intake: Any, kafka_settings: KafkaSettings
) -> None:
    _, client = intake
    nik, email = new_citizen()
    first = await client.post("/applications", json=npwp(nik, email, consent=True))
    sent = await client.post("/profile/verification", json={"nik": nik})
    code = await code_sent_to(kafka_settings, email)
    reused = await client.post(
        "/applications", json=await skck_without_address(client, nik, email, consent_reuse=True, one_time_code=code)
    )
    [event] = await wait_for_events(
        kafka_settings, Topic.APPLICATIONS.name_for(), reused.json()["application_id"], "application.submitted"
    )
    again = await client.post(
        "/applications", json=await skck_without_address(client, nik, email, consent_reuse=True, one_time_code=code)
    )

    assert first.status_code == 202
    assert sent.status_code == 202
    assert sent.json()["sent_to"] == email[0] + "***@example.id"
    assert reused.status_code == 202, reused.text
    assert "Kenanga" not in reused.text
    assert event.payload.reused_fields == ("address",)
    assert "Kenanga" not in str(event.payload.data["address"])  # sealed: only its readers open it
    app, _ = intake
    keys = await reader_keys(kafka_settings, app.state.settings.auth.keys_dir)
    assert opened_submission(event.payload, keys).data["address"] == "Jl. Kenanga 5, Samarinda"
    assert again.status_code == 422
    assert {e["field"] for e in again.json()["errors"]} == {"one_time_code"}


@pytest.mark.parametrize("spoil", ["wrong", "expired", "no-consent", "no-code"])
async def test_nothing_is_reused_without_consent_or_with_a_wrong_or_expired_code(
    intake: Any, kafka_settings: KafkaSettings, spoil: str
) -> None:
    app, client = intake
    nik, email = new_citizen()
    assert (await client.post("/applications", json=npwp(nik, email, consent=True))).status_code == 202
    await client.post("/profile/verification", json={"nik": nik})
    code = await code_sent_to(kafka_settings, email)
    if spoil == "expired":
        async with app.state.runtime.engine.begin() as connection:
            await connection.execute(text("UPDATE one_time_codes SET expires_at = now() - interval '1 minute'"))
    extra: dict[str, Any] = {
        "wrong": {"consent_reuse": True, "one_time_code": f"{(int(code) + 1) % 1_000_000:06d}"},
        "expired": {"consent_reuse": True, "one_time_code": code},
        "no-consent": {"consent_reuse": False, "one_time_code": code},
        "no-code": {"consent_reuse": True},
    }[spoil]
    async with app.state.runtime.engine.connect() as connection:
        before = (await connection.execute(text("SELECT count(*) FROM applications"))).scalar_one()

    refused = await client.post("/applications", json=await skck_without_address(client, nik, email, **extra))

    async with app.state.runtime.engine.connect() as connection:
        after = (await connection.execute(text("SELECT count(*) FROM applications"))).scalar_one()
    fields = {error["field"] for error in refused.json().get("errors", [])}
    assert refused.status_code == 422
    assert after == before
    if spoil in {"wrong", "expired"}:
        assert fields == {"one_time_code"}
    else:
        assert fields == {"data/address"}


async def test_no_code_is_sent_when_nothing_is_on_file(intake: Any) -> None:
    _, client = intake
    nik, _ = new_citizen()
    answer = await client.post("/profile/verification", json={"nik": nik})
    assert answer.status_code == 202
    assert answer.json() == {"sent_to": None, "channel": None, "expires_at": None}


async def test_withdrawn_consent_stops_reuse_for_that_agency_at_once(
    intake: Any, kafka_settings: KafkaSettings
) -> None:
    app, client = intake
    nik, email = new_citizen()
    first = (await client.post("/applications", json=npwp(nik, email, consent=True))).json()
    withdrawal = Event(
        payload=ConsentWithdrawn(
            ledger_id=f"ledger-{uuid.uuid4().hex[:8]}",
            application_id=first["application_id"],
            agency="polres",
            fields=("address",),
            withdrawn_at=datetime.now(UTC),
        ),
        source="/satupintu/mall",
        subject="ledger",
        actor="citizen",
    )
    await produce(kafka_settings, Topic.MALL.name_for(), [record_of(withdrawal)])

    async def recorded() -> int:
        async with app.state.runtime.engine.connect() as connection:
            return int((await connection.execute(text("SELECT count(*) FROM consents WHERE withdrawn"))).scalar_one())

    await eventually(recorded, lambda n: n >= 1, what="withdrawal recorded")
    await client.post("/profile/verification", json={"nik": nik})
    code = await code_sent_to(kafka_settings, email)
    refused = await client.post(
        "/applications", json=await skck_without_address(client, nik, email, consent_reuse=True, one_time_code=code)
    )

    assert refused.status_code == 422
    assert {error["field"] for error in refused.json()["errors"]} == {"data/address"}
