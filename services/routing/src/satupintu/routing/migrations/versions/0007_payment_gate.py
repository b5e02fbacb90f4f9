"""The payment gate: ``workflows.payment_stage`` (the stage that waits for the fee, from the catalogue at
submission; null without a fee), ``paid_at`` and ``payment_expired_at``; and ``routing_early_payments`` for a payment
confirmed (or a bill expired) before routing has the application's workflow. Only adds nullable columns and a table:
the previous release runs on it unchanged, and workflows stored before have no gate.

Revision 0007, revising 0006.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the payment columns to ``workflows`` and create ``routing_early_payments``."""
    op.add_column("workflows", sa.Column("payment_stage", sa.Integer(), nullable=True))
    op.add_column("workflows", sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("workflows", sa.Column("payment_expired_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "routing_early_payments",
        sa.Column("application_id", sa.String(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("application_id"),
    )


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
