"""Citizens' keys as they arrive for this service's readers (satupintu.common.citizen_keys; decision 0016), and the
key each contact and delivery came sealed with, so an erasure finds them. Only adds a table and nullable columns:
the previous release runs on it unchanged.

Revision 0003, revising 0002.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from satupintu.common.migration_steps import create_reader_keys

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``reader_keys``; add ``key_id`` to ``contacts`` and ``deliveries``."""
    create_reader_keys()
    for table in ("contacts", "deliveries"):
        op.add_column(table, sa.Column("key_id", sa.String(), nullable=True))
        op.create_index(f"ix_{table}_key_id", table, ["key_id"])


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
