"""What the mall's browser tests share: Debian's Chromium for Playwright, and the mall served by uvicorn on a free
loopback port (a real server: the pages' forms, redirects and cookies go over HTTP as in a browser)."""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from satupintu.common.testing.waiting import eventually

SCREENSHOTS = Path(__file__).parents[4] / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class Clock:
    """The mall's clock in a browser test: it runs with the real one, set where the test wants it (a morning at the
    counters, then late morning, whatever the real time of day)."""

    def __init__(self, now: datetime) -> None:
        self.offset = timedelta(0)
        self.set(now)

    def set(self, now: datetime) -> None:
        self.offset = now - datetime.now(UTC)

    def advance(self, by: timedelta) -> None:
        self.offset += by

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def chromium() -> str:
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).is_file():
        pytest.fail("Debian's chromium is needed for the browser tests: `make system-packages` installs it")
    return executable


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port; the base URL once ``/readyz`` answers 200."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    serve = asyncio.create_task(server.serve(sockets=[listener]))

    async def readiness() -> int:
        if serve.done():
            raise AssertionError(f"the mall server stopped while starting: {serve}")
        try:
            async with httpx.AsyncClient(base_url=base_url) as client:
                return (await client.get("/readyz")).status_code
        except httpx.TransportError:
            return 0

    try:
        await eventually(readiness, lambda status: status == 200, timeout=60, what="mall /readyz")
        yield base_url
    finally:
        server.should_exit = True
        await serve
        listener.close()
