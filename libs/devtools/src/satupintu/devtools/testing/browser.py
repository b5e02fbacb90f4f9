"""What browser tests share: Debian's Chromium for Playwright, where screenshots go, and an app served by uvicorn
on a free loopback port (a real server: forms, redirects and cookies go over HTTP as in a browser)."""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from satupintu.devtools.localstack.paths import repository_root
from satupintu.devtools.testing.waiting import eventually

SCREENSHOTS = repository_root() / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    """Debian's Chromium (``make system-packages``); the test fails, not skips, without it."""
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).is_file():
        pytest.fail("Debian's chromium is needed for the browser tests: `make system-packages` installs it")
    return executable


def free_port() -> int:
    """A loopback port nothing listens on now (to register a service's address before serving it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def screenshot_path(name: str) -> Path:
    """Where the screenshot ``name`` (e.g. ``mall-board.png``) goes, under ``docs/screenshots``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / name


@asynccontextmanager
async def serving(app: FastAPI, what: str = "the app", port: int = 0) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port (``port`` when given: an app that must know its address
    before it is built, to register it with the identity provider); the base URL once ``/readyz`` answers 200."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", port))
    listener.listen()
    base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    serve = asyncio.create_task(server.serve(sockets=[listener]))

    async def readiness() -> int:
        if serve.done():
            raise AssertionError(f"{what} stopped while starting: {serve}")
        try:
            return (await client.get("/readyz")).status_code
        except httpx.TransportError:
            return 0

    try:
        async with httpx.AsyncClient(base_url=base_url) as client:  # one for the whole wait
            await eventually(readiness, lambda status: status == 200, timeout=60, what=f"{what} /readyz")
        yield base_url
    finally:
        server.should_exit = True
        await serve
        listener.close()
