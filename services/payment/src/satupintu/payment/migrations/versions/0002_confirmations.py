"""Confirmations of payments: every verified gateway callback and counter payment, with its outcome, once per
channel, source and reference (what makes a repeated callback or receipt the same confirmation).

Revision 0002.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``payment_confirmations`` and the indexes reconciliation reads."""
    op.create_table(
        "payment_confirmations",
        sa.Column("confirmation_id", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("reference", sa.String(), nullable=False),
        sa.Column("billing_code", sa.String(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(), nullable=True),
        sa.Column("bill_id", sa.String(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("confirmation_id"),
        sa.UniqueConstraint("channel", "source", "reference", name="uq_payment_confirmations_reference"),
    )
    op.create_index(op.f("ix_payment_confirmations_bill_id"), "payment_confirmations", ["bill_id"], unique=False)
    op.create_index("ix_payment_confirmations_paid_at", "payment_confirmations", ["paid_at"], unique=False)
    op.create_index("ix_payment_bills_paid_at", "payment_bills", ["paid_at"], unique=False)
    op.create_index("ix_payment_bills_billed_at", "payment_bills", ["billed_at"], unique=False)


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
