"""The audit service running on the session's real broker and database, with tokens to call it and helpers to read
its log (as the service's role) and to work around it (as the database owner, a superuser in tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from satupintu.audit.config import AuditSettings
from satupintu.audit.main import create_app
from satupintu.common.auth import Role, TokenIssuer, load_or_create_local_keys
from satupintu.common.settings import AuthSettings, DatabaseSettings, KafkaSettings
from satupintu.contract.envelope import from_record
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.kafka import read_to_end
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.waiting import eventually
from tests.conftest import running


@dataclass
class RunningAudit:
    """A running audit service and what a test needs around it."""

    app: FastAPI
    client: httpx.AsyncClient
    settings: AuditSettings

    @property
    def kafka(self) -> KafkaSettings:
        return self.settings.kafka

    @property
    def service(self) -> AsyncEngine:
        """The service's own engine: the role it works as, which may only INSERT and SELECT the log."""
        engine: AsyncEngine = self.app.state.runtime.engine
        return engine

    def writer(self) -> AsyncEngine:
        """A new engine connected as the role the service works as (its writer), as another instance would be;
        dispose of it after use."""
        return create_async_engine(self.settings.database.service_url("audit"))

    def owner(self) -> AsyncEngine:
        """A new engine connected as the database owner (a superuser here); dispose of it after use."""
        return create_async_engine(self.settings.database.owner().service_url("audit"))

    def token(self, *roles: Role, subject: str = "andi", agency: str | None = None) -> str:
        private_pem, _ = load_or_create_local_keys(self.settings.auth.keys_dir)
        return TokenIssuer(AuthSettings(), private_key_pem=private_pem).issue(subject, set(roles), agency)

    def auditor(self, subject: str = "andi") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(Role.AUDITOR, subject=subject)}"}

    async def rows(self, where: str, **parameters: Any) -> list[Any]:
        """Log rows matching a SQL condition, in log order."""
        async with self.service.connect() as connection:
            query = f"SELECT * FROM audit_log WHERE {where} ORDER BY seq"  # noqa: S608 (conditions written by tests)
            result = await connection.execute(text(query), parameters)
            return list(result)

    async def wait_for_rows(self, where: str, count: int = 1, **parameters: Any) -> list[Any]:
        """Poll until at least ``count`` rows match."""
        return await eventually(
            lambda: self.rows(where, **parameters), lambda rows: len(rows) >= count, what=f"{count} rows: {where}"
        )


async def access_records(audit: RunningAudit, resource_prefix: str) -> list[dict[str, str | None]]:
    """``access.recorded`` events on the access topic whose resource starts with ``resource_prefix``."""
    records = await read_to_end(audit.kafka.bootstrap_servers, audit.kafka.topic_name(Topic.ACCESS.name_for()))
    found = []
    for record in records:
        event = from_record(record.headers, record.value, record.key)
        payload = event.payload.model_dump(mode="json")
        if payload["resource"].startswith(resource_prefix):
            found.append({**payload, "ce_id": event.id, "key": record.key.decode() if record.key else None})
    return found


async def start_audit(
    kafka: KafkaSettings, database: DatabaseSettings, **overrides: Any
) -> tuple[FastAPI, AuditSettings]:
    """An audit app on ``kafka`` and ``database`` (its database created for the session)."""
    await service_database(database, "audit")
    settings = AuditSettings(kafka=kafka, database=database, **overrides)
    return create_app(settings), settings


@pytest.fixture(scope="module")
async def audit(kafka_settings: KafkaSettings, database_settings: DatabaseSettings) -> AsyncIterator[RunningAudit]:
    """The audit service on the session's topics and audit database, taking checkpoints every half second."""
    app, settings = await start_audit(kafka_settings, database_settings, checkpoint_interval_seconds=0.5)
    async with running(app) as client:
        yield RunningAudit(app, client, settings)
