"""Baseline: audit's schema as the service created it at start-up before migrations existed: its tables, outbox
and inbox, and the trigger that refuses UPDATE, DELETE and TRUNCATE on the log's tables. ``satupintu-audit migrate``
adopts a database created that way: it stamps this revision once the tables are found to match.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from satupintu.common.migration_steps import create_inbox_and_outbox

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APPEND_ONLY_TABLES = ("audit_log", "audit_tree_nodes", "audit_checkpoints")
"""As of this revision (the service's role gets only INSERT and SELECT on them from ``migrate``)."""


def upgrade() -> None:
    """Create audit's tables, outbox and inbox, and make the log's tables append-only."""
    create_inbox_and_outbox()
    op.create_table(
        "audit_checkpoints",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.String(), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("tree_size"),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("ce_id", sa.String(), nullable=False),
        sa.Column("topic", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("agency", sa.String(), nullable=True),
        sa.Column("application_id", sa.String(), nullable=True),
        sa.Column("subject", sa.String(), nullable=True),
        sa.Column("correlation_id", sa.String(), nullable=True),
        sa.Column("causation_id", sa.String(), nullable=True),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("personal_hashes", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("prev_hash", sa.String(), nullable=False),
        sa.Column("entry_hash", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("ce_id"),
    )
    op.create_index(op.f("ix_audit_log_actor"), "audit_log", ["actor"], unique=False)
    op.create_index(op.f("ix_audit_log_agency"), "audit_log", ["agency"], unique=False)
    op.create_index(op.f("ix_audit_log_application_id"), "audit_log", ["application_id"], unique=False)
    op.create_index(
        "ix_audit_log_personal_hashes", "audit_log", ["personal_hashes"], unique=False, postgresql_using="gin"
    )
    op.create_index(op.f("ix_audit_log_subject"), "audit_log", ["subject"], unique=False)
    op.create_index(op.f("ix_audit_log_time"), "audit_log", ["time"], unique=False)
    op.create_index(op.f("ix_audit_log_topic"), "audit_log", ["topic"], unique=False)
    op.create_index(op.f("ix_audit_log_type"), "audit_log", ["type"], unique=False)
    op.create_table(
        "audit_tree_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("position", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("level", "position"),
    )
    op.execute(
        """
        CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit table % is append-only: % refused', TG_TABLE_NAME, TG_OP
                USING HINT = 'The audit trail only grows; nothing in it is ever changed or removed.';
        END
        $$
        """
    )
    for table in APPEND_ONLY_TABLES:
        op.execute(
            f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
        )
        op.execute(
            f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"
        )


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
