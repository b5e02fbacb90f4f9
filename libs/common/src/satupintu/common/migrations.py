"""Schema migrations with Alembic: one migration environment per service (``satupintu/<service>/migrations/``, shipped
in its package), ``satupintu-<service> migrate`` that upgrades the service's database to head as the database owner
and leaves the service's own role only rows to read and write, and the check a service makes at start that its
database is at head (docs/decisions/0013-alembic-migrations.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Literal

from alembic import command, context
from alembic.autogenerate import compare_metadata
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import BLANK_SCHEMA, MetaData, inspect, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from satupintu.common.citizen_keys import ReaderKeyRecord
from satupintu.common.database import ensure_database
from satupintu.common.inbox import InboxEntry
from satupintu.common.limits import LimitCounter
from satupintu.common.oidc.sessions import SIGN_IN_TABLES
from satupintu.common.outbox import OutboxMessage
from satupintu.common.parking import ParkedEvent
from satupintu.common.settings import DatabaseSettings

COMMON_TABLES: tuple[type[SQLModel], ...] = (OutboxMessage, InboxEntry, ParkedEvent)
"""Every service's tables of the consumer and outbox plumbing."""
SCHEMA_ENTRY_POINTS = "satupintu.schemas"
"""The entry-point group where each service names its :class:`ServiceSchema` (test fixtures and tools find it)."""
MIGRATE_LOCK_KEY = 0x5A7E_A1E3  # one migrate per database at a time
VERSION_TABLE = "alembic_version"
_logger = logging.getLogger(__name__)


class SchemaNotAtHead(RuntimeError):
    """The service's database is not at the revision its code needs; the message says which command fixes it."""


class MigrationRefused(RuntimeError):
    """``migrate`` will not touch this database; the message says why and what to do."""


class UnknownDatabase(MigrationRefused):
    """A database that holds the service's tables without a migration history differs from the baseline."""


class PowerfulServiceRole(MigrationRefused):
    """The role the service connects as may do more than read and write rows."""


@dataclass(frozen=True)
class ServiceSchema:
    """What a service's database holds, for its migration environment, its ``migrate`` and its start-up check."""

    service: str
    """The service's name: its database is ``<prefix><service>``, its command ``satupintu-<service>``."""
    tables: Sequence[type[SQLModel]]
    """The service's own tables; ``outbox``, ``inbox`` and ``parked_events`` are every service's and added here."""
    append_only: Sequence[str] = ()
    """Tables the service's role may only INSERT into and SELECT from (audit's log)."""
    reader_keys: bool = False
    """Whether the service reads citizens' keys (``satupintu.common.citizen_keys``): its database then has the
    common ``reader_keys`` table, which a revision of the service's own creates."""
    limits: bool = False
    """Whether the service keeps limits its replicas share (``satupintu.common.limits``): its database then has the
    common ``limit_counters`` table, which a revision of the service's own after the baseline creates."""
    sign_in: bool = False
    """Whether people sign in to the service's pages through the OpenID Connect provider
    (``satupintu.common.oidc``): its database then has ``sign_in_attempts`` and ``sign_in_sessions``, which a
    revision of the service's own creates."""
    check_existing: Callable[[Connection], None] | None = field(default=None, compare=False)
    """Raises when a database created before migrations cannot be adopted (audit: a log from before the chain)."""

    @property
    def script_location(self) -> str:
        """Where the migration scripts are, as a package resource (works from a wheel as from the source tree)."""
        return f"satupintu.{self.service}:migrations"

    def metadata(self) -> MetaData:
        """The service's tables alone (a process may import several services' models into SQLModel's metadata):
        what autogenerate compares the database with."""
        optional: list[type[SQLModel]] = [LimitCounter] if self.limits else []
        if self.reader_keys:
            optional.append(ReaderKeyRecord)
        if self.sign_in:
            optional += SIGN_IN_TABLES
        return _metadata_of([*COMMON_TABLES, *self.tables, *optional])

    def alembic_config(self, connection: Connection | None = None) -> Config:
        """Alembic's configuration of this environment; with ``connection``, env.py migrates over it."""
        config = Config()
        config.set_main_option("script_location", self.script_location)
        config.attributes["schema"] = self
        if connection is not None:
            config.attributes["connection"] = connection
        return config

    def scripts(self) -> ScriptDirectory:
        """The environment's revisions."""
        return ScriptDirectory.from_config(self.alembic_config())


def _metadata_of(models: Sequence[type[SQLModel]]) -> MetaData:
    metadata = MetaData()
    for model in models:
        model.__table__.to_metadata(metadata)  # type: ignore[attr-defined]
    return metadata


