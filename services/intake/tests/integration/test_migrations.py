"""What ``migrate`` and the start-up check do, with intake standing for every service: the service's role may only
read and write rows, the service refuses a database below head, and a database created at start-up before
migrations is adopted. (Every service's revisions against its models: libs/common's test_service_migrations.)"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from satupintu.common.database import create_engine
from satupintu.common.migrations import SchemaNotAtHead, check_at_head, migrate
from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.devtools.testing.apps import running
from satupintu.devtools.testing.migrations import head_differences
from satupintu.devtools.testing.plugin import empty_database, service_database
from satupintu.intake.config import IntakeSettings
from satupintu.intake.documents import DocumentRecord
from satupintu.intake.main import create_app
from satupintu.intake.migrations import SCHEMA
from satupintu.intake.storage.tables import (
    ApplicationRecord,
    CitizenProfile,
    ConsentRecord,
    IdempotencyRecord,
    OneTimeCodeRecord,
    TaskStatusRecord,
    TimelineEntry,
)

pytestmark = pytest.mark.integration

BASELINE_TABLES = [
    ApplicationRecord,
    IdempotencyRecord,
    DocumentRecord,
    TaskStatusRecord,
    TimelineEntry,
    CitizenProfile,
    OneTimeCodeRecord,
    ConsentRecord,
]
"""The tables intake created at start-up before migrations (revision 0001 has exactly these)."""


async def test_the_services_role_reads_and_writes_rows_but_cannot_create_alter_or_drop_tables(
    database_settings: DatabaseSettings,
) -> None:
    await service_database(database_settings, "intake")
    engine = create_engine(database_settings, "intake")  # DATABASE_URL: the role the service connects as
    refusals: dict[str, str] = {}
    try:
        for statement in (
            "CREATE TABLE stolen (payload text)",
            "DROP TABLE applications",
            "ALTER TABLE applications ADD COLUMN note text",
            "TRUNCATE outbox",
            "UPDATE alembic_version SET version_num = 'none'",
            "CREATE ROLE intruder LOGIN",
        ):
            with pytest.raises(DBAPIError) as refused:
                async with engine.begin() as connection:
                    await connection.execute(text(statement))
            refusals[statement] = str(refused.value.orig)
        async with engine.begin() as connection:
            await connection.execute(
                text("INSERT INTO inbox (consumer, event_id, event_type) VALUES ('probe', :id, 'probe')"),
                {"id": str(uuid.uuid4())},
            )
            deleted = await connection.execute(text("DELETE FROM inbox WHERE consumer = 'probe'"))
    finally:
        await engine.dispose()

    assert all("permission denied" in refusal or "must be owner" in refusal for refusal in refusals.values()), refusals
    assert deleted.rowcount == 1


async def test_the_service_refuses_to_start_on_a_database_that_was_never_migrated(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    database = database_settings.model_copy(update={"name_prefix": f"{database_settings.name_prefix}unmigrated_"})
    await empty_database(database, "intake")
    app = create_app(IntakeSettings(kafka=kafka_settings, database=database, documents_dir=tmp_path))

    with pytest.raises(SchemaNotAtHead, match=r"has no schema version: run `satupintu-intake migrate`"):
        async with running(app):
            pass


async def test_migrate_adopts_a_database_the_service_created_at_start_up_before_migrations(
    database_settings: DatabaseSettings,
) -> None:
    database = database_settings.model_copy(update={"name_prefix": f"{database_settings.name_prefix}adopted_"})
    await empty_database(database, "intake")
    owner = create_engine(database.owner(), "intake")
    try:
        # What start-up used to create is the baseline (decision 0013); the models have moved on since (0005).
        async with owner.begin() as connection:
            await connection.run_sync(lambda sync: command.upgrade(SCHEMA.alembic_config(sync), "0001"))
            await connection.execute(text("DROP TABLE alembic_version"))
        async with owner.begin() as connection:
            await connection.execute(
                text("INSERT INTO inbox (consumer, event_id, event_type) VALUES ('before', 'e1', 'probe')")
            )
    finally:
        await owner.dispose()

    done = await migrate(SCHEMA, database)

    assert any(line.startswith("adopted") for line in done), done
    service = create_engine(database, "intake")
    try:
        await check_at_head(service, SCHEMA)
        async with service.connect() as connection:
            kept = (await connection.execute(text("SELECT event_id FROM inbox WHERE consumer = 'before'"))).all()
    finally:
        await service.dispose()
    assert [event_id for (event_id,) in kept] == ["e1"]
    assert await head_differences(SCHEMA, database) == []
