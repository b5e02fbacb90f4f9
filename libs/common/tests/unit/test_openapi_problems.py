"""A service's OpenAPI document publishes what it answers: problem+json with the Problem schema for every error,
401/403 behind a token, 503 where the database may be out of reach, and the refusals of its middlewares."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from satupintu.common.health import health_router
from satupintu.common.openapi import GuardedAnswer, answered_by_middleware, document_problems, writes_outside
from satupintu.common.problems import documented_problems

pytestmark = pytest.mark.unit
Token = Annotated[HTTPAuthorizationCredentials | None, Depends(HTTPBearer(auto_error=False))]
PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def published() -> dict[str, Any]:
    app = FastAPI()
    document_problems(app)
    answered_by_middleware(app, GuardedAnswer(429, "Too many writes.", writes_outside("/counter")))
    app.include_router(health_router(dict))

    @app.get("/tasks/{task_id}", responses=documented_problems({404: "No such task."}))
    async def task(task_id: int, _token: Token) -> dict[str, int]:
        return {"task_id": task_id}

    @app.post("/counter/tickets")
    async def ticket() -> dict[str, str]:
        return {}

    @app.post("/complaints")
    async def complaint() -> dict[str, str]:
        return {}

    return app.openapi()


def test_every_error_is_a_problem_and_fastapis_validation_error_is_gone() -> None:
    document = published()
    responses = document["paths"]["/tasks/{task_id}"]["get"]["responses"]

    assert sorted(responses) == ["200", "401", "403", "404", "422", "503"]
    assert {status: responses[status]["content"] for status in ("401", "403", "404", "422", "503")} == dict.fromkeys(
        ("401", "403", "404", "422", "503"), PROBLEM
    )
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert document["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status", "detail", "instance"]


def test_a_middlewares_refusal_is_published_only_where_it_guards() -> None:
    paths = published()["paths"]

    assert "429" in paths["/complaints"]["post"]["responses"]
    assert "429" not in paths["/counter/tickets"]["post"]["responses"]
    assert "429" not in paths["/tasks/{task_id}"]["get"]["responses"]


def test_readiness_publishes_its_own_report_and_liveness_never_fails() -> None:
    paths = published()["paths"]

    assert list(paths["/readyz"]["get"]["responses"]["503"]["content"]) == ["application/json"]
    assert sorted(paths["/healthz"]["get"]["responses"]) == ["200"]
