"""Documents at rest on the real database: uploads are sealed (the file never holds the plaintext), the periodic
clean-up deletes a document no application refers to once it is older than the limit while keeping referenced and
young ones, and documents stored before sealing, or under a key rotated out of first place, are sealed with the
current key."""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from satupintu.common.document_store import MAGIC, DocumentCipher, LocalDocumentStore, sealed_key_id
from satupintu.common.settings import AuthSettings, KafkaSettings
from satupintu.contract.applications import (
    ApplicationInformationRequested,
    ApplicationStageStarted,
    StageTask,
)
from satupintu.contract.base import DocumentRef
from satupintu.contract.documents import DocumentIssued
from satupintu.contract.envelope import Event
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.waiting import eventually
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app
from tests.conftest import running
from tests.support import produce, record_of

pytestmark = pytest.mark.integration

NIK = "3171015506900002"


def random_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def unique_pdf(label: str) -> bytes:
    return f"%PDF-1.4 {label} {uuid.uuid4()}\n%%EOF\n".encode()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def settings_for(make_settings: Callable[..., Any], root: Path) -> Callable[..., Any]:
    """Intake's settings with its documents and keys under this test's directory."""

    async def build(**overrides: Any) -> IntakeSettings:
        settings: IntakeSettings = await make_settings(
            IntakeSettings,
            "intake",
            documents_dir=root / "documents",
            auth=AuthSettings(keys_dir=root / "keys"),
            rate_limit_per_minute=0,
            **overrides,
        )
        return settings

    return build


async def upload(client: httpx.AsyncClient, content: bytes) -> str:
    answer = await client.post("/documents", files={"file": ("scan.pdf", content, "application/pdf")})
    assert answer.status_code == 201, answer.text
    sha256: str = answer.json()["sha256"]
    return sha256


async def age(app: FastAPI, sha256s: list[str], by: timedelta) -> None:
    """Make the documents look last used ``by`` ago (as if uploaded or referred to then)."""
    async with app.state.runtime.engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE documents SET used_at = used_at - CAST(:by AS interval) "
                "WHERE sha256 = ANY(CAST(:sha256s AS text[]))"
            ),
            {"by": by, "sha256s": sha256s},
        )


async def recorded(app: FastAPI, sha256: str) -> dict[str, Any] | None:
    async with app.state.runtime.engine.connect() as connection:
        row = (
            await connection.execute(text("SELECT key_id, used_at FROM documents WHERE sha256 = :s"), {"s": sha256})
        ).first()
    return dict(row._mapping) if row else None


def file_of(root: Path, sha256: str) -> Path:
    return root / "documents" / sha256[:2] / sha256


async def test_an_upload_is_sealed_on_disk_and_opens_with_the_documents_key(
    settings_for: Callable[..., Any], root: Path
) -> None:
    keys = f"k1:{random_key()}"
    app = create_app(await settings_for(document_keys=keys))
    content = unique_pdf("KTP 3171015506900002 Siti Rahayu")
    async with running(app) as client:
        sha256 = await upload(client, content)
        again = await upload(client, content)
        row = await recorded(app, sha256)

    stored = file_of(root, sha256).read_bytes()
    assert again == sha256 == hashlib.sha256(content).hexdigest()
    assert stored.startswith(MAGIC)
    assert content not in stored
    assert b"Siti Rahayu" not in stored
    assert b"%PDF" not in stored
    assert sealed_key_id(stored) == "k1"
    assert row is not None
    assert row["key_id"] == "k1"
    assert DocumentCipher.from_spec(keys).open(sha256, stored) == content
    assert await LocalDocumentStore(root / "documents", DocumentCipher.from_spec(keys)).read(sha256) == content


