"""Erasure on a citizen's request (issue 17 item 5, decision 0019), on the real broker and database: only an operator
may ask; data under a retention duty (an application in progress, an issued document's record) is refused with the
rule named and nothing changes; the retention schedule erases it when the duty ends; an erasure destroys the citizen's
key (a tombstone on every key topic it went to), empties intake's copies, deletes the documents and is audited."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from satupintu.common.auth import Role
from satupintu.common.settings import KafkaSettings
from satupintu.contract.applications import ApplicationCompleted, ApplicationRejected
from satupintu.contract.envelope import Event
from satupintu.contract.topics import Topic, reader_topic
from satupintu.devtools.testing.kafka import read_to_end
from satupintu.devtools.testing.waiting import eventually
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app
from tests.conftest import running
from tests.support import produce, record_of, upload_document

from .conftest import count, nik_hash, relayed_access_records, staff_headers

pytestmark = pytest.mark.integration

APPLICATIONS = Topic.APPLICATIONS.name_for()
PROBLEM = "application/problem+json"


@pytest.fixture
async def intake(make_settings: Callable[..., Any], tmp_path: Path) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """Intake whose issued documents' records are kept 30 days (UU PDP Art. 15(1)(c)), its schedule idle."""
    settings = await make_settings(
        IntakeSettings, "intake", documents_dir=tmp_path, issued_retention_days=30, erasure_interval_seconds=3600
    )
    app = create_app(settings)
    async with running(app) as client:
        yield app, client


def new_nik() -> str:
    return f"3171015506{uuid.uuid4().int % 10**6:06d}"


async def apply(client: httpx.AsyncClient, nik: str) -> tuple[str, str, str]:
    """An SKCK application of ``nik`` with its KTP: (application id, tracking code, the KTP's hash)."""
    ktp = await upload_document(client)
    answer = await client.post(
        "/applications",
        json={
            "service_code": "skck",
            "applicant": {"nik": nik, "name": "Siti Rahayu", "email": f"{nik}@example.id", "language": "id"},
            "data": {"purpose": "Melamar pekerjaan", "address": "Jl. Merdeka No. 1, Jakarta"},
            "documents": [{"name": "ktp", "sha256": ktp}],
            "consent_reuse": False,
        },
    )
    assert answer.status_code == 202, answer.text
    return answer.json()["application_id"], answer.json()["tracking_code"], ktp


async def close(kafka: KafkaSettings, app: FastAPI, application_id: str, *, completed: bool) -> None:
    """Routing completes (or rejects) the application; intake's status follows."""
    now = datetime.now(UTC)
    payload: Any = (
        ApplicationCompleted(
            application_id=application_id, outputs={"polres": {"skck_number": "S/1"}}, completed_at=now
        )
        if completed
        else ApplicationRejected(
            application_id=application_id, agency="polres", task_id="t", reason="Foto buram.", rejected_at=now
        )
    )
    event = Event(payload=payload, source="/satupintu/routing", subject=application_id, actor="service:routing")
    await produce(kafka, APPLICATIONS, [record_of(event)])
    state = "completed" if completed else "rejected"
    await eventually(
        lambda: count(
            app, "SELECT count(*) FROM applications WHERE id = :a AND status = :s", a=application_id, s=state
        ),
        lambda found: found == 1,
        what=f"application {state}",
    )


async def erase(client: httpx.AsyncClient, app: FastAPI, nik: str, role: Role = Role.OPERATOR) -> httpx.Response:
    headers = staff_headers(app, role, agency="polres" if role is Role.OFFICER else None)
    return await client.post("/operator/erasures", json={"nik": nik, "reference": "Surat 12/2026"}, headers=headers)


async def held(app: FastAPI, nik: str) -> dict[str, int]:
    """What intake keeps of the citizen: their key, its grants, applications not emptied, a profile."""
    hashed = nik_hash(app.state.intake.settings, nik)
    return {
        "keys": await count(app, "SELECT count(*) FROM citizen_keys WHERE nik_hash = :h", h=hashed),
        "grants": await count(
            app,
            "SELECT count(*) FROM citizen_key_grants g JOIN citizen_keys k USING (key_id) WHERE k.nik_hash = :h",
            h=hashed,
        ),
        "applications": await count(
            app, "SELECT count(*) FROM applications WHERE nik_hash = :h AND nik_ciphertext <> ''", h=hashed
        ),
    }


async def key_topic_state(kafka: KafkaSettings, reader: str) -> dict[str, bool]:
    """Each key id on ``reader``'s key topic: True while held, False once its tombstone came."""
    state: dict[str, bool] = {}
    for record in await read_to_end(kafka.bootstrap_servers, kafka.topic_name(reader_topic(reader))):
        state[(record.key or b"").decode()] = bool(record.value)
    return state


