"""Erasure reaches everywhere (issue 17 item 5, decision 0019): after a whole journey on all six services and an
agency's worker, an operator erases the citizen; then nothing in any service's database, in the document store or in
any topic (dead-letter and key topics included) holds or opens to the citizen's NIK, name, e-mail, phone or address:
every value sealed with their key stays sealed, and no reader still holds the key. The audit log still verifies, with
its own check and with the offline verifier on a fresh export, and records the erasure."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import text

from satupintu.agency.config import AgencySettings
from satupintu.agency.main import create_app as create_agency
from satupintu.agency.services import NOT_READABLE
from satupintu.agency_sdk import AgencyWorker, Outcome, Task, approve
from satupintu.audit.config import AuditSettings
from satupintu.audit.main import create_app as create_audit
from satupintu.common.auth import Role, TokenIssuer, load_or_create_local_keys
from satupintu.common.sealing import is_sealed, sealed_key_id
from satupintu.common.settings import AuthSettings, KafkaSettings
from satupintu.devtools.testing.payments import pay
from satupintu.devtools.testing.waiting import eventually
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app as create_intake
from satupintu.mall.config import MallSettings
from satupintu.mall.main import create_app as create_mall
from satupintu.notification.config import NotificationSettings
from satupintu.notification.main import create_app as create_notification
from satupintu.routing.config import RoutingSettings
from satupintu.routing.main import create_app as create_routing
from satupintu.routing.services import form_data
from satupintu.routing.storage.tables import WorkflowRecord
from tests.conftest import running
from tests.support import every_record

pytestmark = pytest.mark.e2e

NIK = "3171016607880004"
NAME = "Ratna Kusumawati"
EMAIL = "ratna.kusumawati@example.id"
PHONE = "+6281298765432"
ADDRESS = "Jl. Cempaka Putih Raya No. 9, Jakarta Pusat"
PERSONAL = [NIK, NAME, EMAIL, PHONE, PHONE.removeprefix("+"), ADDRESS]


def staff(app: FastAPI, role: Role, agency: str | None = None) -> dict[str, str]:
    """A staff member's bearer token for ``app``, as `satupintu-token` issues it."""
    private_pem, _ = load_or_create_local_keys(app.state.runtime.settings.auth.keys_dir)
    token = TokenIssuer(AuthSettings(), private_key_pem=private_pem).issue("rina", {role}, agency)
    return {"Authorization": f"Bearer {token}"}


async def every_row(app: FastAPI) -> list[str]:
    """Every row of every table of the service's database, as JSON text."""
    async with app.state.runtime.engine.connect() as connection:
        tables = await connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
        )
        rows: list[str] = []
        for (table,) in tables:
            result = await connection.execute(text(f'SELECT row_to_json(t)::text FROM "{table}" t'))  # noqa: S608
            rows += [f"{table}: {row}" for (row,) in result]
        return rows


def _json_or_none(value: bytes) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return None


def sealed_values(found: Any) -> list[str]:
    """Every sealed value anywhere in a JSON document."""
    if isinstance(found, str):
        return [found] if is_sealed(found) else []
    if isinstance(found, dict):
        return [value for item in found.values() for value in sealed_values(item)]
    if isinstance(found, list):
        return [value for item in found for value in sealed_values(item)]
    return []


