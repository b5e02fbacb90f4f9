"""Fees and businesses on the board (issue 21): ``mall_applications`` learns each application's applicant kind
(person or business; existing rows are persons) and its fee's bill (payee, kind, amount, when billed and paid, the
channel, and whether it is billed, paid, expired or cancelled). Only adds columns, each nullable or with a default:
the previous release runs on them unchanged.

Revision 0006, revising 0005.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the applicant kind and the bill's columns, and the indexes the board's payment figures read."""
    op.add_column(
        "mall_applications", sa.Column("applicant_kind", sa.String(), server_default="person", nullable=False)
    )
    op.add_column("mall_applications", sa.Column("bill_id", sa.String(), nullable=True))
    op.add_column("mall_applications", sa.Column("bill_status", sa.String(), nullable=True))
    op.add_column("mall_applications", sa.Column("bill_agency", sa.String(), nullable=True))
    op.add_column("mall_applications", sa.Column("bill_kind", sa.String(), nullable=True))
    op.add_column("mall_applications", sa.Column("bill_amount", sa.BigInteger(), nullable=True))
    op.add_column("mall_applications", sa.Column("billed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("mall_applications", sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("mall_applications", sa.Column("paid_amount", sa.BigInteger(), nullable=True))
    op.add_column("mall_applications", sa.Column("payment_channel", sa.String(), nullable=True))
    op.create_index(op.f("ix_mall_applications_bill_status"), "mall_applications", ["bill_status"], unique=False)
    op.create_index(op.f("ix_mall_applications_billed_at"), "mall_applications", ["billed_at"], unique=False)


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
