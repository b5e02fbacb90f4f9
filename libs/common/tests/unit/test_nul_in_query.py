"""PostgreSQL's text cannot hold U+0000: a query parameter holding one is refused as 422 problem+json naming it,
before any handler (and any query) runs."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from satupintu.common.http import RefuseNulInQuery

pytestmark = pytest.mark.unit


def app_counting_calls() -> tuple[FastAPI, list[str]]:
    app = FastAPI()
    calls: list[str] = []

    @app.get("/audit/export")
    async def export(application_id: str | None = None) -> dict[str, str | None]:
        calls.append(application_id or "")
        return {"application_id": application_id}

    app.add_middleware(RefuseNulInQuery)
    return app, calls


async def test_a_query_parameter_with_a_nul_character_is_refused_naming_it() -> None:
    app, calls = app_counting_calls()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as client:
        refused = await client.get("/audit/export?application_id=%3F%08E%00x")
        accepted = await client.get("/audit/export", params={"application_id": "SP-1%00-not-a-nul"})

    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["errors"] == [
        {"field": "application_id", "message": "must not contain the NUL character", "code": "string_nul"}
    ]
    assert accepted.status_code == 200
    assert calls == ["SP-1%00-not-a-nul"]


async def test_a_path_with_a_nul_character_is_refused_before_the_handler() -> None:
    app, calls = app_counting_calls()

    @app.get("/appointments/{booking_code}")
    async def booking(booking_code: str) -> dict[str, str]:
        calls.append(booking_code)
        return {"booking_code": booking_code}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as client:
        refused = await client.get("/appointments/BK-%00")

    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"field": "path", "message": "must not contain the NUL character", "code": "string_nul"}
    ]
    assert calls == []