async def test_an_unreferenced_document_older_than_the_limit_is_deleted_a_referenced_and_a_young_one_kept(
    settings_for: Callable[..., Any], root: Path, kafka_settings: KafkaSettings
) -> None:
    app = create_app(await settings_for(unreferenced_document_days=7, document_care_interval_seconds=0.2))
    async with running(app) as client:
        forgotten_content = unique_pdf("forgotten")
        forgotten = await upload(client, forgotten_content)
        referenced, young, answered = [
            await upload(client, unique_pdf(label)) for label in ("referenced", "young", "answered")
        ]
        application = {
            "service_code": "skck",
            "applicant": {"nik": NIK, "name": "Siti Rahayu", "language": "id"},
            "data": {"purpose": "Melamar pekerjaan", "address": "Jl. Merdeka No. 1, Jakarta"},
            "documents": [{"name": "ktp", "sha256": referenced}],
            "consent_reuse": False,
        }
        submitted = await client.post("/applications", json=application)
        assert submitted.status_code == 202, submitted.text
        await _answer_with_document(
            client, kafka_settings, submitted.json()["application_id"], submitted.json()["tracking_code"], answered
        )
        await age(app, [forgotten, referenced, answered], timedelta(days=7, minutes=1))
        await age(app, [young], timedelta(days=6, hours=23))

        await eventually(lambda: recorded(app, forgotten), lambda row: row is None, what="forgotten document deleted")
        forgotten_file_left = file_of(root, forgotten).exists()
        kept = {sha256: await recorded(app, sha256) for sha256 in (referenced, young, answered)}
        reuploaded = await upload(client, forgotten_content)
        recorded_again = await recorded(app, forgotten)

    assert forgotten_file_left is False
    assert all(row is not None for row in kept.values()), kept
    assert all(file_of(root, sha256).exists() for sha256 in kept)
    assert reuploaded == forgotten
    assert recorded_again is not None
    assert file_of(root, forgotten).exists()


async def _answer_with_document(
    client: httpx.AsyncClient, kafka: KafkaSettings, application_id: str, tracking_code: str, sha256: str
) -> None:
    """Have the police ask the citizen something (routing's events, by hand) and answer it with a document."""
    now, task_id = datetime.now(UTC), str(uuid.uuid4())
    events = [
        ApplicationStageStarted(
            application_id=application_id,
            stage_index=0,
            stage_name="pemeriksaan",
            stage_count=1,
            tasks=(StageTask(task_id=task_id, agency="polres", due_at=now + timedelta(days=3)),),
            started_at=now,
        ),
        ApplicationInformationRequested(
            application_id=application_id,
            task_id=task_id,
            agency="polres",
            questions=("KTP terbaru?",),
            requested_at=now,
        ),
    ]
    await produce(
        kafka,
        Topic.APPLICATIONS.name_for(),
        [
            record_of(Event(payload=e, source="/satupintu/routing", subject=application_id, actor="service:routing"))
            for e in events
        ],
    )

    async def asked() -> bool:
        status = (await client.get(f"/applications/{tracking_code}")).json()
        return bool(status["tasks"] and status["tasks"][0]["questions"])

    await eventually(asked, what="the question shown")
    answer = await client.post(
        f"/applications/{tracking_code}/information",
        json={"nik": NIK, "message": "Terlampir", "documents": [{"name": "ktp", "sha256": sha256}]},
    )
    assert answer.status_code == 202, answer.text


async def test_a_document_deleted_by_the_clean_up_can_no_longer_be_referred_to(
    settings_for: Callable[..., Any],
) -> None:
    app = create_app(await settings_for(unreferenced_document_days=7))
    async with running(app) as client:
        forgotten = await upload(client, unique_pdf("forgotten"))
        await age(app, [forgotten], timedelta(days=8))
        await app.state.intake.document_retention.delete_unreferenced()
        application = {
            "service_code": "skck",
            "applicant": {"nik": NIK, "name": "Siti Rahayu", "language": "id"},
            "data": {"purpose": "Melamar pekerjaan", "address": "Jl. Merdeka No. 1, Jakarta"},
            "documents": [{"name": "ktp", "sha256": forgotten}],
            "consent_reuse": False,
        }
        refused = await client.post("/applications", json=application)

    assert refused.status_code == 422
    assert [(error["field"], error["code"]) for error in refused.json()["errors"]] == [
        ("documents/0/sha256", "unknown_document")
    ]


