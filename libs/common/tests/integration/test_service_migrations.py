"""Every installed service's migrations (each registers its schema under the ``satupintu.schemas`` entry points):
the head revision creates exactly what the models describe, and a database holding data upgrades from the baseline
through every revision without losing any of it."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

from satupintu.common.migrations import SCHEMA_ENTRY_POINTS, ServiceSchema, registered_schema
from satupintu.common.settings import DatabaseSettings
from satupintu.devtools.testing.migrations import head_differences, upgrade_keeping_rows
from satupintu.devtools.testing.plugin import empty_database, service_database

pytestmark = pytest.mark.integration

SERVICES = sorted(entry_point.name for entry_point in entry_points(group=SCHEMA_ENTRY_POINTS))


def schema_of(service: str) -> ServiceSchema:
    schema = registered_schema(service)
    assert schema is not None, service
    return schema


def test_every_service_registers_its_schema() -> None:
    assert sorted(["agency", "audit", "intake", "mall", "notification", "payment", "routing"]) == SERVICES


@pytest.mark.parametrize("service", SERVICES)
async def test_autogenerate_finds_nothing_between_the_models_and_the_head_revision(
    database_settings: DatabaseSettings, service: str
) -> None:
    await service_database(database_settings, service)

    assert await head_differences(schema_of(service), database_settings) == []


@pytest.mark.parametrize("service", SERVICES)
async def test_a_database_with_rows_upgrades_from_the_baseline_through_every_revision_keeping_them(
    database_settings: DatabaseSettings, service: str
) -> None:
    database = database_settings.model_copy(update={"name_prefix": f"{database_settings.name_prefix}steps_"})
    await empty_database(database, service)
    schema = schema_of(service)

    revisions = await upgrade_keeping_rows(schema, database)

    assert revisions[0] == "0001"
    assert revisions[-1] in schema.scripts().get_heads()
