"""Checks every service's migration tests make (``tests/integration/test_migrations.py``): the models and the head
revision agree, and a database holding data upgrades from the baseline through every revision without losing it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import (
    ARRAY,
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from satupintu.common.migrations import VERSION_TABLE, ServiceSchema
from satupintu.common.settings import DatabaseSettings

T = TypeVar("T")
Row = dict[str, Any]


async def _as_owner(database: DatabaseSettings, schema: ServiceSchema, work: Callable[[Connection], T]) -> T:
    engine = create_async_engine(database.owner().service_url(schema.service), poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            return await connection.run_sync(work)
    finally:
        await engine.dispose()


async def head_differences(schema: ServiceSchema, database: DatabaseSettings) -> list[Any]:
    """What autogenerate finds between the service's models and its database (migrated to head): nothing when they
    agree, else the operations a new revision would need."""

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": True})
        return list(compare_metadata(context, schema.metadata()))

    return await _as_owner(database, schema, compare)


async def upgrade_keeping_rows(schema: ServiceSchema, database: DatabaseSettings) -> list[str]:
    """On an empty database: upgrade to the baseline, put a representative row into every table, then upgrade one
    revision at a time to head, checking after each that every row is still there with the values of the columns
    that still exist (a table a revision creates gets its row then), but for the tables a revision drops on purpose
    and says so (its module's ``dropped_tables``). Returns the revisions passed, oldest first; a lost row or value
    fails with what was lost."""
    scripts = schema.scripts()
    revisions = [script.revision for script in reversed(list(scripts.walk_revisions()))]
    dropped = {
        revision: frozenset(getattr(scripts.get_revision(revision).module, "dropped_tables", ()))
        for revision in revisions
    }

    def upgrade_step_by_step(connection: Connection) -> list[str]:
        command.upgrade(schema.alembic_config(connection), revisions[0])
        rows = _insert_representative_rows(connection)
        for revision in revisions[1:]:
            command.upgrade(schema.alembic_config(connection), revision)
            rows = {name: row for name, row in rows.items() if name not in dropped[revision]}
            _assert_rows_kept(connection, rows, revision)
            rows |= _insert_representative_rows(connection, besides=rows)
        not_created = set(schema.metadata().tables) - set(rows)
        assert not not_created, f"no revision creates tables the models have: {sorted(not_created)}"
        _assert_rows_kept(connection, rows, revisions[-1])
        return revisions

    return await _as_owner(database, schema, upgrade_step_by_step)


def _tables(connection: Connection) -> list[Table]:
    metadata = MetaData()
    metadata.reflect(connection)
    return [table for table in metadata.sorted_tables if table.name != VERSION_TABLE]


def _insert_representative_rows(connection: Connection, besides: dict[str, Row] | None = None) -> dict[str, Row]:
    """One row per table not in ``besides`` (parents first: a foreign key finds the parent's row, whose key has the
    same value)."""
    rows: dict[str, Row] = {}
    for table in _tables(connection):
        if besides and table.name in besides:
            continue
        row = {column.name: _value(column) for column in table.columns if _needs_value(column)}
        connection.execute(table.insert().values(**row))
        rows[table.name] = row
    return rows


def _needs_value(column: Column[Any]) -> bool:
    return column.identity is None and column.server_default is None


def _value(column: Column[Any]) -> object:
    kind = column.type
    values: list[tuple[type[Any], object]] = [
        (ARRAY, ["kept"]),
        (JSON, {"kept": [1, "two"]}),
        (LargeBinary, b"kept"),
        (Boolean, True),
        (DateTime, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC if getattr(kind, "timezone", False) else None)),
        (Date, date(2026, 1, 2)),
        (Integer, 7),
        (Numeric, Decimal(7)),
        (String, "kept"),
    ]
    for type_, value in values:
        if isinstance(kind, type_):
            return value
    raise AssertionError(f"no representative value for {column.table.name}.{column.name} ({kind!r}): add one")


def _assert_rows_kept(connection: Connection, rows: dict[str, Row], revision: str) -> None:
    tables = {table.name: table for table in _tables(connection)}
    for name, row in rows.items():
        table = tables.get(name)
        assert table is not None, f"table {name} is gone after revision {revision}, with its row"
        stored = [dict(found._mapping) for found in connection.execute(select(table))]
        assert len(stored) == 1, f"{name} holds {len(stored)} rows after revision {revision}, not the 1 put in"
        kept = {column: value for column, value in row.items() if column in table.columns}
        changed = {column: stored[0][column] for column, value in kept.items() if stored[0][column] != value}
        assert not changed, f"{name} lost values after revision {revision}: {changed} instead of {kept}"
