"""Citizens' keys: one per citizen, kept under intake's data keys, and the readers each was sent to (decision 0016).
Only adds tables: the previous release runs on it unchanged.

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
    """Create ``citizen_keys`` and ``citizen_key_grants``."""
    op.create_table(
        "citizen_keys",
        sa.Column("key_id", sa.String(), nullable=False),
        sa.Column("nik_hash", sa.String(), nullable=False),
        sa.Column("secret_ciphertext", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_id"),
        sa.UniqueConstraint("nik_hash"),
    )
    op.create_table(
        "citizen_key_grants",
        sa.Column("key_id", sa.String(), nullable=False),
        sa.Column("reader", sa.String(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["citizen_keys.key_id"],
        ),
        sa.PrimaryKeyConstraint("key_id", "reader"),
    )


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
