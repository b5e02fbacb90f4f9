"""Liveness and readiness endpoints every service answers: ``/healthz`` (alive) and ``/readyz`` (ready)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

ReadinessCheck = Callable[[], Awaitable[bool | str]]
"""A dependency's check: True when it answers; False, or why not, when it does not."""


class Readiness(BaseModel):
    """What ``/readyz`` reports: ready or not, and the state of each dependency."""

    status: str = Field(description="`ready` or `not ready`.")
    checks: dict[str, str] = Field(description="Each dependency's state: `ok`, `down` or `down: <why>`.")


def health_router(checks: Callable[[], Mapping[str, ReadinessCheck]]) -> APIRouter:
    """A router with ``/healthz`` and ``/readyz``; ``checks`` names each dependency the service needs to work."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="The service can do its work: its dependencies answer",
        response_model=Readiness,
        responses={503: {"model": Readiness, "description": "A dependency does not answer (see `checks`)."}},
    )
    async def readyz() -> JSONResponse:
        results = {name: await check() for name, check in checks().items()}
        ready = all(result is True for result in results.values())
        body = {
            "status": "ready" if ready else "not ready",
            "checks": {name: _state(result) for name, result in results.items()},
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    return router


def _state(result: bool | str) -> str:
    if result is True:
        return "ok"
    return f"down: {result}" if isinstance(result, str) else "down"
