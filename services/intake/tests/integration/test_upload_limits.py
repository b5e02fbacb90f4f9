"""Uploads are bounded while they stream, on the real database and broker: on every upload path (``POST
/documents``, the pages' forms) a body whose Content-Length is over the limit is refused before a byte is read, a
chunked body the moment it passes the limit, a Content-Length that lies never gets more through; each refusal is
413 problem+json, stores nothing and leaves no temporary file; a client's hourly volume is shared by two instances
on one database (429 with Retry-After); and a real server refuses a chunked stream before it was all sent."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func
from sqlmodel import SQLModel, select

from satupintu.common.settings import KafkaSettings
from satupintu.contract.applications import (
    ApplicationInformationRequested,
    ApplicationStageStarted,
    StageTask,
)
from satupintu.contract.envelope import Event
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.apps import running
from satupintu.devtools.testing.browser import serving
from satupintu.devtools.testing.waiting import eventually
from satupintu.intake.config import IntakeSettings
from satupintu.intake.documents import DocumentRecord
from satupintu.intake.main import create_app
from satupintu.intake.storage.tables import ApplicationRecord
from tests.support import produce, record_of, skck_application

pytestmark = pytest.mark.integration

MAX_DOCUMENT_BYTES = 4096
OVERHEAD_BYTES = 2048
DOCUMENT_LIMIT = MAX_DOCUMENT_BYTES + OVERHEAD_BYTES  # POST /documents
SKCK_FORM_LIMIT = MAX_DOCUMENT_BYTES + OVERHEAD_BYTES  # one KTP (its own limit, 2 MB, is above the setting)
ANSWER_LIMIT = 2 * MAX_DOCUMENT_BYTES + OVERHEAD_BYTES  # the catalogue's most documents: PBG's two
CHUNK = 512
BOUNDARY = "satupintu-upload-test"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
PROBLEM = "application/problem+json"


def multipart(total: int, field: str = "file", filler: bytes = b"0") -> bytes:
    """A well-formed multipart body of exactly ``total`` bytes: one PDF file in ``field``."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; filename="scan.pdf"\r\n'
        f"Content-Type: application/pdf\r\n\r\n%PDF-1.7 {uuid.uuid4()}\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    return head + filler * (total - len(head) - len(tail)) + tail


class CountingBody:
    """A request body streamed in chunks (chunked: no Content-Length unless the test declares one), counting the
    bytes the server pulled; ``pause_after`` bytes in, it waits for ``resume``."""

    def __init__(self, content: bytes, chunk: int = CHUNK, pause_after: int | None = None) -> None:
        self.content = content
        self.chunk = chunk
        self.sent = 0
        self.pause_after = pause_after
        self.paused = asyncio.Event()
        self.resume = asyncio.Event()
        self.during: Callable[[], None] | None = None

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.content), self.chunk):
            if self.pause_after is not None and self.sent >= self.pause_after and not self.resume.is_set():
                self.paused.set()
                await self.resume.wait()
            if self.during is not None:
                self.during()
            piece = self.content[start : start + self.chunk]
            self.sent += len(piece)
            yield piece


def temporary_files(directory: Path) -> list[str]:
    """Files of this process open in ``directory`` (Starlette's spooled uploads are unlinked at once, so they show
    only as open descriptors)."""
    found = []
    for descriptor in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{descriptor}")
            if target.startswith(f"{directory}/"):
                found.append(target)
    return found


def spooled_in(directory: Path) -> Callable[[], Awaitable[list[str]]]:
    """A probe of :func:`temporary_files` for ``eventually``."""

    async def probe() -> list[str]:
        return temporary_files(directory)

    return probe