async def test_only_an_operator_erases_and_a_bad_request_changes_nothing(
    intake: tuple[FastAPI, httpx.AsyncClient], kafka_settings: KafkaSettings
) -> None:
    app, client = intake
    nik = new_nik()
    await apply(client, nik)
    before = await held(app, nik)

    anonymous = await client.post("/operator/erasures", json={"nik": nik, "reference": "x"})
    officer = await erase(client, app, nik, Role.OFFICER)
    invalid = await client.post(
        "/operator/erasures", json={"nik": "12345", "reference": ""}, headers=staff_headers(app, Role.OPERATOR)
    )
    unknown = await erase(client, app, new_nik())

    assert anonymous.status_code == 401
    assert (officer.status_code, officer.headers["content-type"]) == (403, PROBLEM)
    assert invalid.status_code == 422
    assert {error["field"] for error in invalid.json()["errors"]} == {"nik", "reference"}
    assert (unknown.status_code, unknown.json()["type"].rsplit("/", 1)[-1]) == (404, "no-personal-data")
    assert await held(app, nik) == before
    records = await relayed_access_records(app, kafka_settings)
    assert any(r["action"] == "erase" and r["outcome"] == "denied" and "operator" in r["reason"] for r in records)


async def test_an_application_in_progress_holds_its_data_until_closed_then_the_schedule_erases_it(
    intake: tuple[FastAPI, httpx.AsyncClient], kafka_settings: KafkaSettings
) -> None:
    app, client = intake
    nik = new_nik()
    application_id, code, ktp = await apply(client, nik)
    before = await held(app, nik)
    assert app.state.intake.document_store.path_of(ktp).exists()

    refused = await erase(client, app, nik)

    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == PROBLEM
    problem = refused.json()
    assert problem["type"].endswith("/retention-duty")
    assert "UU PDP Art. 15(1)(c)" in problem["rule"]
    assert "in progress" in problem["rule"]
    assert problem["erase_after"] is None
    assert await held(app, nik) == before == {"keys": 1, "grants": 2, "applications": 1}
    assert (await client.get(f"/applications/{code}")).json()["status"] == "submitted"

    await close(kafka_settings, app, application_id, completed=False)
    assert await app.state.intake.erasures.carry_out_due() == 1  # the retention schedule's run

    assert await held(app, nik) == {"keys": 0, "grants": 0, "applications": 0}
    assert await count(app, "SELECT count(*) FROM documents WHERE sha256 = :s", s=ktp) == 0
    assert not app.state.intake.document_store.path_of(ktp).exists()
    status = (await client.get(f"/applications/{code}")).json()
    assert status["status"] == "rejected", "the application's public record stays, without the applicant"
    records = await relayed_access_records(app, kafka_settings)
    hashed = nik_hash(app.state.intake.settings, nik)
    mine = [(r["outcome"], r["reason"]) for r in records if r["subject_id"] == f"citizen:{hashed}"]
    assert [outcome for outcome, _ in mine] == ["denied", "granted"]
    assert "UU PDP Art. 15(1)(c)" in mine[0][1]
    assert "Surat 12/2026" in mine[1][1]
    for reader in ("notification", "agency.polres"):
        tombstoned = [key for key, live in (await key_topic_state(kafka_settings, reader)).items() if not live]
        assert len(tombstoned) >= 1, f"no tombstone on {reader}'s key topic"


async def test_an_issued_documents_record_is_kept_for_its_retention_time_and_a_rejected_one_is_erased_at_once(
    intake: tuple[FastAPI, httpx.AsyncClient], kafka_settings: KafkaSettings
) -> None:
    app, client = intake
    issued_nik, refused_nik = new_nik(), new_nik()
    issued_id, _, _ = await apply(client, issued_nik)
    refused_id, _, _ = await apply(client, refused_nik)
    await close(kafka_settings, app, issued_id, completed=True)
    await close(kafka_settings, app, refused_id, completed=False)

    kept = await erase(client, app, issued_nik)
    erased = await erase(client, app, refused_nik)
    again = await erase(client, app, refused_nik)

    assert kept.status_code == 409, kept.text
    assert "issued document" in kept.json()["rule"]
    erase_after = datetime.fromisoformat(kept.json()["erase_after"])
    assert timedelta(days=29) < erase_after - datetime.now(UTC) <= timedelta(days=30)
    assert await held(app, issued_nik) == {"keys": 1, "grants": 2, "applications": 1}
    assert erased.status_code == 200, erased.text
    body = erased.json()
    assert (body["status"], body["applications"], body["documents"]) == ("erased", 1, 1)
    assert body["readers"] == ["agency.polres", "notification"]
    assert await held(app, refused_nik) == {"keys": 0, "grants": 0, "applications": 0}
    assert again.status_code == 404, "nothing is left to erase"
