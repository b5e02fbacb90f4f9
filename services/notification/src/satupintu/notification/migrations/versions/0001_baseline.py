"""Baseline: notification's schema as the service created it at start-up before migrations existed: its tables,
outbox and inbox. ``satupintu-notification migrate`` adopts a database created that way: it stamps this
revision once the tables are found to match.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from satupintu.common.migration_steps import create_inbox_and_outbox

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create notification's tables, outbox and inbox."""
    create_inbox_and_outbox()
    op.create_table(
        "contacts",
        sa.Column("application_id", sa.String(), nullable=False),
        sa.Column("language", sa.String(), nullable=False),
        sa.Column("details_ciphertext", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("application_id"),
    )
    op.create_table(
        "deliveries",
        sa.Column("cause_event_id", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("message_id", sa.String(), nullable=False),
        sa.Column("application_id", sa.String(), nullable=False),
        sa.Column("template", sa.String(), nullable=False),
        sa.Column("language", sa.String(), nullable=False),
        sa.Column("recipient_ciphertext", sa.Text(), nullable=False),
        sa.Column("recipient_masked", sa.String(), nullable=False),
        sa.Column("content_ciphertext", sa.Text(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("correlation_id", sa.String(), nullable=True),
        sa.Column("traceparent", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("cause_event_id", "channel"),
        sa.UniqueConstraint("message_id"),
    )
    op.create_index(op.f("ix_deliveries_application_id"), "deliveries", ["application_id"], unique=False)
    op.create_index("ix_deliveries_due", "deliveries", ["kind", "status", "next_attempt_at"], unique=False)
    op.create_table(
        "delivery_attempts",
        sa.Column("message_id", sa.String(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("detail", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("message_id", "number"),
    )


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
