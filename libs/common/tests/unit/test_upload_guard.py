"""The upload guard on its own, in front of small apps: what it refuses and when, what the app sees, and that the
bytes a process holds in flight are always released. (Intake's tests run it on the real database and server.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from satupintu.common.problems import install_problem_handlers
from satupintu.common.uploads import UploadGuard

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
