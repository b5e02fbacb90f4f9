"""Errors over HTTP as RFC 9457 problem details (``application/problem+json``), with the field path of every
validation error, so a citizen or a portal can see exactly what to fix."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from satupintu.common.failures import database_unavailable

_logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://satupintu.go.id/problems/"
RETRY_AFTER_SECONDS = 5
"""What a client is told to wait (``Retry-After``) when the service's database cannot be reached."""


class Problem(Exception):
    """An error a handler raises to answer with a specific problem type."""

    def __init__(
        self,
        status: int,
        problem_type: str,
        detail: str,
        *,
        title: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.problem_type = problem_type
        self.detail = detail
        self.title = title or HTTPStatus(status).phrase
        self.errors = errors or []
        self.headers = headers or {}
        self.extensions = extensions or {}
        """RFC 9457 extension members this problem type defines (never one of the standard names)."""


def problem_response(
    request: Request,
    status: int,
    problem_type: str,
    detail: str,
    *,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> JSONResponse:
    """A problem+json answer (with the problem type's ``extensions`` members)."""
    body: dict[str, Any] = {
        **(extensions or {}),
        "type": PROBLEM_TYPE_BASE + problem_type,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def field_path(location: tuple[int | str, ...] | list[int | str]) -> str:
    """A validation error's location as a JSON-pointer-like path, without the ``body`` prefix: ``applicant/nik``."""
    parts = [str(part) for part in location]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return "/".join(parts)


_STATUS_TYPES = {
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    429: "rate-limited",
    503: "unavailable",
}


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` as problem+json."""

    @app.exception_handler(Problem)
    async def on_problem(request: Request, problem: Problem) -> JSONResponse:
        return problem_response(
            request,
            problem.status,
            problem.problem_type,
            problem.detail,
            title=problem.title,
            errors=problem.errors,
            headers=problem.headers,
            extensions=problem.extensions,
        )

    @app.exception_handler(RequestValidationError)
    async def on_invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": field_path(item.get("loc", ())), "message": item.get("msg", "invalid"), "code": item.get("type")}
            for item in error.errors()
        ]
        return problem_response(
            request, 422, "validation-error", "The request is not valid; see `errors` for each field.", errors=errors
        )

    async def on_dependency_failure(request: Request, error: Exception) -> JSONResponse:
        if not database_unavailable(error):
            raise error  # a real fault: the server error middleware answers 500 and logs it
        _logger.warning("database unavailable on %s %s: %r", request.method, request.url.path, error)
        return problem_response(
            request,
            503,
            "unavailable",
            "The service cannot reach its database right now; nothing was changed. Try again shortly.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    # Connection refused or lost (raw, from asyncpg, or wrapped by SQLAlchemy): 503 with Retry-After, not 500.
    for failure in (OSError, DBAPIError, asyncpg.PostgresError, asyncpg.InterfaceError):
        app.add_exception_handler(failure, on_dependency_failure)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        problem_type = _STATUS_TYPES.get(error.status_code, "http-error")
        detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
        return problem_response(request, error.status_code, problem_type, detail, headers=dict(error.headers or {}))


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details; a problem type may add members of its own.",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "format": "uri", "description": "What kind of problem."},
        "title": {"type": "string", "description": "The HTTP status's phrase, or the problem's title."},
        "status": {"type": "integer", "description": "The HTTP status."},
        "detail": {"type": "string", "description": "What went wrong, for a human."},
        "instance": {"type": "string", "description": "The path asked for."},
        "errors": {
            "type": "array",
            "description": "Each field at fault (a validation error, or a refusal that names a field).",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "field": {"type": "string", "description": "The field's path, e.g. `applicant/nik`."},
                    "message": {"type": "string", "description": "What is wrong with it, for a human."},
                    "code": {"type": "string", "description": "What is wrong with it, for a program."},
                },
            },
        },
    },
}
"""The ``Problem`` schema every service's OpenAPI document declares for its 4xx and 5xx answers."""


def documented_problems(descriptions: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the problems an endpoint answers (``satupintu.common.openapi`` declares them as
    ``application/problem+json`` with the ``Problem`` schema)."""
    return {
        status: {"description": description, "content": {PROBLEM_MEDIA_TYPE: {}}}
        for status, description in descriptions.items()
    }
