"""A citizen's KTP scan at rest, across services on the real broker and database: intake stores it sealed (the file
on disk holds none of its bytes), routing hands it only to the agency whose catalogue entry shows it, and the
officers' desk, holding the same documents keys, serves the plaintext to that agency and to no other: another agency's
officer is answered 404, and the refused read is on the application's audit timeline."""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from satupintu.agency.config import AgencySettings
from satupintu.agency.main import create_app as create_desk
from satupintu.audit.config import AuditSettings
from satupintu.audit.main import create_app as create_audit
from satupintu.common.auth import Role, TokenIssuer, load_or_create_local_keys
from satupintu.common.document_store import MAGIC
from satupintu.common.settings import AuthSettings, KafkaSettings
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.payments import pay
from satupintu.devtools.testing.waiting import eventually
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app as create_intake
from satupintu.routing.config import RoutingSettings
from satupintu.routing.main import create_app as create_routing
from tests.conftest import running
from tests.support import wait_for_events

pytestmark = pytest.mark.e2e


def documents_keys() -> str:
    """A rotated key list, as an installation has after a rotation: the first seals, both open."""
    return ",".join(f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}" for key_id in ("k2", "k1"))


async def test_a_ktp_scan_is_sealed_at_rest_served_only_to_its_agency_and_a_refused_read_is_on_its_audit_timeline(
    make_settings: Callable[..., Any], kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    documents, auth, keys = tmp_path / "documents", AuthSettings(keys_dir=tmp_path / "keys"), documents_keys()
    intake = create_intake(
        await make_settings(IntakeSettings, "intake", documents_dir=documents, auth=auth, document_keys=keys)
    )
    routing = create_routing(await make_settings(RoutingSettings, "routing"))
    desk = create_desk(
        await make_settings(AgencySettings, "agency", documents_dir=documents, auth=auth, document_keys=keys)
    )
    audit = create_audit(await make_settings(AuditSettings, "audit", auth=auth))
    issuer = TokenIssuer(auth, private_key_pem=load_or_create_local_keys(auth.keys_dir)[0])
    auditor = {"Authorization": f"Bearer {issuer.issue('andi', {Role.AUDITOR})}"}

    def officer(agency: str, subject: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {issuer.issue(subject, {Role.OFFICER}, agency)}"}

    scan = f"%PDF-1.4\n% KTP NIK 3171015506900002 Siti Rahayu {uuid.uuid4()}\n%%EOF\n".encode()
    registry_officer = f"officer-{uuid.uuid4().hex[:6]}"
    registry_actor = f"officer:disdukcapil:{registry_officer}"
    police, registry = officer("polres", f"officer-{uuid.uuid4().hex[:6]}"), officer("disdukcapil", registry_officer)
    async with running(intake) as citizen, running(routing), running(desk) as officers, running(audit) as auditors:
        uploaded = await citizen.post("/documents", files={"file": ("ktp.pdf", scan, "application/pdf")})
        assert uploaded.status_code == 201, uploaded.text
        sha256 = uploaded.json()["sha256"]
        application = {
            "service_code": "skck",
            "applicant": {"nik": "3171015506900002", "name": "Siti Rahayu", "language": "id"},
            "data": {"purpose": "Melamar pekerjaan", "address": "Jl. Merdeka No. 1, Jakarta"},
            "documents": [{"name": "ktp", "sha256": sha256}],
            "consent_reuse": False,
        }
        submitted = await citizen.post("/applications", json=application)
        assert submitted.status_code == 202, submitted.text
        await pay(kafka_settings, submitted.json()["application_id"])

        async def police_pool() -> list[dict[str, Any]]:
            answer = await officers.get("/tasks", headers=police)
            assert answer.status_code == 200, answer.text
            tasks: list[dict[str, Any]] = answer.json()
            return [task for task in tasks if task["application_id"] == submitted.json()["application_id"]]

        [task] = await eventually(police_pool, lambda tasks: len(tasks) == 1, what="the police task on the desk")
        detail = await officers.get(f"/tasks/{task['task_id']}", headers=police)
        served = await officers.get(f"/documents/{sha256}", headers=police)
        refused = await officers.get(f"/documents/{sha256}", headers=registry)
        application_id = submitted.json()["application_id"]
        access = await wait_for_events(kafka_settings, Topic.ACCESS.name_for(), application_id, "access.recorded", 3)

        async def timeline() -> list[dict[str, Any]]:
            answer = await auditors.get(f"/audit/applications/{application_id}", headers=auditor)
            assert answer.status_code == 200, answer.text
            return [entry for entry in answer.json()["entries"] if entry["type"] == "access.recorded"]

        on_timeline = await eventually(
            timeline,
            lambda entries: any(entry["payload"]["outcome"] == "denied" for entry in entries),
            what="the refused read on the application's audit timeline",
        )

    stored = (documents / sha256[:2] / sha256).read_bytes()
    assert sha256 == hashlib.sha256(scan).hexdigest()
    assert stored.startswith(MAGIC)
    assert scan not in stored
    assert b"3171015506900002" not in stored
    assert b"Siti Rahayu" not in stored
    assert [document["sha256"] for document in detail.json()["documents"]] == [sha256]
    assert (served.status_code, served.content) == (200, scan)
    assert served.headers["content-type"] == "application/pdf"
    assert refused.status_code == 404
    assert scan not in refused.content
    denied = [event for event in access if event.payload.outcome == "denied"]
    assert [(event.actor, event.payload.resource, event.payload.subject_id) for event in denied] == [
        (registry_actor, f"document/{sha256}", application_id)
    ]
    assert [
        (entry["actor"], entry["payload"]["resource"])
        for entry in on_timeline
        if entry["payload"]["outcome"] == "denied"
    ] == [(registry_actor, f"document/{sha256}")]
