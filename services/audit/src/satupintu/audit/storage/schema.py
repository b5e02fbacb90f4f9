"""Start-up DDL that makes the log append-only: its tables, a trigger refusing UPDATE, DELETE and TRUNCATE on them,
and the writer role that may only INSERT and SELECT them (the service appends and queries as that role).

Runs as the database owner (the configured ``DATABASE_URL`` user), once per start, under an advisory lock so
instances starting together do not race.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from satupintu.audit.storage.tables import LOG_TABLES
from satupintu.common.database import create_tables
from satupintu.common.inbox import InboxEntry
from satupintu.common.outbox import OutboxMessage

APPEND_ONLY_TABLES = ("audit_log", "audit_tree_nodes", "audit_checkpoints")
SCHEMA_LOCK_KEY = 0x5A7E_A0D1

_REFUSE_CHANGE = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit table % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING HINT = 'The audit trail only grows; nothing in it is ever changed or removed.';
END
$$
"""


class LegacyLogError(RuntimeError):
    """The database holds an audit log written before the hash chain existed; it cannot be verified."""


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


async def prepare_log(
    engine: AsyncEngine, database_name: str, writer_role: str | None, writer_password: str | None
) -> None:
    """Create audit's tables, make the log's tables append-only and, when ``writer_role`` is set, create that role
    (if missing) with only INSERT and SELECT on them."""
    await create_tables(engine, [OutboxMessage, InboxEntry, *LOG_TABLES])
    async with engine.begin() as connection:
        await connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK_KEY})")
        await _refuse_legacy_log(connection, database_name)
        await connection.exec_driver_sql(_REFUSE_CHANGE)
        for table in APPEND_ONLY_TABLES:
            await connection.exec_driver_sql(
                f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
            )
            await connection.exec_driver_sql(
                f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"
            )
        if writer_role:
            await _grant_writer(connection, database_name, writer_role, writer_password)


async def _refuse_legacy_log(connection: AsyncConnection, database_name: str) -> None:
    result = await connection.exec_driver_sql(
        "SELECT count(*) FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = 'audit_log' AND column_name = 'entry_hash'"
    )
    if result.scalar_one() == 0:
        raise LegacyLogError(
            f"audit_log in database {database_name} was written before the hash chain and cannot be verified; "
            f"keep a copy if it matters, then drop the database ({database_name}) so the service starts a new trail"
        )


async def _grant_writer(connection: AsyncConnection, database_name: str, role: str, password: str | None) -> None:
    login = f"LOGIN PASSWORD {_literal(password)}" if password else "LOGIN"
    # Created only when missing (two databases on one server share the role); a concurrent creation is fine.
    await connection.exec_driver_sql(
        "DO $$ BEGIN "
        f"IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {_literal(role)}) THEN "
        f"CREATE ROLE {_identifier(role)} {login} NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT; "
        "END IF; "
        "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; "
        "END $$"
    )
    quoted = _identifier(role)
    tables = ", ".join(APPEND_ONLY_TABLES)
    for statement in (
        f"GRANT CONNECT ON DATABASE {_identifier(database_name)} TO {quoted}",
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"REVOKE ALL ON {tables} FROM {quoted}",
        f"GRANT SELECT, INSERT ON {tables} TO {quoted}",
        # Queries are recorded as access.recorded events through the outbox, in the query's transaction.
        f"REVOKE ALL ON outbox FROM {quoted}",
        f"GRANT SELECT, INSERT ON outbox TO {quoted}",
    ):
        await connection.exec_driver_sql(statement)
