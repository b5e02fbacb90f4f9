"""Downloading an issued document and following its pickup, on the real broker and database: the applicant downloads
the exact stored PDF with the tracking code and their NIK (the JSON API and the status page's form); a wrong NIK, an
unknown code or document is one 404 with no bytes, and wrong NIKs lock the tracking code as for answering; a revoked
document still downloads while the page says revoked; the tracking page lists the document, ready at the counter,
then collected (`document.collected` from the mall's topic, recorded once, even when it arrives before the issue)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from satupintu.common.settings import KafkaSettings
from satupintu.contract.documents import DocumentCollected, DocumentIssued
from satupintu.contract.envelope import Event
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.waiting import eventually
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app
from tests.conftest import running
from tests.support import produce, record_of, skck_application

from .conftest import count, relayed_access_records
from .test_verification import agency_event, issued, revoked

pytestmark = pytest.mark.integration

APPLICATIONS, MALL = Topic.APPLICATIONS.name_for(), Topic.MALL.name_for()
NIK = "3171015506900002"  # the applicant of `skck_application`
WRONG_NIK = "3171014107900003"
WRONG_TRIES = 3
CLERK = "officer:dpmptsp:sari"


@pytest.fixture
async def intake(make_settings: Callable[..., Any], tmp_path: Path) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    settings = await make_settings(
        IntakeSettings,
        "intake",
        documents_dir=tmp_path,
        rate_limit_per_minute=0,
        wrong_niks_per_tracking_code=WRONG_TRIES,
    )
    app = create_app(settings)
    async with running(app) as client:
        yield app, client


async def applied(client: httpx.AsyncClient) -> tuple[str, str]:
    """An SKCK application: its id and tracking code."""
    accepted = await client.post("/applications", json=await skck_application(client))
    assert accepted.status_code == 202, accepted.text
    return accepted.json()["application_id"], accepted.json()["tracking_code"]


async def issue(
    app: FastAPI, client: httpx.AsyncClient, kafka: KafkaSettings, application_id: str, tracking_code: str
) -> tuple[DocumentIssued, bytes]:
    """The police issue an SKCK collected at the counter, its PDF in the shared store; once the status lists it."""
    pdf = f"%PDF-1.7 SKCK {uuid.uuid4()}".encode()
    await app.state.intake.document_store.put(hashlib.sha256(pdf).hexdigest(), pdf)
    document = issued(application_id, pdf).model_copy(update={"collect_at_counter": True})
    await produce(kafka, APPLICATIONS, [record_of(agency_event(application_id, document))])
    await listed(client, tracking_code, lambda documents: len(documents) == 1)
    return document, pdf


async def listed(
    client: httpx.AsyncClient, tracking_code: str, condition: Callable[[list[dict[str, Any]]], bool]
) -> list[dict[str, Any]]:
    """The documents the status lists, once ``condition`` holds of them."""

    async def documents() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = (await client.get(f"/applications/{tracking_code}")).json()["documents"]
        return found

    return await eventually(documents, condition, what=f"the documents of {tracking_code}")


def collected(document: DocumentIssued, *, by_holder: bool, at: datetime) -> Event[DocumentCollected]:
    """The mall's record of the original handed over at its counter."""
    payload = DocumentCollected(
        document_id=document.document_id,
        application_id=document.application_id,
        agency=document.agency,
        number=document.number,
        handed_over_by=CLERK,
        collected_by="Siti Rahayu" if by_holder else "Budi Santoso",
        collected_by_holder=by_holder,
        collected_at=at,
    )
    return Event(payload=payload, source="/satupintu/mall", subject=document.application_id, actor=CLERK)


