"""Limits shared by intake's replicas: the common ``limit_counters`` table of ``satupintu.common.limits`` (the
per-client upload volume counts there; docs/decisions/0015-postgres-limits.md). Only adds a table: the previous
release runs on it unchanged.

Revision 0002, revising 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``limit_counters`` and the index its clean-up reads."""
    op.create_table(
        "limit_counters",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start"),
    )
    op.create_index(op.f("ix_limit_counters_expires_at"), "limit_counters", ["expires_at"], unique=False)


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
