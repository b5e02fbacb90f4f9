"""Erasure requests (UU PDP; decision 0019): one row per citizen's request, carried out at once or by the retention
schedule. Only adds a table: the previous release runs on it unchanged.

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
    """Create ``erasure_requests``."""
    op.create_table(
        "erasure_requests",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("nik_hash", sa.String(), nullable=False),
        sa.Column("reference", sa.String(), nullable=False),
        sa.Column("requested_by", sa.String(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_erasure_requests_nik_hash", "erasure_requests", ["nik_hash"])


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
