"""Baseline: agency's schema as the service created it at start-up before migrations existed: its tables,
outbox and inbox. ``satupintu-agency migrate`` adopts a database created that way: it stamps this
revision once the tables are found to match.
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


def upgrade() -> None:
    """Create agency's tables, outbox and inbox."""
    create_inbox_and_outbox()
    op.create_table(
        "desk_tasks",
        sa.Column("task_id", sa.String(), nullable=False),
        sa.Column("application_id", sa.String(), nullable=False),
        sa.Column("agency", sa.String(), nullable=False),
        sa.Column("service_code", sa.String(), nullable=False),
        sa.Column("stage_index", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("assignment_id", sa.String(), nullable=False),
        sa.Column("correlation_id", sa.String(), nullable=True),
        sa.Column("traceparent", sa.String(), nullable=True),
        sa.Column("personal_data", sa.Text(), nullable=False),
        sa.Column("documents", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("previous_outputs", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sla_breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision", sa.String(), nullable=True),
        sa.Column("decided_by", sa.String(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_reason", sa.String(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("task_id"),
    )
    op.create_index(
        "desk_tasks_documents",
        "desk_tasks",
        ["documents"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"documents": "jsonb_path_ops"},
    )
    op.create_index("desk_tasks_open_by_agency", "desk_tasks", ["agency", "state", "due_at"], unique=False)
    op.create_index(op.f("ix_desk_tasks_application_id"), "desk_tasks", ["application_id"], unique=False)
    op.create_table(
        "officers",
        sa.Column("username", sa.String(), nullable=False),
        sa.Column("agency", sa.String(), nullable=False),
        sa.Column("display_name", sa.String(), nullable=False),
        sa.Column("password_hash", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("username"),
    )
    op.create_index(op.f("ix_officers_agency"), "officers", ["agency"], unique=False)


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
