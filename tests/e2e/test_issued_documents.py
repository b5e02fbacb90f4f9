"""The permit itself: an SKCK submitted at intake, routed, approved at the desk, is issued by the police as a signed
PDF (numbered per agency and year without gaps, once however often the approval is delivered), checked by validators
no one here wrote (poppler's ``pdfsig``, pyHanko against the local root, ``zbarimg`` for its QR code), verifiable on
intake's public page, and revoked from the desk; on the real broker and database."""

from __future__ import annotations

import hashlib
import re
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import pytest
from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]  # pyHanko's ASN.1 library ships no hints
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import text

from satupintu.agency.issuing.certificates import DEVELOPMENT_DIRECTORY, DevelopmentCA
from satupintu.audit.config import AuditSettings
from satupintu.audit.main import create_app as create_audit
from satupintu.common.document_store import DocumentCipher, LocalDocumentStore
from satupintu.common.settings import AuthSettings, KafkaSettings
from satupintu.contract.envelope import Event
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.payments import pay
from satupintu.devtools.testing.waiting import eventually
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app as create_intake
from tests.conftest import running
from tests.support import events_on, produce, record_of, skck_application, wait_for_events

pytestmark = pytest.mark.e2e

APPLICATIONS = Topic.APPLICATIONS.name_for()
POLRES_TASKS = Topic.AGENCY_TASKS.name_for("polres")
OUTPUTS = {"skck_number": "S-1", "criminal_record": "Tidak ada catatan kepolisian", "purpose": "Melamar pekerjaan"}


async def submit_and_approve(intake: httpx.AsyncClient, desk: Any, officer: dict[str, str]) -> str:
    """Submit an SKCK at intake and approve its police task at the desk; the application id."""
    answer = await intake.post("/applications", json=await skck_application(intake))
    assert answer.status_code == 202, answer.text
    application_id: str = answer.json()["application_id"]
    await pay(desk.kafka, application_id)
    [assignment] = await wait_for_events(desk.kafka, POLRES_TASKS, application_id, "task.assigned")
    task_id = assignment.payload.task_id
    await desk.wait_for_task(officer, task_id)
    claimed = await desk.client.post(f"/tasks/{task_id}/claim", headers=officer)
    assert claimed.status_code == 200, claimed.text
    decided = await desk.client.post(
        f"/tasks/{task_id}/decision", headers=officer, json={"decision": "approved", "outputs": OUTPUTS}
    )
    assert decided.status_code == 202, decided.text
    return application_id


def pdfsig(pdf: bytes, directory: Path, name: str) -> list[str]:
    """``pdfsig``'s report (offline), line by line."""
    path = directory / name
    path.write_bytes(pdf)
    report = subprocess.run(["pdfsig", "-no-ocsp", str(path)], capture_output=True, text=True, check=True).stdout
    print(f"pdfsig {name}:\n{report}")  # shown with -s: the closing note quotes it
    return report.splitlines()


def qr_codes(pdf: bytes, directory: Path) -> list[str]:
    """What ``zbarimg`` reads from the first page rendered by ``pdftoppm``."""
    (directory / "issued.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", "issued.pdf", "page"], cwd=directory, check=True
    )
    [page] = sorted(directory.glob("page*.png"))
    result = subprocess.run(["zbarimg", "--quiet", "--raw", str(page)], capture_output=True, text=True, check=True)
    return result.stdout.splitlines()


async def chains_to_local_root(pdf: bytes, auth: AuthSettings) -> tuple[bool, bool, bool]:
    """pyHanko's verdict (intact, valid, trusted) trusting only the development root in the keys directory."""
    root = DevelopmentCA(auth.keys_dir / DEVELOPMENT_DIRECTORY).root_certificate()
    trust = asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER))
    (signature,) = PdfFileReader(BytesIO(pdf)).embedded_signatures
    status = await async_validate_pdf_signature(signature, ValidationContext(trust_roots=[trust]))
    return status.intact, status.valid, status.trusted


async def audited_issues(audit: Any, application_id: str) -> list[Any]:
    """The audit log's ``document.issued`` entries of the application, their payloads."""
    async with audit.state.runtime.engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT payload FROM audit_log WHERE application_id = :id AND type = 'document.issued'"),
            {"id": application_id},
        )
        return [row.payload for row in rows]


