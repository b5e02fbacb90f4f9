"""What makes audit's log append-only besides its tables (the baseline revision creates it: a trigger refusing
UPDATE, DELETE and TRUNCATE on each log table; ``migrate`` leaves the service's role only INSERT and SELECT on them),
and the refusal to adopt a log written before the hash chain existed.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from satupintu.common.migrations import MigrationRefused

APPEND_ONLY_TABLES = ("audit_log", "audit_tree_nodes", "audit_checkpoints")


class LegacyLogError(MigrationRefused):
    """The database holds an audit log written before the hash chain existed; it cannot be verified."""


def refuse_legacy_log(connection: Connection) -> None:
    """Raise :class:`LegacyLogError` when the database's ``audit_log`` has no hash chain (``entry_hash``)."""
    database, chained = connection.exec_driver_sql(
        "SELECT current_database(), count(*) FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = 'audit_log' AND column_name = 'entry_hash'"
    ).one()
    has_log = connection.exec_driver_sql("SELECT to_regclass('audit_log') IS NOT NULL").scalar_one()
    if has_log and chained == 0:
        raise LegacyLogError(
            f"audit_log in database {database} was written before the hash chain and cannot be verified; "
            f"keep a copy if it matters, then drop the database ({database}) so the service starts a new trail"
        )