async def test_after_an_erasure_nothing_anywhere_opens_to_the_citizen_and_the_audit_log_still_verifies(
    make_settings: Callable[..., Any], kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    intake = create_intake(await make_settings(IntakeSettings, "intake", issued_retention_days=0))
    routing = create_routing(await make_settings(RoutingSettings, "routing"))
    agency = create_agency(await make_settings(AgencySettings, "agency"))
    notification = create_notification(await make_settings(NotificationSettings, "notification"))
    audit = create_audit(await make_settings(AuditSettings, "audit"))
    mall = create_mall(await make_settings(MallSettings, "mall"))
    services = {"intake": intake, "routing": routing, "agency": agency, "notification": notification, "audit": audit}
    services["mall"] = mall
    seen: list[Task] = []

    async def police(task: Task) -> Outcome:
        seen.append(task)
        return approve({"skck_number": "SKCK/2026/12/0099"})

    worker = AgencyWorker("polres", kafka_settings, police, worker_name="erasure")
    async with running(intake) as citizen, running(routing), running(agency) as desk, running(notification):  # noqa: SIM117
        async with running(audit) as auditor, running(mall):
            await worker.start()
            try:
                ktp_scan = f"%PDF-1.4 KTP {NIK} {NAME} {ADDRESS}".encode()
                uploaded = await citizen.post("/documents", files={"file": ("ktp.pdf", ktp_scan, "application/pdf")})
                assert uploaded.status_code == 201, uploaded.text
                ktp = uploaded.json()["sha256"]
                answer = await citizen.post(
                    "/applications",
                    json={
                        "service_code": "skck",
                        "applicant": {"nik": NIK, "name": NAME, "email": EMAIL, "phone": PHONE, "language": "id"},
                        "data": {"purpose": "Melamar pekerjaan", "address": ADDRESS},
                        "documents": [{"name": "ktp", "sha256": ktp}],
                        "consent_reuse": False,
                    },
                )
                assert answer.status_code == 202, answer.text
                code, application_id = answer.json()["tracking_code"], answer.json()["application_id"]
                await pay(kafka_settings, application_id)

                async def status() -> str:
                    return str((await citizen.get(f"/applications/{code}")).json()["status"])

                await eventually(status, lambda now: now == "completed", what="the SKCK issued", timeout=90)
            finally:
                await worker.stop()
            assert [task.fields["address"] for task in seen] == [ADDRESS], "the police opened the address"

            officer = staff(agency, Role.OFFICER, "polres")
            before = await desk.get(f"/tasks/{seen[0].task_id}", headers=officer)
            assert before.json()["fields"]["address"] == ADDRESS, before.text
            erased = await citizen.post(
                "/operator/erasures",
                json={"nik": NIK, "reference": "Permohonan 7/2026"},
                headers=staff(intake, Role.OPERATOR),
            )
            assert erased.status_code == 200, erased.text
            assert erased.json()["readers"] == ["agency.polres", "notification"]

            async def readers_holding() -> list[str]:
                holding = []
                for name in ("agency", "notification"):
                    rows = [row for row in await every_row(services[name]) if row.startswith("reader_keys:")]
                    holding += [name] * len(rows)
                return holding

            await eventually(readers_holding, lambda holding: holding == [], what="every reader's copy deleted")
            task = await desk.get(f"/tasks/{seen[0].task_id}", headers=officer)
            assert task.status_code == 200, task.text
            assert task.json()["fields"]["address"] == NOT_READABLE, "the police's desk no longer opens it"
            assert task.json()["fields"]["purpose"] == "Melamar pekerjaan", "what is not personal stays"

            async def erasure_audited() -> list[str]:
                return [row for row in await every_row(audit) if "access.recorded" in row and '"erase"' in row]

            await eventually(erasure_audited, what="the erasure in the audit log")
            verified = await auditor.get("/audit/verify", headers=staff(audit, Role.AUDITOR))
            # an export ends at the latest checkpoint: take one, so the export holds the erasure too
            await auditor.post("/audit/checkpoints", headers=staff(audit, Role.AUDITOR))
            exported = await auditor.get("/audit/export", headers=staff(audit, Role.AUDITOR))
            public_key = (await auditor.get("/audit/public-key")).content

    # Databases: no personal value in clear, and every sealed one needs the destroyed key.
    found: list[str] = []
    sealed_with: set[str] = set()
    for name, app in services.items():
        for row in await every_row(app):
            found += [f"{name} {row[:80]}: {value!r}" for value in PERSONAL if value in row]
            sealed_with |= {sealed_key_id(value) for value in sealed_values(json.loads(row.split(": ", 1)[1]))}
    assert found == []
    async with routing.state.runtime.sessions() as session:
        workflow = await session.get(WorkflowRecord, application_id)
        assert workflow is not None
        address = form_data(workflow, routing.state.routing.cipher)["address"]
    assert is_sealed(address), "routing's own key opens only the sealed value, never the address"
    erased_key = sealed_key_id(address)

    # Topics: no personal value in clear; the key is tombstoned on every key topic it was on, so nothing opens.
    live_keys: set[str] = set()
    for topic, record, raw in await every_record(kafka_settings):
        found += [f"{topic}@{record.offset}: {value!r}" for value in PERSONAL if value in raw]
        if record.value:
            sealed_with |= {sealed_key_id(value) for value in sealed_values(_json_or_none(record.value))}
        if topic.startswith("keys.") and not topic.endswith(".dlq"):
            key_id = (record.key or b"").decode()
            (live_keys.add if record.value else live_keys.discard)(key_id)
    assert found == []
    assert erased_key in sealed_with, "the journey's records carry values sealed with the citizen's key"
    assert erased_key not in live_keys, "a key topic still holds the citizen's key"

    # Documents: the KTP scan is gone.
    assert not intake.state.intake.document_store.path_of(ktp).exists()

    # The audit log still verifies, online and offline.
    assert verified.status_code == 200, verified.text
    assert verified.json()["ok"] is True, verified.text
    export, key = tmp_path / "audit.jsonl", tmp_path / "audit.pub.pem"
    await asyncio.to_thread(export.write_bytes, exported.content)
    await asyncio.to_thread(key.write_bytes, public_key)
    script = shutil.which("satupintu-audit-verify", path=str(Path(sys.executable).parent))
    assert script is not None
    offline = subprocess.run(  # noqa: ASYNC221 (the auditor's own tool, run as they run it)
        [script, str(export), "--public-key", str(key)], capture_output=True, text=True, timeout=60, check=False
    )
    assert offline.returncode == 0, offline.stderr