async def test_the_applicant_downloads_the_exact_stored_pdf_and_anyone_else_gets_one_404_without_bytes(
    intake: tuple[FastAPI, httpx.AsyncClient], kafka_settings: KafkaSettings
) -> None:
    app, client = intake
    application_id, tracking_code = await applied(client)
    document, pdf = await issue(app, client, kafka_settings, application_id, tracking_code)
    path = f"/applications/{tracking_code}/documents/{document.document_id}"

    by_api = await client.post(path, json={"nik": NIK})
    by_page = await client.post(f"/track/{tracking_code.lower()}/documents/{document.document_id}", data={"nik": NIK})
    refused = [
        await client.post(path, json={"nik": WRONG_NIK}),
        await client.post(f"/applications/SP-AAAAA-BBBBBB-CCCCCC/documents/{document.document_id}", json={"nik": NIK}),
        await client.post(f"/applications/{tracking_code}/documents/{uuid.uuid4()}", json={"nik": NIK}),
        await client.post(f"/applications/{tracking_code}/documents/not-an-id", json={"nik": NIK}),
    ]
    refused_page = await client.post(
        f"/track/{tracking_code}/documents/{document.document_id}?lang=en", data={"nik": WRONG_NIK}
    )
    downloads = [
        record
        for record in await relayed_access_records(app, kafka_settings)
        if record["subject_id"] == application_id and record["action"] == "download"
    ]

    for answer in (by_api, by_page):
        assert answer.status_code == 200, answer.text
        assert answer.content == pdf
        assert answer.headers["content-type"] == "application/pdf"
        assert answer.headers["content-disposition"] == 'attachment; filename="SKCK-000017-2026-POLRES.pdf"'
        assert answer.headers["cache-control"] == "no-store"
    assert [answer.status_code for answer in refused] == [404] * len(refused)
    assert {answer.headers["content-type"] for answer in refused} == {"application/problem+json"}
    assert {(answer.json()["type"], answer.json()["detail"]) for answer in refused[:3]} == {
        (refused[0].json()["type"], refused[0].json()["detail"])
    }  # the same answer, whichever it was
    assert refused[0].json()["type"].endswith("/no-document")
    assert refused_page.status_code == 404
    assert "Document not found" in refused_page.text
    for answer in (*refused, refused_page):
        assert b"%PDF" not in answer.content
        assert document.number not in answer.text
    assert [(record["principal"], record["outcome"]) for record in downloads] == [("citizen", "granted")] * 2


async def test_wrong_niks_lock_the_download_like_an_answer_and_a_revoked_document_still_downloads(
    intake: tuple[FastAPI, httpx.AsyncClient], kafka_settings: KafkaSettings
) -> None:
    app, client = intake
    application_id, tracking_code = await applied(client)
    document, pdf = await issue(app, client, kafka_settings, application_id, tracking_code)
    path = f"/applications/{tracking_code}/documents/{document.document_id}"

    right = await client.post(path, json={"nik": NIK})
    revocation = agency_event(application_id, revoked(document, "Data keliru."))
    await produce(kafka_settings, APPLICATIONS, [record_of(revocation)])
    await listed(client, tracking_code, lambda documents: documents[0]["status"] == "revoked")
    still = await client.post(path, json={"nik": NIK})
    page = await client.get(f"/track/{tracking_code}?lang=en")
    wrong = [await client.post(path, json={"nik": WRONG_NIK}) for _ in range(WRONG_TRIES)]
    locked = await client.post(path, json={"nik": NIK})
    locked_page = await client.post(f"/track/{tracking_code}/documents/{document.document_id}", data={"nik": NIK})
    answer_locked = await client.post(f"/applications/{tracking_code}/information", json={"nik": NIK, "message": "x"})
    locks = [
        record
        for record in await relayed_access_records(app, kafka_settings)
        if record["subject_id"] == application_id and record["outcome"] == "denied"
    ]

    assert (right.status_code, still.status_code) == (200, 200)
    assert still.content == pdf
    assert "Revoked" in page.text
    assert "no longer valid" in page.text
    assert [answer.status_code for answer in wrong] == [404] * WRONG_TRIES
    assert locked.status_code == 429
    assert locked.json()["type"].endswith("/locked")
    assert int(locked.headers["retry-after"]) > 0
    assert b"%PDF" not in locked.content
    assert locked_page.status_code == 429
    assert b"%PDF" not in locked_page.content
    assert answer_locked.status_code == 429  # one limit for answering and downloading
    assert [(lock["action"], lock["resource"]) for lock in locks] == [
        ("download", "POST /applications/{tracking_code}/documents/{document_id}")
    ]


