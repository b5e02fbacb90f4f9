"""Intake while its database is unreachable: submissions and reads answer 503 problem+json with ``Retry-After``
(never 500), ``/readyz`` says not ready, nothing is half-written, and service resumes when the database is back.

The outage is a TCP proxy between intake and the session's PostgreSQL that the test cuts (open connections reset,
new ones refused) and restores; the shared server itself is never stopped."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from satupintu.common.database import ensure_database
from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.devtools.testing.plugin import service_database
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app
from tests.conftest import running

pytestmark = pytest.mark.integration


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; ``cut()`` drops every connection and refuses new ones."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def open(self) -> None:
        """Listen (on the same port as before, after a cut)."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Stop listening and reset every open connection, as a server that went away does."""
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        await self._server.wait_closed()
        self._server = None

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self._target)
        except OSError:
            client_writer.transport.abort()
            return
        self._writers |= {client_writer, server_writer}
        await asyncio.gather(
            self._pipe(client_reader, server_writer), self._pipe(server_reader, client_writer), return_exceptions=True
        )
        self._writers -= {client_writer, server_writer}

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        finally:
            with contextlib.suppress(Exception):
                writer.close()


@pytest.fixture
async def proxy(database_settings: DatabaseSettings) -> AsyncIterator[TcpProxy]:
    """A proxy in front of the session's PostgreSQL server."""
    server = make_url(database_settings.url)
    proxy = TcpProxy(server.host or "127.0.0.1", server.port or 5432)
    await proxy.open()
    yield proxy
    with contextlib.suppress(AssertionError):
        await proxy.cut()


def npwp_application() -> dict[str, Any]:
    return {
        "service_code": "npwp",
        "applicant": {"nik": "3171015506900002", "name": "Siti Rahayu", "email": "siti@example.id", "language": "id"},
        "data": {"occupation": "Guru", "monthly_income": 7_500_000, "address": "Jl. Kenanga 5, Samarinda"},
        "consent_reuse": False,
    }


async def submit(client: httpx.AsyncClient, key: str) -> httpx.Response:
    return await client.post("/applications", json=npwp_application(), headers={"Idempotency-Key": key})


def assert_unavailable(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert int(answer.headers["retry-after"]) > 0
    problem = answer.json()
    assert problem["status"] == 503
    assert problem["type"].endswith("/unavailable")


async def test_unreachable_database_answers_503_with_retry_after_and_nothing_is_half_written(
    proxy: TcpProxy, kafka_settings: KafkaSettings, database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    direct = database_settings.model_copy(update={"name_prefix": f"{database_settings.name_prefix}outage_"})
    await service_database(direct, "intake")
    proxied_url = make_url(database_settings.url).set(host="127.0.0.1", port=proxy.port)
    through_proxy = DatabaseSettings(
        url=proxied_url.render_as_string(hide_password=False), name_prefix=direct.name_prefix, pool_size=2
    )
    assert await ensure_database(through_proxy.server_url(), through_proxy.database_name("intake")) is False
    settings = IntakeSettings(
        kafka=kafka_settings, database=through_proxy, rate_limit_per_minute=0, documents_dir=tmp_path / "documents"
    )
    app = create_app(settings)
    before, during = f"before-{uuid.uuid4()}", f"during-{uuid.uuid4()}"
    async with running(app) as client:
        accepted = await submit(client, before)
        assert accepted.status_code == 202, accepted.text
        tracking_code = accepted.json()["tracking_code"]

        await proxy.cut()
        refused = [await submit(client, during) for _ in range(3)]
        status_read = await client.get(f"/applications/{tracking_code}")
        readiness = await client.get("/readyz")

        await proxy.open()
        retried = await submit(client, during)
        replayed = await submit(client, during)
        ready_again = await client.get("/readyz")

    for answer in [*refused, status_read]:
        assert_unavailable(answer)
    assert readiness.status_code == 503
    assert readiness.json() == {"status": "not ready", "checks": {"database": "down", "consumers": "ok"}}
    # The refused request stored nothing: its Idempotency-Key creates the application afresh, once.
    assert retried.status_code == 202, retried.text
    assert "idempotent-replayed" not in retried.headers
    assert replayed.headers.get("idempotent-replayed") == "true"
    assert replayed.json()["application_id"] == retried.json()["application_id"]
    assert ready_again.status_code == 200
    connection = await asyncpg.connect(direct.service_url("intake", driver="postgresql"))
    try:
        applications = await connection.fetchval("SELECT count(*) FROM applications")
        keys = {row["key"] for row in await connection.fetch("SELECT key FROM idempotency_keys")}
    finally:
        await connection.close()
    assert applications == 2
    assert keys == {before, during}
