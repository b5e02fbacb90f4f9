"""The service refuses to start on an audit log written before the hash chain existed, saying what to do, rather
than extend a trail nobody can verify."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from satupintu.audit.storage.schema import LegacyLogError
from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.common.testing.plugin import service_database
from tests.conftest import running

from .conftest import start_audit

pytestmark = pytest.mark.integration


async def test_a_log_from_before_the_hash_chain_stops_the_start_with_instructions(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings
) -> None:
    database = database_settings.model_copy(update={"name_prefix": f"{database_settings.name_prefix}legacy_"})
    await service_database(database, "audit")
    engine = create_async_engine(database.service_url("audit"))
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "CREATE TABLE audit_log (seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                    "ce_id varchar UNIQUE NOT NULL, type varchar NOT NULL, payload jsonb NOT NULL)"
                )
            )
    finally:
        await engine.dispose()
    app, _ = await start_audit(kafka_settings, database)

    with pytest.raises(LegacyLogError, match=r"written before the hash chain .* drop the database"):
        async with running(app):
            pass