async def read_until_closed(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sent until it closed the connection (a reset after its answer keeps what came)."""
    received = bytearray()
    with contextlib.suppress(ConnectionError):
        while block := await reader.read(64 * 1024):
            received += block
    return bytes(received)


def files_under(directory: Path) -> list[Path]:
    return [path for path in directory.rglob("*") if path.is_file()] if directory.exists() else []


async def rows(app: FastAPI, table: type[SQLModel]) -> int:
    async with app.state.runtime.engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(table)) or 0)


def assert_too_large(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["connection"] == "close"
    problem = response.json()
    assert problem["type"].endswith("/payload-too-large")
    assert problem["status"] == 413
    assert str(limit) in problem["detail"]


@pytest.fixture
def spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary directory intake spools uploads to (``TMPDIR``)."""
    directory = tmp_path / "tmp"
    directory.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    return directory


@pytest.fixture
def intake_settings(make_settings: Callable[..., Any], tmp_path: Path) -> Callable[..., Any]:
    """Intake's settings with small upload limits and no per-minute limit; ``overrides`` change them."""

    async def build(**overrides: Any) -> IntakeSettings:
        values: dict[str, Any] = {
            "documents_dir": tmp_path / "documents",
            "max_document_bytes": MAX_DOCUMENT_BYTES,
            "upload_overhead_bytes": OVERHEAD_BYTES,
            "upload_bytes_per_client_per_hour": 0,
            "rate_limit_per_minute": 0,
            **overrides,
        }
        settings: IntakeSettings = await make_settings(IntakeSettings, "intake", **values)
        return settings

    return build


async def test_a_chunked_body_over_the_limit_is_refused_the_moment_it_passes_it_and_stores_nothing(
    intake_settings: Callable[..., Any], spool: Path
) -> None:
    settings = await intake_settings()
    app = create_app(settings)
    async with running(app) as client:
        documents_before = await rows(app, DocumentRecord)
        body = CountingBody(multipart(200_000))

        response = await client.post("/documents", content=body, headers={"content-type": MULTIPART})

        assert_too_large(response, DOCUMENT_LIMIT)
        assert body.sent <= DOCUMENT_LIMIT + CHUNK < len(body.content)
        assert await rows(app, DocumentRecord) == documents_before
    assert files_under(settings.documents_dir) == []
    assert temporary_files(spool) == []


async def test_a_declared_length_over_the_limit_is_refused_before_anything_is_read(
    intake_settings: Callable[..., Any], spool: Path
) -> None:
    settings = await intake_settings()
    app = create_app(settings)
    async with running(app) as client:
        body = CountingBody(multipart(DOCUMENT_LIMIT + 1))

        response = await client.post(
            "/documents",
            content=body,
            headers={"content-type": MULTIPART, "content-length": str(len(body.content))},
        )

        assert_too_large(response, DOCUMENT_LIMIT)
        assert body.sent == 0
    assert files_under(settings.documents_dir) == []
    assert temporary_files(spool) == []


async def test_a_content_length_that_lies_gets_no_more_than_it_declared(
    intake_settings: Callable[..., Any], spool: Path
) -> None:
    settings = await intake_settings()
    app = create_app(settings)
    async with running(app) as client:
        documents_before = await rows(app, DocumentRecord)
        body = CountingBody(multipart(200_000))

        response = await client.post(
            "/documents", content=body, headers={"content-type": MULTIPART, "content-length": "1000"}
        )

        assert response.status_code == 413, response.text
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["type"].endswith("/payload-too-large")
        assert "1000 bytes its Content-Length declared" in response.json()["detail"]
        assert body.sent <= 1000 + CHUNK
        assert await rows(app, DocumentRecord) == documents_before
    assert files_under(settings.documents_dir) == []
    assert temporary_files(spool) == []


async def test_the_application_form_is_bounded_the_same_way_in_the_pages_language(
    intake_settings: Callable[..., Any], spool: Path
) -> None:
    settings = await intake_settings()
    app = create_app(settings)
    async with running(app) as client:
        applications_before = await rows(app, ApplicationRecord)
        documents_before = await rows(app, DocumentRecord)

        answers, bodies = await send_oversized_forms(client, "/apply/skck?lang=en", SKCK_FORM_LIMIT)
        browser = CountingBody(multipart(100_000, field="document-ktp"))
        browser_answer = await client.post(
            "/apply/skck?lang=en", content=browser, headers={"content-type": MULTIPART, "accept": "text/html"}
        )

        assert_refused_in_english(answers, bodies, SKCK_FORM_LIMIT)
        assert browser_answer.status_code == 413
        assert browser_answer.headers["content-type"].startswith("text/html")
        assert "The files are too large" in browser_answer.text
        assert browser.sent <= SKCK_FORM_LIMIT + CHUNK
        assert await rows(app, ApplicationRecord) == applications_before
        assert await rows(app, DocumentRecord) == documents_before
    assert files_under(settings.documents_dir) == []
    assert temporary_files(spool) == []


async def test_the_answer_form_is_bounded_the_same_way(
    intake_settings: Callable[..., Any], kafka_settings: KafkaSettings, spool: Path
) -> None:
    settings = await intake_settings()
    app = create_app(settings)
    async with running(app) as client:
        code = await application_with_a_question(client, kafka_settings)
        documents_before = await rows(app, DocumentRecord)

        answers, bodies = await send_oversized_forms(client, f"/track/{code}/answer?lang=en", ANSWER_LIMIT)

        assert_refused_in_english(answers, bodies, ANSWER_LIMIT)
        assert await rows(app, DocumentRecord) == documents_before
        status = (await client.get(f"/applications/{code}")).json()
        assert status["status"] == "information_requested"  # no answer went through
    assert temporary_files(spool) == []


async def send_oversized_forms(
    client: httpx.AsyncClient, path: str, limit: int
) -> tuple[list[httpx.Response], list[CountingBody]]:
    """A page form over ``limit``: chunked, with its true Content-Length, with one that lies (2000 bytes)."""
    chunked = CountingBody(multipart(100_000, field="document-ktp"))
    declared = CountingBody(multipart(limit + 1, field="document-ktp"))
    lying = CountingBody(multipart(100_000, field="document-ktp"))
    answers = [
        await client.post(path, content=chunked, headers={"content-type": MULTIPART}),
        await client.post(
            path, content=declared, headers={"content-type": MULTIPART, "content-length": str(len(declared.content))}
        ),
        await client.post(path, content=lying, headers={"content-type": MULTIPART, "content-length": "2000"}),
    ]
    return answers, [chunked, declared, lying]


def assert_refused_in_english(answers: list[httpx.Response], bodies: list[CountingBody], limit: int) -> None:
    for answer in answers:
        assert answer.status_code == 413, answer.text
        assert answer.headers["content-type"] == PROBLEM
        assert answer.json()["type"].endswith("/payload-too-large")
        assert answer.json()["title"] == "The files are too large"
    chunked, declared, lying = bodies
    assert chunked.sent <= limit + CHUNK
    assert declared.sent == 0
    assert lying.sent <= 2000 + CHUNK


async def application_with_a_question(client: httpx.AsyncClient, kafka: KafkaSettings) -> str:
    """An SKCK application the police asked a question about (routing's events, produced here); its tracking code."""
    body = await skck_application(client)
    accepted = await client.post("/applications", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert accepted.status_code == 202, accepted.text
    application_id, code = accepted.json()["application_id"], accepted.json()["tracking_code"]
    now = datetime.now(UTC)
    task_id = str(uuid.uuid4())
    started = ApplicationStageStarted(
        application_id=application_id,
        stage_index=0,
        stage_name="pemeriksaan",
        stage_count=1,
        tasks=(StageTask(task_id=task_id, agency="polres", due_at=now + timedelta(days=3)),),
        started_at=now,
    )
    question = ApplicationInformationRequested(
        application_id=application_id, task_id=task_id, agency="polres", questions=("RT/RW?",), requested_at=now
    )
    events = [
        record_of(Event(payload=payload, source="/satupintu/routing", subject=application_id, actor="service:routing"))
        for payload in (started, question)
    ]
    await produce(kafka, Topic.APPLICATIONS.name_for(), events)

    async def status() -> str:
        answer: str = (await client.get(f"/applications/{code}")).json()["status"]
        return answer

    await eventually(status, lambda state: state == "information_requested", what="the question shown")
    return str(code)


async def test_spooled_uploads_leave_no_temporary_file_whether_accepted_refused_or_cut_off(
    intake_settings: Callable[..., Any], spool: Path
) -> None:
    settings = await intake_settings(max_document_bytes=3_000_000)  # past Starlette's 1 MB kept in memory
    app = create_app(settings)
    seen: list[int] = []

    def look() -> None:
        seen.append(len(temporary_files(spool)))

    async with running(app) as client:
        accepted = CountingBody(multipart(1_500_000, filler=b"1"), chunk=64 * 1024)
        accepted.during = look
        answer = await client.post("/documents", content=accepted, headers={"content-type": MULTIPART})
        assert answer.status_code == 201, answer.text
        assert max(seen) == 1  # the upload went to disk while it came in: the check below can see files
        assert temporary_files(spool) == []

        seen.clear()
        refused = CountingBody(multipart(8_000_000), chunk=64 * 1024)
        refused.during = look
        answer = await client.post("/documents", content=refused, headers={"content-type": MULTIPART})
        assert answer.status_code == 413
        assert max(seen) == 1
        assert temporary_files(spool) == []

        cut_off = CountingBody(multipart(2_500_000), chunk=64 * 1024)

        def drop_after_two_megabytes() -> None:
            look()
            if cut_off.sent > 2_000_000:
                raise ConnectionResetError("the client went away")

        seen.clear()
        cut_off.during = drop_after_two_megabytes
        answer = await client.post("/documents", content=cut_off, headers={"content-type": MULTIPART})
        assert answer.status_code == 400  # FastAPI's answer to a body it could not read to the end
        assert max(seen) == 1
        assert temporary_files(spool) == []


async def test_uploads_past_the_bytes_in_flight_wait_their_turn_with_503(
    intake_settings: Callable[..., Any], spool: Path
) -> None:
    settings = await intake_settings(max_upload_bytes_in_flight=ANSWER_LIMIT)
    app = create_app(settings)
    async with running(app) as client:
        first = CountingBody(multipart(3000, filler=b"2"), pause_after=CHUNK)
        first_answer = asyncio.create_task(
            client.post("/documents", content=first, headers={"content-type": MULTIPART})
        )
        await asyncio.wait_for(first.paused.wait(), timeout=30)

        second = await client.post(
            "/documents", content=CountingBody(multipart(3000)), headers={"content-type": MULTIPART}
        )
        first.resume.set()

        assert second.status_code == 503, second.text
        assert second.headers["content-type"] == PROBLEM
        assert int(second.headers["retry-after"]) > 0
        assert (await first_answer).status_code == 201
        third = await client.post("/documents", files={"file": ("c.pdf", b"%PDF-1.7 third", "application/pdf")})
        assert third.status_code == 201, third.text
    assert temporary_files(spool) == []


async def test_a_clients_hourly_volume_is_shared_by_two_instances_and_survives_a_restart(
    intake_settings: Callable[..., Any],
) -> None:
    quota = 3 * ANSWER_LIMIT  # the setting may be no smaller than the largest upload
    settings = await intake_settings(upload_bytes_per_client_per_hour=quota)
    address = ("198.51.100.17", 40000)
    first_app, second_app = create_app(settings), create_app(settings)
    uploaded = 0
    async with (
        running(first_app, client_address=address) as first,
        running(second_app, client_address=address) as second,
    ):
        for index in range(100):
            client = (first, second)[index % 2]
            content = f"%PDF-1.7 {uuid.uuid4()} ".encode() + b"3" * 2500
            answer = await client.post("/documents", files={"file": ("a.pdf", content, "application/pdf")})
            if answer.status_code != 201:
                break
            uploaded += int(answer.request.headers["content-length"])
        refused = answer
        assert refused.status_code == 429, refused.text
        assert refused.headers["content-type"] == PROBLEM
        assert refused.json()["type"].endswith("/rate-limited")
        assert int(refused.headers["retry-after"]) > 0
        assert quota - int(refused.request.headers["content-length"]) < uploaded <= quota
        # Another client is not affected, and nothing of the refused upload was stored.
        other_client = httpx.ASGITransport(app=first_app, client=("198.51.100.18", 40000))
        async with httpx.AsyncClient(transport=other_client, base_url="http://service") as other:
            other_answer = await other.post("/documents", files={"file": ("b.pdf", content, "application/pdf")})
        assert other_answer.status_code == 201, other_answer.text
        stored = await rows(first_app, DocumentRecord)
    restarted = create_app(settings)
    async with running(restarted, client_address=address) as client:
        later = f"%PDF-1.7 {uuid.uuid4()} ".encode() + b"5" * 2500  # as large as the upload refused before
        again = await client.post("/documents", files={"file": ("c.pdf", later, "application/pdf")})
        assert again.status_code == 429
        assert await rows(restarted, DocumentRecord) == stored


async def test_the_unused_part_of_a_chunked_uploads_reservation_is_given_back(
    intake_settings: Callable[..., Any],
) -> None:
    quota = 3 * ANSWER_LIMIT
    settings = await intake_settings(upload_bytes_per_client_per_hour=quota)
    app = create_app(settings)
    async with running(app, client_address=("198.51.100.19", 40000)) as client:
        # A chunked upload reserves the route's whole limit (6144 bytes): five would use the quota up if they kept
        # it, eight of 3000 bytes fit only if each gives back what it did not use.
        answers = [
            await client.post(
                "/documents", content=CountingBody(multipart(3000, filler=b"4")), headers={"content-type": MULTIPART}
            )
            for _ in range(8)
        ]
    assert [answer.status_code for answer in answers] == [201] * 8


async def test_a_real_server_refuses_a_chunked_stream_before_it_was_all_sent_and_closes_the_connection(
    intake_settings: Callable[..., Any], spool: Path
) -> None:
    settings = await intake_settings()
    total = 64 * 1024 * 1024
    async with serving(create_app(settings), "intake") as base_url, asyncio.timeout(60):
        host, port = base_url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            f"POST /documents HTTP/1.1\r\nHost: {host}\r\nContent-Type: {MULTIPART}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        answer = asyncio.create_task(read_until_closed(reader))
        piece = multipart(64 * 1024)
        sent = 0
        with contextlib.suppress(ConnectionError):
            while sent < total and not answer.done():
                writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                await writer.drain()
                sent += len(piece)
        raw = await asyncio.wait_for(answer, timeout=30)
        writer.close()

    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 "), raw[:300]
    assert b"content-type: application/problem+json" in head.lower()
    assert b"payload-too-large" in body
    assert sent < total  # the server answered and closed long before the stream was sent
    assert files_under(settings.documents_dir) == []
    await eventually(spooled_in(spool), lambda files: files == [], what="temporary files gone")


async def test_a_client_that_disconnects_mid_upload_leaves_no_temporary_file(
    intake_settings: Callable[..., Any], spool: Path
) -> None:
    settings = await intake_settings(max_document_bytes=3_000_000)
    content = multipart(2_500_000)
    async with serving(create_app(settings), "intake") as base_url:
        host, port = base_url.removeprefix("http://").split(":")
        _reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            f"POST /documents HTTP/1.1\r\nHost: {host}\r\nContent-Type: {MULTIPART}\r\n"
            f"Content-Length: {len(content)}\r\n\r\n".encode()
            + content[:2_000_000]
        )
        await writer.drain()
        await eventually(spooled_in(spool), lambda files: len(files) == 1, what="the upload spooled to disk")

        writer.transport.abort()

        await eventually(spooled_in(spool), lambda files: files == [], what="the spooled upload removed")
    assert files_under(settings.documents_dir) == []


async def test_a_document_its_form_refuses_is_not_stored(intake_settings: Callable[..., Any]) -> None:
    settings = await intake_settings(max_document_bytes=10_000_000)
    app = create_app(settings)
    oversized_ktp = b"%PDF-1.7 " + uuid.uuid4().bytes + b"6" * 2_000_000  # the KTP's own limit is 2 MB
    png_plan = b"\x89PNG\r\n\x1a\n" + uuid.uuid4().bytes  # the building plan must be a PDF
    async with running(app) as client:
        documents_before = await rows(app, DocumentRecord)
        ktp = await client.post(
            "/apply/skck?lang=en", data={"applicant-nik": "1"}, files={"document-ktp": ("ktp.pdf", oversized_ktp)}
        )
        plan = await client.post(
            "/apply/pbg?lang=en",
            data={"applicant-nik": "1"},
            files={"document-building_plan": ("plan.png", png_plan, "image/png")},
        )

        assert ktp.status_code == 422, ktp.text
        assert "must be smaller than 2 MB" in ktp.text
        assert plan.status_code == 422, plan.text
        assert "must be a PDF" in plan.text
        assert await rows(app, DocumentRecord) == documents_before
    assert files_under(settings.documents_dir) == []