async def test_the_tracking_page_shows_the_document_ready_at_the_counter_then_collected(
    intake: tuple[FastAPI, httpx.AsyncClient], kafka_settings: KafkaSettings
) -> None:
    app, client = intake
    application_id, tracking_code = await applied(client)
    document, _ = await issue(app, client, kafka_settings, application_id, tracking_code)
    ready_en = await client.get(f"/track/{tracking_code}?lang=en")
    ready_id = await client.get(f"/track/{tracking_code}?lang=id")

    at = datetime(2026, 8, 20, 3, 0, tzinfo=UTC)
    first = collected(document, by_holder=True, at=at)
    repeat = collected(document, by_holder=False, at=datetime(2026, 9, 1, tzinfo=UTC))
    await produce(kafka_settings, MALL, [record_of(first), record_of(first), record_of(repeat)])
    shown = await listed(client, tracking_code, lambda documents: documents[0]["collected"] is not None)
    await eventually(
        lambda: count(app, "SELECT count(*) FROM inbox WHERE event_id = :id", id=repeat.id),
        lambda n: n >= 1,
        what="the second collection handled",
    )
    after_en = await client.get(f"/track/{tracking_code}?lang=en")
    after_id = await client.get(f"/track/{tracking_code}?lang=id")
    status = (await client.get(f"/applications/{tracking_code}")).json()

    assert ready_en.status_code == 200
    for shown_text in (
        "Police Clearance Certificate",
        document.number,
        "14 August 2026",
        "Valid",
        f'href="/verify/{document.document_id}?lang=en"',
        f'action="/track/{tracking_code}/documents/{document.document_id}"',
        "ready for collection at the mall counter; bring your KTP",
    ):
        assert shown_text in ready_en.text, shown_text
    assert "Surat Keterangan Catatan Kepolisian" in ready_id.text
    assert "siap diambil di loket" in ready_id.text
    assert shown[0]["collected"] == {"collected_at": "2026-08-20T03:00:00Z", "by_holder": True}
    assert status["documents"][0]["collected"] == shown[0]["collected"]  # the first collection stands
    assert "collected on 20 August 2026 by the holder" in after_en.text
    assert "ready for collection" not in after_en.text
    assert "diambil pada 20 Agustus 2026 oleh pemegangnya" in after_id.text
    assert "Siti" not in after_en.text
    assert "Budi" not in after_en.text


async def test_a_collection_that_arrives_before_its_issue_shows_once_the_issue_arrives(
    intake: tuple[FastAPI, httpx.AsyncClient], kafka_settings: KafkaSettings
) -> None:
    app, client = intake
    application_id, tracking_code = await applied(client)
    pdf = f"%PDF-1.7 {uuid.uuid4()}".encode()
    document = issued(application_id, pdf).model_copy(update={"collect_at_counter": True})
    early = collected(document, by_holder=False, at=datetime(2026, 8, 21, 2, 0, tzinfo=UTC))
    await produce(kafka_settings, MALL, [record_of(early)])
    await eventually(
        lambda: count(
            app, "SELECT count(*) FROM document_collections WHERE document_id = :id", id=str(document.document_id)
        ),
        lambda n: n == 1,
        what="the early collection kept",
    )
    before = (await client.get(f"/applications/{tracking_code}")).json()["documents"]

    await produce(kafka_settings, APPLICATIONS, [record_of(agency_event(application_id, document))])
    shown = await listed(client, tracking_code, lambda documents: len(documents) == 1)
    page = await client.get(f"/track/{tracking_code}?lang=en")

    assert before == []
    assert shown[0]["collected"] == {"collected_at": "2026-08-21T02:00:00Z", "by_holder": False}
    assert "collected on 21 August 2026 by a representative" in page.text
