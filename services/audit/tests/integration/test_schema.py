"""``satupintu-audit migrate`` refuses to adopt an audit log written before the hash chain existed, saying what to do,
rather than extend a trail nobody can verify; the service itself never starts on a database that is not at head."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from satupintu.audit.migrations import SCHEMA
from satupintu.audit.storage.schema import LegacyLogError
from satupintu.common.migrations import migrate
from satupintu.common.settings import DatabaseSettings
from satupintu.devtools.testing.plugin import empty_database

pytestmark = pytest.mark.integration


async def test_a_log_from_before_the_hash_chain_stops_the_migration_with_instructions(
    database_settings: DatabaseSettings,
) -> None:
    database = database_settings.model_copy(update={"name_prefix": f"{database_settings.name_prefix}legacy_"})
    await empty_database(database, "audit")
    engine = create_async_engine(database.owner().service_url("audit"))
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

    with pytest.raises(LegacyLogError, match=r"written before the hash chain .* drop the database"):
        await migrate(SCHEMA, database)
