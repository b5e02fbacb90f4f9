"""Baseline: mall's schema as the service created it at start-up before migrations existed: its tables,
outbox and inbox. ``satupintu-mall migrate`` adopts a database created that way: it stamps this
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
    """Create mall's tables, outbox and inbox."""
    create_inbox_and_outbox()
    op.create_table(
        "complaints",
        sa.Column("complaint_id", sa.String(), nullable=False),
        sa.Column("reference", sa.String(), nullable=False),
        sa.Column("agency", sa.String(), nullable=False),
        sa.Column("application_id", sa.String(), nullable=True),
        sa.Column("tracking_code", sa.String(), nullable=True),
        sa.Column("service_code", sa.String(), nullable=True),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("description_ciphertext", sa.Text(), nullable=False),
        sa.Column("contact_ciphertext", sa.Text(), nullable=True),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(), nullable=True),
        sa.Column("response_ciphertext", sa.Text(), nullable=True),
        sa.Column("sla_breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("complaint_id"),
    )
    op.create_index(op.f("ix_complaints_agency"), "complaints", ["agency"], unique=False)
    op.create_index(op.f("ix_complaints_due_at"), "complaints", ["due_at"], unique=False)
    op.create_index(op.f("ix_complaints_reference"), "complaints", ["reference"], unique=True)
    op.create_index(op.f("ix_complaints_state"), "complaints", ["state"], unique=False)
    op.create_table(
        "consent_ledgers",
        sa.Column("ledger_id", sa.String(), nullable=False),
        sa.Column("nik_hash", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ledger_id"),
    )
    op.create_index(op.f("ix_consent_ledgers_nik_hash"), "consent_ledgers", ["nik_hash"], unique=True)
    op.create_table(
        "daily_sequences",
        sa.Column("scope", sa.String(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "day"),
    )
    op.create_table(
        "mall_applications",
        sa.Column("application_id", sa.String(), nullable=False),
        sa.Column("tracking_code", sa.String(), nullable=False),
        sa.Column("service_code", sa.String(), nullable=False),
        sa.Column("agency", sa.String(), nullable=False),
        sa.Column("language", sa.String(), nullable=False),
        sa.Column("nik_hash", sa.String(), nullable=False),
        sa.Column("reused_fields", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("working_days_taken", sa.Integer(), nullable=True),
        sa.Column("sla_breached", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("application_id"),
    )
    op.create_index(op.f("ix_mall_applications_agency"), "mall_applications", ["agency"], unique=False)
    op.create_index(op.f("ix_mall_applications_nik_hash"), "mall_applications", ["nik_hash"], unique=False)
    op.create_index(op.f("ix_mall_applications_service_code"), "mall_applications", ["service_code"], unique=False)
    op.create_index(op.f("ix_mall_applications_state"), "mall_applications", ["state"], unique=False)
    op.create_index(op.f("ix_mall_applications_submitted_at"), "mall_applications", ["submitted_at"], unique=False)
    op.create_index(op.f("ix_mall_applications_tracking_code"), "mall_applications", ["tracking_code"], unique=True)
    op.create_table(
        "survey_invitations",
        sa.Column("application_id", sa.String(), nullable=False),
        sa.Column("token_hash", sa.String(), nullable=False),
        sa.Column("tracking_code", sa.String(), nullable=False),
        sa.Column("service_code", sa.String(), nullable=False),
        sa.Column("agency", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("language", sa.String(), nullable=False),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("application_id"),
    )
    op.create_index(op.f("ix_survey_invitations_token_hash"), "survey_invitations", ["token_hash"], unique=True)
    op.create_table(
        "survey_responses",
        sa.Column("application_id", sa.String(), nullable=False),
        sa.Column("service_code", sa.String(), nullable=False),
        sa.Column("agency", sa.String(), nullable=False),
        sa.Column("requirements", sa.Integer(), nullable=False),
        sa.Column("procedure", sa.Integer(), nullable=False),
        sa.Column("completion_time", sa.Integer(), nullable=False),
        sa.Column("cost", sa.Integer(), nullable=False),
        sa.Column("product", sa.Integer(), nullable=False),
        sa.Column("competence", sa.Integer(), nullable=False),
        sa.Column("behaviour", sa.Integer(), nullable=False),
        sa.Column("complaints_handling", sa.Integer(), nullable=False),
        sa.Column("facilities", sa.Integer(), nullable=False),
        sa.Column("suggestion_ciphertext", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("application_id"),
    )
    op.create_index(op.f("ix_survey_responses_agency"), "survey_responses", ["agency"], unique=False)
    op.create_index(op.f("ix_survey_responses_answered_at"), "survey_responses", ["answered_at"], unique=False)
    op.create_index(op.f("ix_survey_responses_service_code"), "survey_responses", ["service_code"], unique=False)
    op.create_table(
        "tickets",
        sa.Column("ticket_id", sa.String(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("service_code", sa.String(), nullable=False),
        sa.Column("agency", sa.String(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("counter", sa.String(), nullable=True),
        sa.Column("estimated_wait_minutes", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("called_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tracking_code", sa.String(), nullable=True),
        sa.Column("application_id", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("ticket_id"),
        sa.UniqueConstraint("day", "service_code", "sequence"),
    )
    op.create_index(op.f("ix_tickets_day"), "tickets", ["day"], unique=False)
    op.create_index(op.f("ix_tickets_service_code"), "tickets", ["service_code"], unique=False)
    op.create_index(op.f("ix_tickets_state"), "tickets", ["state"], unique=False)
    op.create_table(
        "consent_entries",
        sa.Column("ledger_id", sa.String(), nullable=False),
        sa.Column("agency", sa.String(), nullable=False),
        sa.Column("field", sa.String(), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ledger_id"],
            ["consent_ledgers.ledger_id"],
        ),
        sa.PrimaryKeyConstraint("ledger_id", "agency", "field"),
    )
    op.create_table(
        "consent_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ledger_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("agency", sa.String(), nullable=False),
        sa.Column("field", sa.String(), nullable=False),
        sa.Column("consented", sa.Boolean(), nullable=False),
        sa.Column("application_id", sa.String(), nullable=False),
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ledger_id"],
            ["consent_ledgers.ledger_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_consent_log_ledger_id"), "consent_log", ["ledger_id"], unique=False)


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
