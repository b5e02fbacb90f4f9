"""The public verification page of an issued document, on the real broker and database: intake records
`document.issued` and `document.revoked` from the applications topic (a redelivery changes nothing) and answers
`GET /verify/{document_id}` as a page or JSON: valid, expired or revoked with the reason, and an unknown or malformed
id as "unknown document" (404). The holder shows only as initials and the NIK's last four digits."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.contract.base import DocumentRef
from satupintu.contract.documents import DocumentIssued, DocumentRevoked
from satupintu.contract.envelope import Event
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.waiting import eventually
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app as create_intake
from tests.conftest import running
from tests.support import produce, record_of, skck_application

pytestmark = pytest.mark.integration

APPLICATIONS = Topic.APPLICATIONS.name_for()
NIK, NAME = "3171015506900002", "Siti Rahayu"  # the applicant of `skck_application`
OFFICER = "officer:polres:rina"


@pytest.fixture
async def intake_settings(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, tmp_path: Path
) -> IntakeSettings:
    await service_database(database_settings, "intake")
    return IntakeSettings(kafka=kafka_settings, database=database_settings, documents_dir=tmp_path)


def agency_event(application_id: str, payload: Any) -> Event[Any]:
    """An event as the agency service publishes it, keyed by the application."""
    return Event(payload=payload, source="/satupintu/agency/desk", subject=application_id, actor=OFFICER)


def issued(
    application_id: str, pdf: bytes, *, number: str = "SKCK/000017/2026/POLRES", valid_until: date | None = None
) -> DocumentIssued:
    sha256 = hashlib.sha256(pdf).hexdigest()
    return DocumentIssued(
        document_id=uuid.uuid4(),
        application_id=application_id,
        agency="polres",
        service_code="skck",
        number=number,
        issued_at=datetime(2026, 8, 14, 2, 30, tzinfo=UTC),
        valid_until=valid_until,
        sha256=sha256,
        size_bytes=len(pdf),
        pdf=DocumentRef(name="skck", sha256=sha256),
        holder_initials="S. R.",
        holder_nik_masked="************0002",
        officer=OFFICER,
        collect_at_counter=False,
    )


def revoked(document: DocumentIssued, reason: str) -> DocumentRevoked:
    return DocumentRevoked(
        document_id=document.document_id,
        application_id=document.application_id,
        agency=document.agency,
        reason=reason,
        revoked_at=datetime.now(UTC),
    )


async def submitted_application(client: httpx.AsyncClient) -> str:
    accepted = await client.post("/applications", json=await skck_application(client))
    assert accepted.status_code == 202, accepted.text
    application_id: str = accepted.json()["application_id"]
    return application_id


async def verification(client: httpx.AsyncClient, document_id: object, condition: str = "valid") -> dict[str, Any]:
    """The JSON verification of a document, once it says ``condition``."""

    async def probe() -> httpx.Response:
        return await client.get(f"/verify/{document_id}?format=json")

    answer = await eventually(
        probe,
        lambda answer: answer.status_code == 200 and answer.json()["status"] == condition,
        what=f"document {document_id} {condition}",
    )
    body: dict[str, Any] = answer.json()
    return body


async def rows(app: FastAPI, document_id: object) -> list[dict[str, Any]]:
    async with app.state.runtime.engine.connect() as connection:
        result = await connection.execute(
            text("SELECT * FROM issued_documents WHERE document_id = :id"), {"id": str(document_id)}
        )
        return [dict(row._mapping) for row in result]


def shows_nothing_of_the_holder_but_initials_and_last_digits(answer: str) -> None:
    assert NIK not in answer
    assert NIK[:12] not in answer
    assert "Siti" not in answer
    assert "Rahayu" not in answer


async def test_an_issued_document_is_valid_with_its_issuer_number_dates_and_hash_and_only_the_holders_initials(
    intake_settings: IntakeSettings, kafka_settings: KafkaSettings
) -> None:
    app = create_intake(intake_settings)
    pdf = f"%PDF-1.7 SKCK {uuid.uuid4()}".encode()
    async with running(app) as client:
        application_id = await submitted_application(client)
        await app.state.intake.document_store.put(hashlib.sha256(pdf).hexdigest(), pdf)  # as the agency stores it
        document = issued(application_id, pdf, valid_until=date(2027, 2, 13))
        await produce(kafka_settings, APPLICATIONS, [record_of(agency_event(application_id, document))])

        body = await verification(client, document.document_id)
        by_accept = await client.get(f"/verify/{document.document_id}", headers={"Accept": "application/json"})
        page_en = await client.get(f"/verify/{document.document_id}?lang=en")
        page_id = await client.get(
            f"/verify/{str(document.document_id).upper()}?lang=id", headers={"Accept": "text/html"}
        )
        stored = await rows(app, document.document_id)
        kept_pdf = await app.state.intake.document_store.read(stored[0]["sha256"])

    assert body == {
        "document_id": str(document.document_id),
        "status": "valid",
        "expired": False,
        "agency": "polres",
        "agency_name": {"id": "Kepolisian Resor", "en": "District Police"},
        "number": "SKCK/000017/2026/POLRES",
        "issued_at": "2026-08-14T02:30:00Z",
        "valid_until": "2027-02-13",
        "sha256": document.sha256,
        "holder_initials": "S. R.",
        "holder_nik": "************0002",
        "revoked_at": None,
        "revocation_reason": None,
    }
    assert by_accept.status_code == 200
    assert by_accept.headers["content-type"] == "application/json"
    assert by_accept.json() == body
    assert page_en.status_code == page_id.status_code == 200
    assert page_en.headers["content-type"].startswith("text/html")
    assert page_en.headers["cache-control"] == "no-store"
    for shown in (
        "Valid",
        "District Police",
        "SKCK/000017/2026/POLRES",
        "14 August 2026",
        "13 February 2027",
        "S. R. (************0002)",
        document.sha256,
    ):
        assert shown in page_en.text, shown
    assert "Sah" in page_id.text
    assert "13 Februari 2027" in page_id.text
    for answer in (by_accept.text, page_en.text, page_id.text):
        shows_nothing_of_the_holder_but_initials_and_last_digits(answer)
    assert len(stored) == 1
    assert (stored[0]["application_id"], stored[0]["pdf_name"], stored[0]["size_bytes"]) == (
        application_id,
        "skck",
        len(pdf),
    )
    assert kept_pdf == pdf  # intake resolves the reference in the store it shares with the agency


async def test_a_revocation_turns_the_page_to_revoked_with_the_reason_and_redelivery_changes_nothing(
    intake_settings: IntakeSettings, kafka_settings: KafkaSettings
) -> None:
    app = create_intake(intake_settings)
    async with running(app) as client:
        application_id = await submitted_application(client)
        document = issued(application_id, f"%PDF-1.7 {uuid.uuid4()}".encode())
        issue = agency_event(application_id, document)
        await produce(kafka_settings, APPLICATIONS, [record_of(issue)])
        await verification(client, document.document_id)
        before = await rows(app, document.document_id)

        revocation = agency_event(application_id, revoked(document, "Diterbitkan atas data yang keliru."))
        reissue = agency_event(application_id, document.model_copy(update={"number": "SKCK/999999/2026/POLRES"}))
        second_revocation = agency_event(application_id, revoked(document, "Alasan lain"))
        await produce(
            kafka_settings,
            APPLICATIONS,
            [record_of(event) for event in (revocation, issue, revocation, reissue, second_revocation)],
        )
        body = await verification(client, document.document_id, "revoked")
        page = await client.get(f"/verify/{document.document_id}?lang=en")
        marker = issued(application_id, b"%PDF-1.7 marker")  # behind the repeats on their key: once it is recorded,
        await produce(kafka_settings, APPLICATIONS, [record_of(agency_event(application_id, marker))])
        await verification(client, marker.document_id)  # so were they
        after = await rows(app, document.document_id)

    assert body["status"] == "revoked"
    assert body["revocation_reason"] == "Diterbitkan atas data yang keliru."
    assert body["revoked_at"] is not None
    assert body["number"] == "SKCK/000017/2026/POLRES"
    assert page.status_code == 200
    assert "Revoked" in page.text
    assert "Diterbitkan atas data yang keliru." in page.text
    assert "Alasan lain" not in page.text
    assert len(before) == len(after) == 1
    changed = {name for name in before[0] if before[0][name] != after[0][name]}
    assert changed == {"revoked_at", "revocation_reason"}
    assert after[0]["number"] == "SKCK/000017/2026/POLRES"
    assert after[0]["revocation_reason"] == "Diterbitkan atas data yang keliru."


async def test_a_document_past_its_last_valid_day_is_expired(
    intake_settings: IntakeSettings, kafka_settings: KafkaSettings
) -> None:
    app = create_intake(intake_settings)
    async with running(app) as client:
        application_id = await submitted_application(client)
        document = issued(application_id, b"%PDF-1.7 old", valid_until=date.today() - timedelta(days=2))
        await produce(kafka_settings, APPLICATIONS, [record_of(agency_event(application_id, document))])
        body = await verification(client, document.document_id)
        page = await client.get(f"/verify/{document.document_id}?lang=en")

    assert (body["status"], body["expired"]) == ("valid", True)
    assert "Expired" in page.text
    assert "its validity ended on" in page.text


async def test_an_unknown_or_malformed_id_is_an_unknown_document_page_or_problem(
    intake_settings: IntakeSettings,
) -> None:
    app = create_intake(intake_settings)
    answers: dict[str, list[httpx.Response]] = {}
    async with running(app) as client:
        for document_id in (
            str(uuid.uuid4()),
            str(uuid.uuid4())[:-1],
            "not-a-document",
            "12345",
            "%27%3B%20DROP%20TABLE%20issued_documents%3B--",
            "g" * 300,
        ):
            answers[document_id] = [
                await client.get(f"/verify/{document_id}?lang=en"),
                await client.get(f"/verify/{document_id}?lang=id"),
                await client.get(f"/verify/{document_id}", headers={"Accept": "application/json"}),
                await client.get(f"/verify/{document_id}?format=json"),
            ]

    for document_id, (page_en, page_id, as_json, by_format) in answers.items():
        assert [answer.status_code for answer in (page_en, page_id, as_json, by_format)] == [404] * 4, document_id
        assert page_en.headers["content-type"].startswith("text/html")
        assert "Unknown document" in page_en.text
        assert "Dokumen tidak dikenal" in page_id.text
        for answer in (as_json, by_format):
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["type"].endswith("/unknown-document")
            assert answer.json()["status"] == 404