async def test_an_approved_skck_is_issued_once_signed_numbered_without_gaps_verifiable_and_revocable(
    desk: Any,
    routing: None,
    *,
    make_settings: Callable[..., Any],
    auth_settings: AuthSettings,
    documents_dir: Path,
    kafka_settings: KafkaSettings,
    tmp_path: Path,
) -> None:
    intake = create_intake(
        await make_settings(IntakeSettings, "intake", auth=auth_settings, documents_dir=documents_dir)
    )
    audit = create_audit(await make_settings(AuditSettings, "audit"))
    officer = desk.token("polres", "rina")
    store = LocalDocumentStore(documents_dir, DocumentCipher.configured(None, auth_settings.keys_dir))
    async with running(intake) as citizen, running(audit):
        first = await submit_and_approve(citizen, desk, officer)
        second = await submit_and_approve(citizen, desk, officer)
        [issued] = await wait_for_events(kafka_settings, APPLICATIONS, first, "document.issued")
        [next_issued] = await wait_for_events(kafka_settings, APPLICATIONS, second, "document.issued")
        document_id = str(issued.payload.document_id)

        # routing's acceptance again, under a new id (a replay): the task is closed, nothing is issued twice
        [accepted] = await wait_for_events(kafka_settings, POLRES_TASKS, first, "task.decision_accepted")
        replay = Event(
            payload=accepted.payload,
            source=accepted.source,
            subject=accepted.subject,
            actor=accepted.actor,
            correlation_id=accepted.correlation_id,
            causation_id=accepted.causation_id,
        )
        await produce(kafka_settings, POLRES_TASKS, [record_of(accepted), record_of(replay)])
        marker = await desk.assign("polres", application_id=first)  # same key, same partition: after the replays
        await desk.wait_for_task(officer, marker.payload.task_id)

        verified = await citizen.get(f"/verify/{document_id}", headers={"Accept": "application/json"})
        revoked = await desk.client.post(
            f"/issued-documents/{document_id}/revocation", headers=officer, json={"reason": "Data pemohon keliru."}
        )
        again = await desk.client.post(
            f"/issued-documents/{document_id}/revocation", headers=officer, json={"reason": "Lagi."}
        )
        by_other_agency = await desk.client.post(
            f"/issued-documents/{document_id}/revocation", headers=desk.token("djp"), json={"reason": "Bukan kami."}
        )
        no_reason = await desk.client.post(
            f"/issued-documents/{next_issued.payload.document_id}/revocation", headers=officer, json={"reason": " "}
        )
        shown_revoked = await eventually(
            lambda: citizen.get(f"/verify/{document_id}", headers={"Accept": "application/json"}),
            lambda page: page.json().get("status") == "revoked",
            what="the verification page says revoked",
        )
        audited = await eventually(
            lambda: audited_issues(audit, first), lambda found: len(found) == 1, what="the issue in the audit log"
        )
    pdf = await store.read(issued.payload.sha256)
    assert pdf is not None
    async with desk.app.state.runtime.engine.connect() as connection:
        rows = (
            await connection.execute(
                text("SELECT application_id, number FROM desk_issued_documents WHERE application_id IN (:a, :b)"),
                {"a": first, "b": second},
            )
        ).all()

    document = issued.payload
    number = re.fullmatch(rf"SKCK/POLRES/{datetime.now(UTC).year}/(\d{{5}})", document.number)
    next_number = re.fullmatch(r"SKCK/POLRES/\d{4}/(\d{5})", next_issued.payload.number)
    assert number is not None
    assert next_number is not None
    assert int(next_number.group(1)) == int(number.group(1)) + 1  # the agency's count, no gap
    print(f"issued {document.number} and {next_issued.payload.number}")
    assert sorted(rows) == sorted([(first, document.number), (second, next_issued.payload.number)])
    issues = [e for e in await events_on(kafka_settings, APPLICATIONS, first) if e.type == "document.issued"]
    assert len(issues) == 1
    assert (document.holder_initials, document.holder_nik_masked) == ("S. R.", "************0002")
    assert (document.officer, document.collect_at_counter, document.agency) == ("officer:polres:rina", True, "polres")
    assert issued.actor == "officer:polres:rina"
    assert document.valid_until is not None
    assert (document.valid_until - document.issued_at.date()).days >= 179
    assert len(pdf) == document.size_bytes
    assert audited[0]["sha256"] == document.sha256 == hashlib.sha256(pdf).hexdigest()
    assert audited[0]["holder_initials"] != document.holder_initials  # personal data is hashed in the log
    report = pdfsig(pdf, tmp_path, "issued.pdf")
    assert "  - Signature Validation: Signature is Valid." in report
    assert "  - Total document signed" in report
    assert "  - Signer Certificate Common Name: Kepolisian Resor" in report
    assert await chains_to_local_root(pdf, auth_settings) == (True, True, True)
    assert qr_codes(pdf, tmp_path) == [f"http://127.0.0.1:8001/verify/{document_id}"]
    shown_number = f"({document.number}) Tj".encode()  # the number as the page's content stream writes it
    assert pdf.count(shown_number) == 1
    forged = document.number[:-1] + str((int(document.number[-1]) + 1) % 10)
    tampered = pdf.replace(shown_number, f"({forged}) Tj".encode())
    tampered_report = pdfsig(tampered, tmp_path, "tampered.pdf")
    assert "  - Signature Validation: Digest Mismatch." in tampered_report
    assert (await chains_to_local_root(tampered, auth_settings))[0] is False
    assert verified.status_code == 200, verified.text
    assert (verified.json()["status"], verified.json()["number"]) == ("valid", document.number)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revocation_reason"] == "Data pemohon keliru."
    assert again.status_code == 409
    assert by_other_agency.status_code == 404
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"] == [{"field": "reason", "message": no_reason.json()["errors"][0]["message"]}]
    assert shown_revoked.json()["revocation_reason"] == "Data pemohon keliru."
    [announced] = await wait_for_events(kafka_settings, APPLICATIONS, first, "document.revoked")
    assert announced.payload.reason == "Data pemohon keliru."
