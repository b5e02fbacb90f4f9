"""A service's OpenAPI document says what the service answers: every 4xx and 5xx as ``application/problem+json``
with one ``Problem`` schema (in place of FastAPI's ``HTTPValidationError``), 401 and 403 on every operation behind a
bearer token, 503 wherever the database or the identity provider may be out of reach, and the refusals a middleware
answers (429, 413, ...) on the operations it guards. Each router declares the rest (404, 409, ...) with
:func:`~satupintu.common.problems.documented_problems`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from satupintu.common.problems import PROBLEM_MEDIA_TYPE, PROBLEM_SCHEMA

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
_ALWAYS_ANSWERS_PATHS = frozenset({"/healthz"})
"""Operations without I/O: they cannot answer 503."""
_UNAVAILABLE = (
    "The service cannot reach its database (or the identity provider's keys) right now; nothing was changed. "
    "Retry after `Retry-After` seconds."
)
_UNAUTHENTICATED = "No bearer token, or one that cannot be trusted (expired, wrong signature, no roles)."
_FORBIDDEN = "The token is valid but its roles (or its agency) do not allow this."


@dataclass(frozen=True)
class GuardedAnswer:
    """A refusal a middleware answers before any handler runs, on the operations ``guards(method, path)`` names."""

    status: int
    description: str
    guards: Callable[[str, str], bool]


def document_problems(app: FastAPI) -> None:
    """Make ``app.openapi()`` publish the answers this module describes (call once, when the app is built)."""
    app.state.guarded_answers = []

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = problems_declared(schema, app.state.guarded_answers)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def answered_by_middleware(app: FastAPI, answer: GuardedAnswer) -> None:
    """Publish a middleware's refusal on the operations it guards (``app`` was given to :func:`document_problems`)."""
    app.state.guarded_answers.append(answer)


def writes_outside(*prefixes: str) -> Callable[[str, str], bool]:
    """The operations a per-client write limit guards: every POST, PUT, PATCH and DELETE not under ``prefixes``."""

    def guards(method: str, path: str) -> bool:
        return method.upper() in {"POST", "PUT", "PATCH", "DELETE"} and not path.startswith(prefixes)

    return guards


def problems_declared(schema: dict[str, Any], guarded: list[GuardedAnswer]) -> dict[str, Any]:
    """``schema`` (a FastAPI OpenAPI document) with its problems declared as this module's docstring says."""
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    schemas["Problem"] = PROBLEM_SCHEMA
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            if operation.get("security"):
                responses.setdefault("401", {"description": _UNAUTHENTICATED})
                responses.setdefault("403", {"description": _FORBIDDEN})
            if path not in _ALWAYS_ANSWERS_PATHS:
                responses.setdefault("503", {"description": _UNAVAILABLE})
            for answer in guarded:
                if answer.guards(method, path):
                    responses.setdefault(str(answer.status), {"description": answer.description})
            for status, response in responses.items():
                if status[0] in "45":
                    _as_problem(response)
            operation["responses"] = dict(sorted(responses.items()))
    return schema


def _as_problem(response: dict[str, Any]) -> None:
    """Declare an error response as problem+json, unless it explicitly publishes only another media type (the
    readiness report's 503 is JSON)."""
    content: dict[str, Any] = response.get("content") or {}
    others = {
        media: body
        for media, body in content.items()
        if media != PROBLEM_MEDIA_TYPE and not _is_fastapi_default(media, body)
    }
    if PROBLEM_MEDIA_TYPE in content or not others:
        others[PROBLEM_MEDIA_TYPE] = {"schema": PROBLEM_REF}
    response["content"] = others


def _is_fastapi_default(media: str, body: dict[str, Any]) -> bool:
    """FastAPI's own filling: ``application/json`` with its validation error or an empty schema."""
    if media != "application/json":
        return False
    reference = str(body.get("schema", {}).get("$ref", ""))
    return not body.get("schema") or reference.rsplit("/", 1)[-1] in _FASTAPI_VALIDATION_SCHEMAS