def registered_schema(service: str) -> ServiceSchema | None:
    """The schema ``service`` registers under the ``satupintu.schemas`` entry points, if it is installed."""
    for entry_point in entry_points(group=SCHEMA_ENTRY_POINTS, name=service):
        schema = entry_point.load()
        if not isinstance(schema, ServiceSchema):
            raise TypeError(f"entry point {entry_point.value} is not a ServiceSchema")
        return schema
    return None


# -- env.py -------------------------------------------------------------------------------------------------------


def run_environment(schema: ServiceSchema) -> None:
    """The body of every service's env.py: migrate over the connection ``migrate`` passes in, or (for the
    ``alembic`` command: ``alembic -n <service> revision --autogenerate``) over a connection of its own to the
    service's database as its owner (``DATABASE_OWNER_URL``, else ``DATABASE_URL``)."""
    config = context.config
    metadata = schema.metadata()
    connection: Connection | None = config.attributes.get("connection")
    if connection is not None:
        _run_over(connection, metadata)
        return
    url = config.get_main_option("sqlalchemy.url") or DatabaseSettings().owner().service_url(schema.service)
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True, render_item=_render_item)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_online(url, metadata))


def _run_over(connection: Connection, metadata: MetaData) -> None:
    context.configure(
        connection=connection, target_metadata=metadata, compare_server_default=True, render_item=_render_item
    )
    with context.begin_transaction():
        context.run_migrations()


def _render_item(kind: str, item: Any, _context: AutogenContext) -> str | Literal[False]:
    """Revisions spell SQLModel's string type as SQLAlchemy's (they need not import sqlmodel)."""
    if kind == "type" and isinstance(item, AutoString):
        return f"sa.String(length={item.length})" if item.length else "sa.String()"
    return False


async def _run_online(url: str, metadata: MetaData) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run_over, metadata)
    finally:
        await engine.dispose()


# -- migrate ------------------------------------------------------------------------------------------------------


async def migrate(schema: ServiceSchema, database: DatabaseSettings) -> list[str]:
    """Bring ``schema.service``'s database to head as its owner, then give the role the service connects as (the
    user of ``database.url``) only rows: SELECT, INSERT, UPDATE, DELETE on its tables (SELECT and INSERT on the
    append-only ones), USAGE on its sequences, SELECT on the version table. Creates the database and the role when
    missing; sets the role's password to the one in ``database.url``. One transaction: a failure changes nothing.
    Returns what was done, a line each."""
    owner = database.owner()
    name = database.database_name(schema.service)
    done: list[str] = []
    if await ensure_database(owner.server_url(), name):
        done.append(f"created database {name}")
    engine = create_async_engine(owner.service_url(schema.service), poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATE_LOCK_KEY})
            done += await connection.run_sync(_upgrade, schema, name)
            done += await connection.run_sync(_grant_rows, schema, name, make_url(database.url))
    finally:
        await engine.dispose()
    return done


def _upgrade(connection: Connection, schema: ServiceSchema, database_name: str) -> list[str]:
    done: list[str] = []
    context_before = MigrationContext.configure(connection)
    before = context_before.get_current_heads()
    existing = set(inspect(connection).get_table_names())
    if not before and existing & set(schema.metadata().tables):
        _adopt(connection, schema, database_name)
        command.stamp(schema.alembic_config(connection), _baseline(schema))
        done.append(f"adopted {database_name}: its tables match the baseline, stamped it")
        before = context_before.get_current_heads()
    command.upgrade(schema.alembic_config(connection), "head")
    after = MigrationContext.configure(connection).get_current_heads()
    if after != before:
        done.append(f"upgraded {database_name} from {', '.join(before) or 'nothing'} to {', '.join(after)}")
    else:
        done.append(f"{database_name} is at head ({', '.join(after)})")
    return done


def _baseline(schema: ServiceSchema) -> str:
    scripts = schema.scripts()
    [baseline] = scripts.get_bases()
    return baseline


def _adopt(connection: Connection, schema: ServiceSchema, database_name: str) -> None:
    """A database created at start-up before migrations existed holds exactly the baseline; make sure of that."""
    if schema.check_existing is not None:
        schema.check_existing(connection)
    differences = compare_metadata(MigrationContext.configure(connection), _baseline_metadata(connection, schema))
    if differences:
        listed = "\n  ".join(repr(difference) for difference in differences)
        raise UnknownDatabase(
            f"database {database_name} holds {schema.service}'s tables but no migration history, and they differ "
            f"from what this code expects:\n  {listed}\nBring it to the baseline by hand (or restore it into a new "
            f"database), then run `satupintu-{schema.service} migrate` again."
        )


