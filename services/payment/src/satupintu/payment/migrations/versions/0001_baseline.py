"""Baseline: payment's bills, its outbox, inbox and parked events, and operators' sign-in to the dead-letter page.

Revision 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from satupintu.common.migration_steps import create_inbox_and_outbox, create_parked_events, create_sign_in_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create payment's tables."""
    create_inbox_and_outbox()
    create_parked_events()
    create_sign_in_tables()
    op.create_table(
        "payment_bills",
        sa.Column("bill_id", sa.String(), nullable=False),
        sa.Column("application_id", sa.String(), nullable=False),
        sa.Column("service_code", sa.String(), nullable=False),
        sa.Column("agency", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("billing_code", sa.String(), nullable=False),
        sa.Column("qris_payload", sa.Text(), nullable=False),
        sa.Column("pay_before_stage", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("billed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("channel", sa.String(), nullable=True),
        sa.Column("reference", sa.String(), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("correlation_id", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("bill_id"),
        sa.UniqueConstraint("application_id", "service_code", name="uq_payment_bills_application_service"),
        sa.UniqueConstraint("billing_code", name="uq_payment_bills_billing_code"),
    )
    op.create_index(op.f("ix_payment_bills_application_id"), "payment_bills", ["application_id"], unique=False)
    op.create_index("ix_payment_bills_open_expiry", "payment_bills", ["status", "expires_at"], unique=False)


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
