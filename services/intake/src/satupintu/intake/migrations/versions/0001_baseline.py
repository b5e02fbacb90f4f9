"""Baseline: intake's schema as the service created it at start-up before migrations existed: its tables,
outbox and inbox. ``satupintu-intake migrate`` adopts a database created that way: it stamps this
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
    """Create intake's tables, outbox and inbox."""
    create_inbox_and_outbox()
    op.create_table(
        "applications",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("tracking_code", sa.String(), nullable=False),
        sa.Column("service_code", sa.String(), nullable=False),
        sa.Column("catalogue_version", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("nik_hash", sa.String(), nullable=False),
        sa.Column("nik_ciphertext", sa.Text(), nullable=False),
        sa.Column("name_ciphertext", sa.Text(), nullable=False),
        sa.Column("email_ciphertext", sa.Text(), nullable=True),
        sa.Column("phone_ciphertext", sa.Text(), nullable=True),
        sa.Column("name_initials", sa.String(), nullable=False),
        sa.Column("nik_masked", sa.String(), nullable=False),
        sa.Column("language", sa.String(), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("personal_data_ciphertext", sa.Text(), nullable=True),
        sa.Column("documents", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("consent_reuse", sa.Boolean(), nullable=False),
        sa.Column("reused_fields", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("current_stage", sa.Integer(), nullable=True),
        sa.Column("stage_count", sa.Integer(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outputs", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("outcome_reason", sa.String(), nullable=True),
        sa.Column("sla_breached", sa.Boolean(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_applications_nik_hash"), "applications", ["nik_hash"], unique=False)
    op.create_index(op.f("ix_applications_service_code"), "applications", ["service_code"], unique=False)
    op.create_index(op.f("ix_applications_tracking_code"), "applications", ["tracking_code"], unique=True)
    op.create_table(
        "citizen_profiles",
        sa.Column("nik_hash", sa.String(), nullable=False),
        sa.Column("email_ciphertext", sa.Text(), nullable=True),
        sa.Column("phone_ciphertext", sa.Text(), nullable=True),
        sa.Column("language", sa.String(), nullable=False),
        sa.Column("fields_ciphertext", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nik_hash"),
    )
    op.create_table(
        "consents",
        sa.Column("nik_hash", sa.String(), nullable=False),
        sa.Column("agency", sa.String(), nullable=False),
        sa.Column("field", sa.String(), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nik_hash", "agency", "field"),
    )
    op.create_table(
        "documents",
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("media_type", sa.String(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("request_hash", sa.String(), nullable=False),
        sa.Column("application_id", sa.String(), nullable=False),
        sa.Column("response", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "one_time_codes",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("nik_hash", sa.String(), nullable=False),
        sa.Column("code_hash", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_one_time_codes_nik_hash"), "one_time_codes", ["nik_hash"], unique=False)
    op.create_table(
        "application_tasks",
        sa.Column("task_id", sa.String(), nullable=False),
        sa.Column("application_id", sa.String(), nullable=False),
        sa.Column("agency", sa.String(), nullable=False),
        sa.Column("stage_index", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("questions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("information_answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
        ),
        sa.PrimaryKeyConstraint("task_id"),
    )
    op.create_index(op.f("ix_application_tasks_application_id"), "application_tasks", ["application_id"], unique=False)
    op.create_table(
        "application_timeline",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.String(), nullable=False),
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("agency", sa.String(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index(
        op.f("ix_application_timeline_application_id"), "application_timeline", ["application_id"], unique=False
    )


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
