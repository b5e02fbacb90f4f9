"""The upload guard on its own, in front of small apps: what it refuses and when, what the app sees, and that the
bytes a process holds in flight are always released. (Intake's tests run it on the real database and server.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from satupintu.common.limits import Limiter, Quota, Taken
from satupintu.common.problems import install_problem_handlers
from satupintu.common.uploads import UploadGuard, UploadVolume

pytestmark = pytest.mark.unit

LIMIT = 1000


def guarded(app: FastAPI, budget: int = 10 * LIMIT) -> UploadGuard:
    return UploadGuard(
        app, body_limit=lambda scope: LIMIT if scope["path"].startswith("/upload") else None, bytes_in_flight=budget
    )


def small_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.state.seen = []

    @app.post("/upload")
    async def upload(request: Request) -> JSONResponse:
        body = await request.body()
        app.state.seen.append(len(body))
        return JSONResponse({"size": len(body)})

    @app.post("/upload/swallowing")
    async def swallowing(request: Request) -> JSONResponse:
        try:
            await request.body()
        except Exception:  # a careless endpoint: the guard's answer must win anyway
            return JSONResponse({"ok": True})
        return JSONResponse({"ok": True})

    @app.post("/upload/streaming-answer")
    async def streaming_answer(request: Request) -> Response:
        return Response(b"started", status_code=200)

    @app.post("/other")
    async def other(request: Request) -> JSONResponse:
        return JSONResponse({"size": len(await request.body())})

    return app


class Chunks:
    def __init__(self, total: int, chunk: int = 100) -> None:
        self.total, self.chunk, self.sent = total, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.sent < self.total:
            piece = b"x" * min(self.chunk, self.total - self.sent)
            self.sent += len(piece)
            yield piece


def client_of(guard: UploadGuard) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=guard), base_url="http://t")


async def test_a_body_within_the_limit_passes_whole() -> None:
    app = small_app()
    guard = guarded(app)
    async with client_of(guard) as client:
        answer = await client.post("/upload", content=Chunks(LIMIT))

    assert answer.status_code == 200
    assert app.state.seen == [LIMIT]
    assert guard.bytes_in_flight == 0


@pytest.mark.parametrize("declared", [None, str(LIMIT + 1)])
async def test_a_body_over_the_limit_is_refused_with_problem_json_and_read_no_further(declared: str | None) -> None:
    app = small_app()
    guard = guarded(app)
    body = Chunks(50 * LIMIT)
    headers = {"content-length": declared} if declared else {}
    async with client_of(guard) as client:
        answer = await client.post("/upload", content=body, headers=headers)

    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["connection"] == "close"
    assert answer.json()["type"] == "https://satupintu.go.id/problems/payload-too-large"
    assert f"limit of {LIMIT} bytes" in answer.json()["detail"]
    assert body.sent == (0 if declared else LIMIT + 100)
    assert app.state.seen == []
    assert guard.bytes_in_flight == 0


async def test_a_body_longer_than_its_content_length_is_cut_at_the_declared_length() -> None:
    app = small_app()
    guard = guarded(app)
    body = Chunks(LIMIT)
    async with client_of(guard) as client:
        answer = await client.post("/upload", content=body, headers={"content-length": "250"})

    assert answer.status_code == 413
    assert "250 bytes its Content-Length declared" in answer.json()["detail"]
    assert body.sent == 300
    assert app.state.seen == []


async def test_an_endpoint_that_swallows_the_refusal_still_answers_413() -> None:
    guard = guarded(small_app())
    async with client_of(guard) as client:
        answer = await client.post("/upload/swallowing", content=Chunks(5 * LIMIT))

    assert answer.status_code == 413
    assert answer.json()["status"] == 413


async def test_requests_that_are_not_uploads_pass_untouched() -> None:
    guard = guarded(small_app())
    async with client_of(guard) as client:
        answer = await client.post("/other", content=Chunks(5 * LIMIT))

    assert answer.status_code == 200
    assert answer.json() == {"size": 5 * LIMIT}


async def test_an_upload_past_the_bytes_in_flight_gets_503_and_the_budget_comes_back() -> None:
    guard = guarded(small_app(), budget=LIMIT + 500)
    holding, release = asyncio.Event(), asyncio.Event()

    async def held() -> AsyncIterator[bytes]:
        yield b"x" * 100
        holding.set()
        await release.wait()
        yield b"x" * 100

    async with client_of(guard) as client:
        first = asyncio.create_task(client.post("/upload", content=held()))
        await asyncio.wait_for(holding.wait(), timeout=10)
        in_flight = guard.bytes_in_flight
        chunked = await client.post("/upload", content=Chunks(10))  # reserves the whole limit: over the budget
        declared = await client.post("/upload", content=b"z" * 400)  # reserves its 400 bytes: within it
        release.set()
        assert (await first).status_code == 200

    assert in_flight == LIMIT
    assert chunked.status_code == 503
    assert chunked.headers["content-type"] == "application/problem+json"
    assert int(chunked.headers["retry-after"]) > 0
    assert declared.status_code == 200
    assert guard.bytes_in_flight == 0


async def test_an_answer_that_does_not_read_the_body_is_not_refused() -> None:
    guard = guarded(small_app())
    async with client_of(guard) as client:
        answer = await client.post("/upload/streaming-answer", content=Chunks(5 * LIMIT))

    assert answer.status_code == 200
    assert answer.content == b"started"


class FakeLimiter(Limiter):
    """Answers takes as told, and records what is given back."""

    def __init__(self, allowed: bool = True, failure: Exception | None = None) -> None:
        self.allowed, self.failure = allowed, failure
        self.taken: list[tuple[str, int]] = []
        self.given_back: list[int] = []

    async def take(self, quota: Quota, subject: str, units: int = 1) -> Taken:
        if self.failure is not None:
            raise self.failure
        self.taken.append((subject, units))
        start = datetime(2026, 6, 15, tzinfo=UTC)
        wait = timedelta(0) if self.allowed else timedelta(seconds=90.2)
        return Taken(self.allowed, quota.key(subject), units, start, 0, wait)

    async def give_back(self, taken: Taken, units: int) -> None:
        self.given_back.append(units)


QUOTA = Quota("test.upload-bytes", 10 * LIMIT, timedelta(hours=1))


def with_volume(limiter: FakeLimiter) -> UploadGuard:
    return UploadGuard(
        small_app(),
        body_limit=lambda scope: LIMIT if scope["path"].startswith("/upload") else None,
        bytes_in_flight=10 * LIMIT,
        volume=UploadVolume(limiter, QUOTA),
    )


async def test_the_clients_volume_is_reserved_before_reading_and_the_unused_part_given_back() -> None:
    limiter = FakeLimiter()
    async with client_of(with_volume(limiter)) as client:
        chunked = await client.post("/upload", content=Chunks(300))
        declared = await client.post("/upload", content=b"d" * 200)

    assert chunked.status_code == declared.status_code == 200
    assert limiter.taken == [("127.0.0.1", LIMIT), ("127.0.0.1", 200)]
    assert limiter.given_back == [LIMIT - 300]  # a declared body used all it reserved


async def test_a_client_past_its_volume_gets_429_with_the_seconds_to_wait_and_nothing_is_read() -> None:
    body = Chunks(300)
    async with client_of(with_volume(FakeLimiter(allowed=False))) as client:
        answer = await client.post("/upload", content=body)

    assert answer.status_code == 429
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"].endswith("/rate-limited")
    assert answer.headers["retry-after"] == "91"
    assert "10000 bytes per hour" in answer.json()["detail"]
    assert body.sent == 0


async def test_an_unreachable_database_gets_503_with_retry_after_and_nothing_is_read() -> None:
    body = Chunks(300)
    limiter = FakeLimiter(failure=ConnectionRefusedError("connection refused"))
    async with client_of(with_volume(limiter)) as client:
        answer = await client.post("/upload", content=body)

    assert answer.status_code == 503
    assert answer.json()["type"].endswith("/unavailable")
    assert int(answer.headers["retry-after"]) > 0
    assert body.sent == 0
