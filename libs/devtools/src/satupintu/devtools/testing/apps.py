"""Running a service's app inside a test: its lifespan (broker, consumers, relay) and an HTTP client to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI


@asynccontextmanager
async def running(
    app: FastAPI, client_address: tuple[str, int] = ("127.0.0.1", 123)
) -> AsyncIterator[httpx.AsyncClient]:
    """Run ``app``'s lifespan and give an HTTP client to it (calling from ``client_address``); fail if the app does
    not stop within its deadline (what it left running would go on consuming in this test session)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=client_address)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            yield client
    runtime = getattr(app.state, "runtime", None)
    if runtime is not None and runtime.stopped_in_time is False:
        raise AssertionError(f"{runtime.name} did not stop within {runtime.settings.stop_timeout_seconds}s")
