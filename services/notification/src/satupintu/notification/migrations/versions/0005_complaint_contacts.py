"""Where complainants are answered (``complaint_contacts``): the contact a complaint was filed with, encrypted, so its
progress and answer reach the complainant. Only adds a table: the previous release runs on it unchanged.

Revision 0005, revising 0004.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``complaint_contacts``."""
    op.create_table(
        "complaint_contacts",
        sa.Column("complaint_id", sa.String(), nullable=False),
        sa.Column("reference", sa.String(), nullable=False),
        sa.Column("agency", sa.String(), nullable=False),
        sa.Column("language", sa.String(), nullable=False),
        sa.Column("contact_ciphertext", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("complaint_id"),
    )


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
