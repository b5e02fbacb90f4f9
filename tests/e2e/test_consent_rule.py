"""One consent rule (issue 17): the mall's consent ledger and intake fold the same ``consent.granted`` and
``consent.withdrawn`` events with ``satupintu.common.consent``, so after every step of one citizen's history they agree
on every agency and field; intake then reuses exactly what the ledger shows as allowed, and the ledger records each
reuse as consented. Both services on the real broker and database."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from satupintu.common.consent import ConsentBook
from satupintu.common.crypto import KeyedHasher, load_or_create_secret
from satupintu.common.settings import AuthSettings, KafkaSettings
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.sealing import delivered_notices
from satupintu.devtools.testing.waiting import eventually
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app as create_intake
from satupintu.intake.storage.repository import ConsentRepository
from satupintu.mall.config import MallSettings
from satupintu.mall.main import create_app as create_mall
from tests.conftest import running
from tests.support import upload_document, wait_for_events

pytestmark = pytest.mark.e2e

HISTORY: list[tuple[str, str, tuple[str, ...]]] = [
    ("grants", "polres", ("address",)),
    ("grants", "*", ("address",)),
    ("withdrawals", "djp", ("address",)),
    ("withdrawals", "*", ("address",)),
    ("grants", "djp", ("address",)),
    ("grants", "*", ("kk_number",)),
    ("withdrawals", "bpjs-kes", ("kk_number",)),
]
"""Grants and withdrawals for one agency and for every agency, each undoing some of the one before."""


async def code_to(kafka: KafkaSettings, email: str, count: int) -> tuple[str, str]:
    async def codes() -> list[tuple[str, str]]:
        payloads = await delivered_notices(kafka, AuthSettings().keys_dir, "verification.code_issued")
        # The topic keeps order per verification only; every code lives equally long, so its expiry orders them.
        mine = sorted((p for p in payloads if p["recipient"] == email), key=lambda p: p["expires_at"])
        return [(p["verification_id"], p["code"]) for p in mine]

    return (await eventually(codes, lambda found: len(found) >= count, what=f"code {count}"))[count - 1]


def application(service_code: str, nik: str, email: str, data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "service_code": service_code,
        "applicant": {"nik": nik, "name": "Ayu Lestari", "email": email, "language": "id"},
        "data": data,
        **extra,
    }


async def test_intake_and_the_ledger_agree_after_every_step_of_one_history(
    make_settings: Callable[..., Any], kafka_settings: KafkaSettings
) -> None:
    intake_settings = await make_settings(IntakeSettings, "intake", rate_limit_per_minute=0, codes_per_nik_per_hour=50)
    intake = create_intake(intake_settings)
    mall = create_mall(await make_settings(MallSettings, "mall", rate_limit_per_minute=0))
    nik = f"317101570889{random.randint(1, 9999):04d}"  # noqa: S311 (test data: a woman born 17-08-1989)
    email = f"ayu-{uuid.uuid4().hex[:8]}@example.id"
    hasher = KeyedHasher(load_or_create_secret(intake_settings.auth.keys_dir / "intake-lookup-key"))

    async def intake_allows(lines: list[tuple[str, str]]) -> dict[tuple[str, str], bool]:
        async with intake.state.runtime.sessions() as session:
            book = ConsentBook(await ConsentRepository(session).lines(hasher.hash(nik)))
        return {line: book.allows(*line) for line in lines}

    async def intake_agrees_with(ledger: dict[tuple[str, str], bool], what: str) -> None:
        await eventually(lambda: intake_allows(list(ledger)), lambda seen: seen == ledger, what=what)

    async with running(intake) as citizen, running(mall) as ledger_client:
        first = await citizen.post(
            "/applications",
            json=application(
                "npwp",
                nik,
                email,
                {"occupation": "Guru", "monthly_income": 5_000_000, "address": "Jl. Melati 3"},
                consent_reuse=True,
            ),
        )
        assert first.status_code == 202, first.text
        verification_id, code = await code_to(kafka_settings, email, 1)
        confirmed = await citizen.post(
            "/profile/verification/confirm", json={"verification_id": verification_id, "code": code}
        )
        assert confirmed.status_code == 200, confirmed.text
        who = {"tracking_code": first.json()["tracking_code"], "nik": nik}
        await eventually(
            lambda: ledger_client.post("/consents/lookup", json=who),
            lambda answer: answer.status_code == 200,
            what="the mall knows the application",
        )

        compared: list[dict[tuple[str, str], bool]] = []
        for kind, agency, fields in HISTORY:
            changed = await ledger_client.post(
                f"/consents/{kind}", json=who | {"agency": agency, "fields": list(fields)}
            )
            assert changed.status_code == 200, changed.text
            ledger = {(line["agency"], line["field"]): line["granted"] for line in changed.json()["lines"]}
            # Intake applies the ledger's event when it reads it; then the two agree on every line.
            await intake_agrees_with(ledger, what=f"intake agreeing with the ledger after {kind} {agency} {fields}")
            compared.append(ledger)

        # Now the police may not receive the address, the tax office may: reuse follows the ledger exactly.
        await citizen.post("/profile/verification", json={"nik": nik})
        _, code = await code_to(kafka_settings, email, 2)
        for_police = await citizen.post(
            "/applications",
            json=application(
                "skck",
                nik,
                email,
                {"purpose": "Melamar pekerjaan"},
                documents=[{"name": "ktp", "sha256": await upload_document(citizen)}],
                consent_reuse=True,
                one_time_code=code,
            ),
        )
        for_tax = await citizen.post(
            "/applications",
            json=application(
                "npwp",
                nik,
                email,
                {"occupation": "Guru", "monthly_income": 5_000_000},
                consent_reuse=True,
                one_time_code=code,
            ),
        )
        assert for_tax.status_code == 202, for_tax.text
        [reused] = await wait_for_events(
            kafka_settings, Topic.APPLICATIONS.name_for(), for_tax.json()["application_id"], "application.submitted"
        )
        ledger_id = changed.json()["ledger_id"]
        [used] = await wait_for_events(kafka_settings, Topic.MALL.name_for(), ledger_id, "consent.used")

    assert compared[0][("polres", "address")]
    assert not compared[0][("djp", "address")]
    assert all(compared[1][(agency, "address")] for agency in ("*", "polres", "djp"))
    assert compared[2][("polres", "address")]
    assert not compared[2][("djp", "address")]
    assert not any(compared[3][(agency, "address")] for agency in ("*", "polres", "djp"))
    assert compared[4][("djp", "address")]
    assert not compared[4][("polres", "address")]
    assert compared[6][("disdukcapil", "kk_number")]
    assert not compared[6][("bpjs-kes", "kk_number")]
    assert for_police.status_code == 422
    assert [error["field"] for error in for_police.json()["errors"]] == ["data/address"]
    assert reused.payload.reused_fields == ("address",)
    assert [(use.agency, use.field, use.consented) for use in used.payload.uses] == [("djp", "address", True)]
