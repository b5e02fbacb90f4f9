"""Helpers of intake's profile tests (once-only data, the attacks of issue 17): citizens, their codes as the
notification service would deliver them, the mall's consent events, staff tokens, and counting rows."""

from __future__ import annotations

import json
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from satupintu.common.auth import Role, TokenIssuer, load_or_create_local_keys
from satupintu.common.crypto import KeyedHasher, load_or_create_secret
from satupintu.common.settings import AuthSettings, KafkaSettings
from satupintu.contract.envelope import Event
from satupintu.contract.mall import ConsentGranted, ConsentWithdrawn
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.kafka import read_to_end
from satupintu.devtools.testing.sealing import delivered_notices
from satupintu.devtools.testing.waiting import eventually
from satupintu.intake.config import IntakeSettings
from tests.support import produce, record_of, upload_document


def new_citizen(domain: str = "example.id") -> tuple[str, str]:
    """A valid NIK (a woman born in June 1990) and an e-mail address of our own."""
    serial = random.randint(1, 9999)  # noqa: S311 (test data)
    day = random.randint(41, 68)  # noqa: S311 (a woman born on day 1-28 of June 1990)
    return f"317101{day}0690{serial:04d}", f"warga-{uuid.uuid4().hex[:8]}@{domain}"


def npwp(nik: str, email: str, consent: bool, address: str = "Jl. Kenanga 5, Samarinda") -> dict[str, Any]:
    """An NPWP application (its `address` is a profile field)."""
    return {
        "service_code": "npwp",
        "applicant": {"nik": nik, "name": "Dewi Lestari", "email": email, "language": "id"},
        "data": {"occupation": "Guru", "monthly_income": 7_500_000, "address": address},
        "consent_reuse": consent,
    }


async def skck_without_address(client: httpx.AsyncClient, nik: str, email: str, **extra: Any) -> dict[str, Any]:
    """An SKCK application that leaves its profile field `address` out, to be reused."""
    return {
        "service_code": "skck",
        "applicant": {"nik": nik, "name": "Dewi Lestari", "email": email, "language": "id"},
        "data": {"purpose": "Melamar pekerjaan"},
        "documents": [{"name": "ktp", "sha256": await upload_document(client)}],
        **extra,
    }


async def notices(kafka: KafkaSettings, event_type: str = "verification.code_issued") -> list[dict[str, Any]]:
    """The payloads of ``event_type`` on the notifications topic, in order, their sealed values opened as
    notification opens them (what notification delivers); one whose citizen's key is not on its topic yet is not
    delivered yet (:func:`~satupintu.devtools.testing.sealing.openable`)."""
    return await delivered_notices(kafka, AuthSettings().keys_dir, event_type)


async def codes_to(kafka: KafkaSettings, recipient: str) -> list[tuple[str, str]]:
    """(verification id, code) of every code delivered to ``recipient`` so far, in the order they were issued (the
    topic keeps order per verification only; every code lives equally long, so its expiry orders them)."""
    mine = sorted((n for n in await notices(kafka) if n["recipient"] == recipient), key=lambda n: n["expires_at"])
    return [(n["verification_id"], n["code"]) for n in mine]


async def code_sent_to(kafka: KafkaSettings, recipient: str, count: int = 1) -> tuple[str, str]:
    """The ``count``-th code delivered to ``recipient`` (the citizen reads their mail): verification id and code."""
    found = await eventually(
        lambda: codes_to(kafka, recipient), lambda codes: len(codes) >= count, what=f"code {count} to {recipient}"
    )
    return found[count - 1]


async def access_records(kafka: KafkaSettings) -> list[dict[str, Any]]:
    """The payloads of ``access.recorded`` so far (what the audit log receives)."""
    records = await read_to_end(kafka.bootstrap_servers, kafka.topic_name(Topic.ACCESS.name_for()))
    return [json.loads(record.value) for record in records if record.header("ce_type") == "access.recorded"]


async def relayed_access_records(app: FastAPI, kafka: KafkaSettings) -> list[dict[str, Any]]:
    """The payloads of ``access.recorded`` once intake's outbox is empty: everything recorded so far is on the topic."""
    await eventually(lambda: count(app, "SELECT count(*) FROM outbox"), lambda left: left == 0, what="outbox relayed")
    return await access_records(kafka)


async def count(app: FastAPI, sql: str, **values: Any) -> int:
    """A count from intake's database."""
    async with app.state.runtime.engine.connect() as connection:
        return int((await connection.execute(text(sql), values)).scalar_one())


async def consent_event(
    kafka: KafkaSettings, app: FastAPI, application_id: str, agency: str, fields: tuple[str, ...], *, granted: bool
) -> None:
    """Publish a grant or withdrawal as the mall's ledger would, and wait until intake stored it."""
    at = datetime.now(UTC)
    ledger = f"ledger-{uuid.uuid4().hex[:8]}"
    payload: ConsentGranted | ConsentWithdrawn = (
        ConsentGranted(ledger_id=ledger, application_id=application_id, agency=agency, fields=fields, granted_at=at)
        if granted
        else ConsentWithdrawn(
            ledger_id=ledger, application_id=application_id, agency=agency, fields=fields, withdrawn_at=at
        )
    )
    event = Event(payload=payload, source="/satupintu/mall", subject=ledger, actor="citizen")
    await produce(kafka, Topic.MALL.name_for(), [record_of(event)])
    await eventually(
        lambda: count(app, "SELECT count(*) FROM consents WHERE updated_at = :at", at=at),
        lambda n: n >= 1,
        what=f"consent for {agency} stored",
    )


@dataclass(frozen=True)
class Citizen:
    """A citizen with a verified profile (an NPWP application kept its address) and a grant for `polres`."""

    nik: str
    email: str
    application_id: str


async def verified_citizen(client: httpx.AsyncClient, kafka: KafkaSettings, app: FastAPI) -> Citizen:
    """Apply with consent, confirm the code sent to the e-mail given, and grant reuse of `address` to the police."""
    nik, email = new_citizen()
    first = await client.post("/applications", json=npwp(nik, email, consent=True))
    assert first.status_code == 202, first.text
    verification_id, code = await code_sent_to(kafka, email)
    assert verification_id == first.json()["verification_id"]
    confirmed = await client.post(
        "/profile/verification/confirm", json={"verification_id": verification_id, "code": code}
    )
    assert confirmed.status_code == 200, confirmed.text
    application_id = first.json()["application_id"]
    await consent_event(kafka, app, application_id, "polres", ("address",), granted=True)
    return Citizen(nik, email, application_id)


def staff_headers(app: FastAPI, *roles: Role, agency: str | None = None) -> dict[str, str]:
    """A staff member's bearer token, as `satupintu-token` issues it."""
    private_pem, _ = load_or_create_local_keys(app.state.intake.settings.auth.keys_dir)
    token = TokenIssuer(AuthSettings(), private_key_pem=private_pem, clock=time.time).issue(
        "rina", set(roles), agency, None
    )
    return {"Authorization": f"Bearer {token}"}


def nik_hash(settings: IntakeSettings, nik: str) -> str:
    """The keyed hash intake finds a NIK by (its local key in tests), as the audit log's subjects name it."""
    return KeyedHasher(load_or_create_secret(settings.auth.keys_dir / "intake-lookup-key")).hash(nik)
