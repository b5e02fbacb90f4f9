"""Which failures mean "the database cannot be reached right now" (HTTP answers 503 with Retry-After) and which are
real faults (500): a service must never tell a client to retry a request that will fail the same way again."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from satupintu.common.failures import database_unavailable
from satupintu.common.problems import install_problem_handlers

pytestmark = pytest.mark.unit


def raised_from(error: BaseException, cause: BaseException) -> BaseException:
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connect call failed"),
        ConnectionResetError(104, "Connection reset by peer"),
        TimeoutError(),
        asyncpg.CannotConnectNowError("the database system is shutting down"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        InterfaceError("SELECT 1", {}, Exception("closed"), connection_invalidated=True),
        raised_from(OperationalError("INSERT", {}, Exception("gone")), asyncpg.CannotConnectNowError("starting up")),
    ],
    ids=lambda error: type(error).__name__,
)
def test_connection_failures_mean_unavailable(error: BaseException) -> None:
    assert database_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        IntegrityError("INSERT", {}, Exception("duplicate key value violates unique constraint")),
        asyncpg.UniqueViolationError("duplicate key"),
        asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
        FileNotFoundError(2, "No such file or directory"),
        ValueError("bad input"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_other_failures_are_not_unavailability(error: BaseException) -> None:
    assert not database_unavailable(error)


async def test_unavailable_database_answers_503_problem_with_retry_after_and_a_fault_still_500() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/refused")
    async def refused() -> None:
        raise ConnectionRefusedError(111, "Connect call failed")

    @app.get("/duplicate")
    async def duplicate() -> None:
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        unavailable = await client.get("/refused")
        fault = await client.get("/duplicate")

    assert unavailable.status_code == 503
    assert unavailable.headers["content-type"] == "application/problem+json"
    assert unavailable.headers["retry-after"] == "5"
    assert unavailable.json()["type"] == "https://satupintu.go.id/problems/unavailable"
    assert fault.status_code == 500
