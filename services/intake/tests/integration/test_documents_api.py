"""``POST /documents`` against the real database: documents are checked by content, sealed and kept once by their
sha256, and refused uploads leave nothing behind."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from satupintu.common.database import create_engine, create_tables, session_factory
from satupintu.common.document_store import DocumentCipher, LocalDocumentStore
from satupintu.common.problems import install_problem_handlers
from satupintu.common.settings import DatabaseSettings
from satupintu.devtools.testing.plugin import service_database
from satupintu.intake.api import dependencies, documents
from satupintu.intake.documents import DocumentRecord, DocumentService

pytestmark = pytest.mark.integration

MAX_BYTES = 1000
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


@dataclass
class Intake:
    client: httpx.AsyncClient
    engine: AsyncEngine
    store: LocalDocumentStore

    async def rows_for(self, sha256: str) -> int:
        async with self.engine.connect() as connection:
            count = await connection.scalar(
                select(func.count()).select_from(DocumentRecord).where(col(DocumentRecord.sha256) == sha256)
            )
        return int(count or 0)

    def file_for(self, sha256: str) -> Path:
        return self.store.path_of(sha256)


@pytest.fixture
async def intake(database_settings: DatabaseSettings, tmp_path: Path) -> AsyncIterator[Intake]:
    await service_database(database_settings, "intake_docs")
    engine = create_engine(database_settings.owner(), "intake_docs")  # a scratch database with one table
    await create_tables(engine, [DocumentRecord])
    app = FastAPI()
    install_problem_handlers(app)
    store = LocalDocumentStore(tmp_path / "documents", DocumentCipher.configured(None, tmp_path / "keys"))
    service = DocumentService(session_factory(engine), store, max_bytes=MAX_BYTES)
    app.dependency_overrides[dependencies.document_service] = lambda: service
    app.include_router(documents.router)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            yield Intake(client, engine, store)
    finally:
        await engine.dispose()


async def upload(intake: Intake, name: str, content: bytes, content_type: str) -> httpx.Response:
    return await intake.client.post("/documents", files={"file": (name, content, content_type)})


def unique_pdf(label: str) -> bytes:
    """A PDF whose bytes (so hash) are new to this test session's shared database."""
    return PDF + f"% {label} {uuid.uuid4()}\n".encode()


async def test_pdf_upload_answers_its_sha256_and_is_stored_and_recorded(intake: Intake) -> None:
    content = unique_pdf("akta-kelahiran")
    sha256 = hashlib.sha256(content).hexdigest()

    response = await upload(intake, "akta-kelahiran.pdf", content, "application/pdf")

    assert response.status_code == 201, response.text
    assert response.json() == {"sha256": sha256, "media_type": "application/pdf", "size_bytes": len(content)}
    assert content not in intake.file_for(sha256).read_bytes()  # sealed at rest
    assert await intake.store.read(sha256) == content
    assert await intake.rows_for(sha256) == 1


async def test_uploading_the_same_bytes_again_answers_the_same_hash_and_keeps_one_row(intake: Intake) -> None:
    content = unique_pdf("kartu-keluarga")

    first = await upload(intake, "kk.pdf", content, "application/pdf")
    second = await upload(intake, "kk (1).pdf", content, "application/pdf")

    assert first.status_code == second.status_code == 201
    assert first.json()["sha256"] == second.json()["sha256"] == hashlib.sha256(content).hexdigest()
    assert await intake.rows_for(first.json()["sha256"]) == 1


async def test_png_sent_without_a_specific_type_is_recognised_by_its_content(intake: Intake) -> None:
    response = await upload(intake, "pasfoto", PNG, "application/octet-stream")

    assert response.status_code == 201, response.text
    assert response.json()["media_type"] == "image/png"


async def test_text_file_named_pdf_is_refused_as_unsupported_type(intake: Intake) -> None:
    content = b"This is not a PDF, only a text file named x.pdf\n"

    response = await upload(intake, "x.pdf", content, "application/pdf")

    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/unsupported-document-type")
    assert "application/pdf, image/jpeg, image/png" in problem["detail"]
    assert problem["errors"][0]["field"] == "file"


async def test_content_sent_as_another_accepted_type_is_refused_naming_both_types(intake: Intake) -> None:
    response = await upload(intake, "scan.pdf", PNG, "application/pdf")

    assert response.status_code == 415
    assert response.json()["type"].endswith("/unsupported-document-type")
    assert "application/pdf" in response.json()["detail"]
    assert "image/png" in response.json()["detail"]


async def test_pdf_over_the_size_limit_is_refused_as_too_large(intake: Intake) -> None:
    content = PDF + b"0" * (MAX_BYTES + 1 - len(PDF))
    assert len(content) == MAX_BYTES + 1

    response = await upload(intake, "big.pdf", content, "application/pdf")

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/document-too-large")
    assert response.json()["errors"][0]["field"] == "file"


async def test_pdf_exactly_at_the_size_limit_is_accepted(intake: Intake) -> None:
    content = PDF + b"1" * (MAX_BYTES - len(PDF))

    response = await upload(intake, "limit.pdf", content, "application/pdf")

    assert response.status_code == 201, response.text
    assert response.json()["size_bytes"] == MAX_BYTES


async def test_empty_file_is_refused_as_empty_document(intake: Intake) -> None:
    response = await upload(intake, "empty.pdf", b"", "application/pdf")

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/empty-document")


async def test_request_without_a_file_field_is_a_validation_problem(intake: Intake) -> None:
    response = await intake.client.post("/documents", files={"attachment": ("x.pdf", PDF, "application/pdf")})

    assert response.status_code == 422
    assert response.json()["type"].endswith("/validation-error")
    assert response.json()["errors"][0]["field"] == "file"


async def test_refused_uploads_leave_no_row_and_no_file(intake: Intake) -> None:
    refused = {
        "text named pdf": (b"plain text, named x.pdf\n", "application/pdf"),
        "too large": (PDF + b"2" * MAX_BYTES, "application/pdf"),
        "empty": (b"", "application/pdf"),
        "declared otherwise": (PNG + b"refused", "image/jpeg"),
    }

    for name, (content, content_type) in refused.items():
        response = await upload(intake, f"{name}.pdf", content, content_type)
        assert response.status_code in {413, 415, 422}, name

    for name, (content, _) in refused.items():
        sha256 = hashlib.sha256(content).hexdigest()
        assert await intake.rows_for(sha256) == 0, name
        assert not intake.file_for(sha256).exists(), name