async def test_documents_stored_before_sealing_or_under_an_older_key_are_sealed_with_the_current_key(
    settings_for: Callable[..., Any], root: Path
) -> None:
    old_key, new_key = f"k1:{random_key()}", f"k2:{random_key()}"
    legacy, rotated = unique_pdf("stored before sealing"), unique_pdf("sealed with k1")
    first = create_app(await settings_for(document_keys=old_key))
    async with running(first) as client:
        legacy_sha256, rotated_sha256 = await upload(client, legacy), await upload(client, rotated)
    file_of(root, legacy_sha256).write_bytes(legacy)  # as intake stored it before documents were sealed
    async with first.state.runtime.engine.begin() as connection:
        await connection.execute(text("UPDATE documents SET key_id = NULL WHERE sha256 = :s"), {"s": legacy_sha256})

    rotated_in = create_app(await settings_for(document_keys=f"{new_key},{old_key}"))
    async with running(rotated_in):
        await eventually(
            lambda: recorded(rotated_in, rotated_sha256),
            lambda row: row is not None and row["key_id"] == "k2",
            what="the document sealed with k1 sealed again with k2",
        )
        await eventually(
            lambda: recorded(rotated_in, legacy_sha256),
            lambda row: row is not None and row["key_id"] == "k2",
            what="the document stored before sealing sealed with k2",
        )

    only_new_key = LocalDocumentStore(root / "documents", DocumentCipher.from_spec(new_key))
    for sha256, content in ((legacy_sha256, legacy), (rotated_sha256, rotated)):
        stored = file_of(root, sha256).read_bytes()
        assert sealed_key_id(stored) == "k2"
        assert content not in stored
        assert await only_new_key.read(sha256) == content


async def issued_pdf_key(app: FastAPI, document_id: str) -> str | None:
    async with app.state.runtime.engine.connect() as connection:
        row = (
            await connection.execute(
                text("SELECT key_id FROM issued_documents WHERE document_id = :d"), {"d": document_id}
            )
        ).first()
    return row.key_id if row else None


async def issued_document_recorded(app: FastAPI, document_id: str) -> bool:
    async with app.state.runtime.engine.connect() as connection:
        row = (
            await connection.execute(text("SELECT 1 FROM issued_documents WHERE document_id = :d"), {"d": document_id})
        ).first()
    return row is not None


async def test_a_pdf_an_agency_issued_under_an_older_key_is_sealed_with_the_current_key(
    settings_for: Callable[..., Any], root: Path, kafka_settings: KafkaSettings
) -> None:
    old_key, new_key = f"k1:{random_key()}", f"k2:{random_key()}"
    pdf = unique_pdf("an SKCK the police issued")
    sha256 = hashlib.sha256(pdf).hexdigest()
    await LocalDocumentStore(root / "documents", DocumentCipher.from_spec(old_key)).put(sha256, pdf)  # as the desk
    application_id, document_id = str(uuid.uuid4()), str(uuid.uuid4())
    issued = DocumentIssued(
        document_id=document_id,
        application_id=application_id,
        agency="polres",
        service_code="skck",
        number="SKCK/POLRES/2026/00001",
        issued_at=datetime.now(UTC),
        sha256=sha256,
        size_bytes=len(pdf),
        pdf=DocumentRef(name="skck", sha256=sha256),
        holder_initials="S. R.",
        holder_nik_masked="************0002",
        officer="officer:polres:rina",
        collect_at_counter=True,
    )
    event = Event(payload=issued, source="/satupintu/agency/desk", subject=application_id, actor="officer:polres:rina")

    first = create_app(await settings_for(document_keys=old_key))
    async with running(first):
        await produce(kafka_settings, Topic.APPLICATIONS.name_for(), [record_of(event)])
        await eventually(
            lambda: issued_document_recorded(first, document_id), what="the issue recorded under the old key"
        )

    rotated_in = create_app(await settings_for(document_keys=f"{new_key},{old_key}"))
    async with running(rotated_in):
        await eventually(
            lambda: issued_pdf_key(rotated_in, document_id),
            lambda key_id: key_id == "k2",
            what="the issued PDF sealed again with k2",
        )

    stored = file_of(root, sha256).read_bytes()
    assert sealed_key_id(stored) == "k2"
    assert await LocalDocumentStore(root / "documents", DocumentCipher.from_spec(new_key)).read(sha256) == pdf