def _baseline_metadata(connection: Connection, schema: ServiceSchema) -> MetaData:
    """The tables of the baseline revision, as the baseline creates them: built in a schema of their own inside a
    savepoint that is rolled back (later revisions may have added tables and columns the models now have)."""
    scratch = "satupintu_baseline"
    baseline = MetaData()
    savepoint = connection.begin_nested()
    try:
        connection.exec_driver_sql(f"CREATE SCHEMA {scratch}")
        connection.exec_driver_sql(f"SET LOCAL search_path TO {scratch}")
        command.upgrade(schema.alembic_config(connection), _baseline(schema))
        reflected = MetaData()
        reflected.reflect(connection, schema=scratch)
        for table in reflected.tables.values():
            if table.name != VERSION_TABLE:
                # schema None: the tables without one (SQLAlchemy accepts it; its annotations do not say so)
                table.to_metadata(baseline, schema=None, referred_schema_fn=_no_schema)  # type: ignore[arg-type]
    finally:
        savepoint.rollback()
        connection.exec_driver_sql("SET LOCAL search_path TO DEFAULT")
    return baseline


def _no_schema(*_: object) -> Any:
    return BLANK_SCHEMA


def quote_identifier(name: str) -> str:
    """``name`` as a PostgreSQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """``value`` as a PostgreSQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def ensure_role(connection: Connection, role: str, password: str | None) -> None:
    """Create login role ``role`` unless it exists (concurrent creations are fine), and set its password."""
    login = f"LOGIN PASSWORD {quote_literal(password)}" if password else "LOGIN"
    connection.exec_driver_sql(
        "DO $$ BEGIN "
        f"IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {quote_literal(role)}) THEN "
        f"CREATE ROLE {quote_identifier(role)} {login} NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT; "
        "END IF; "
        "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; "
        "END $$"
    )
    if password:
        connection.exec_driver_sql(f"ALTER ROLE {quote_identifier(role)} WITH LOGIN PASSWORD {quote_literal(password)}")


def _grant_rows(connection: Connection, schema: ServiceSchema, database_name: str, url: URL) -> list[str]:
    role, password = url.username, url.password
    owner = connection.exec_driver_sql("SELECT current_user").scalar_one()
    if not role or role == owner:
        _logger.warning("%s connects as the owner %s: no role with only rows to grant", schema.service, owner)
        return [f"{schema.service} connects as the database owner {owner}: set DATABASE_OWNER_URL apart"]
    ensure_role(connection, role, password)
    powers = connection.execute(
        text("SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls FROM pg_roles WHERE rolname = :role"),
        {"role": role},
    ).scalar_one()
    if powers:
        raise PowerfulServiceRole(
            f"role {role} (DATABASE_URL) is a superuser or may create roles or databases or bypass row security; "
            f"a service must connect as a role that may only read and write rows: "
            f"ALTER ROLE {role} NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS"
        )
    quoted = quote_identifier(role)
    tables = ", ".join(quote_identifier(table) for table in schema.append_only)
    statements = [
        f"GRANT CONNECT ON DATABASE {quote_identifier(database_name)} TO {quoted}",
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        f"REVOKE INSERT, UPDATE, DELETE ON {VERSION_TABLE} FROM {quoted}",
    ]
    if tables:
        statements.append(f"REVOKE UPDATE, DELETE ON {tables} FROM {quoted}")
    for statement in statements:
        connection.exec_driver_sql(statement)
    may_create = connection.execute(
        text("SELECT has_schema_privilege(:role, 'public', 'CREATE')"), {"role": role}
    ).scalar_one()
    if may_create:  # PostgreSQL before 15 lets everybody create tables in public
        connection.exec_driver_sql("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    return [f"{role} may read and write rows of {database_name} (append-only: {tables or 'none'})"]


# -- start-up check -----------------------------------------------------------------------------------------------


async def check_at_head(engine: AsyncEngine, schema: ServiceSchema) -> None:
    """Refuse to run on a database below the code's head (or never migrated); a database at a revision this code
    does not know was migrated by a newer release, which expand-only migrations keep this code working on."""
    scripts = schema.scripts()
    heads = set(scripts.get_heads())
    async with engine.connect() as connection:
        current = set(await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_heads()))
        database = (await connection.execute(text("SELECT current_database()"))).scalar_one()
    if current == heads:
        return
    fix = (
        f"run `satupintu-{schema.service} migrate` (as the database owner: DATABASE_OWNER_URL) before starting "
        f"the service"
    )
    if not current:
        raise SchemaNotAtHead(f"database {database} has no schema version: {fix}")
    unknown = sorted(revision for revision in current if not _known(scripts, revision))
    if unknown:
        _logger.warning(
            "database %s is at revision %s, newer than this code's head %s; running on it (migrations only expand "
            "while the previous release runs)",
            database,
            ", ".join(unknown),
            ", ".join(sorted(heads)),
        )
        return
    raise SchemaNotAtHead(
        f"database {database} is at revision {', '.join(sorted(current))}, this code needs "
        f"{', '.join(sorted(heads))}: {fix}"
    )


def _known(scripts: ScriptDirectory, revision: str) -> bool:
    try:
        return scripts.get_revision(revision) is not None
    except CommandError:
        return False
