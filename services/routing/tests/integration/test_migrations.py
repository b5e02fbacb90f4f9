"""Routing's migrations: the head revision creates exactly what the models describe, and a database holding data
upgrades from the baseline through every revision without losing any of it."""

from __future__ import annotations

import pytest

from satupintu.common.settings import DatabaseSettings
from satupintu.common.testing.migrations import head_differences, upgrade_keeping_rows
from satupintu.common.testing.plugin import empty_database, service_database
from satupintu.routing.migrations import SCHEMA

pytestmark = pytest.mark.integration


async def test_autogenerate_finds_nothing_between_the_models_and_the_head_revision(
    database_settings: DatabaseSettings,
) -> None:
    await service_database(database_settings, "routing")

    assert await head_differences(SCHEMA, database_settings) == []


async def test_a_database_with_rows_upgrades_from_the_baseline_through_every_revision_keeping_them(
    database_settings: DatabaseSettings,
) -> None:
    database = database_settings.model_copy(update={"name_prefix": f"{database_settings.name_prefix}steps_"})
    await empty_database(database, "routing")

    revisions = await upgrade_keeping_rows(SCHEMA, database)

    assert revisions[0] == "0001"
    assert revisions[-1] in SCHEMA.scripts().get_heads()
