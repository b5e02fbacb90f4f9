"""The originals collected at the mall's counter (``document.collected``), kept apart from ``issued_documents`` so a
collection that arrives before its issue is not lost. Only adds a table: the previous release runs on it unchanged.

Revision 0010, revising 0009.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``document_collections``."""
    op.create_table(
        "document_collections",
        sa.Column("document_id", sa.String(), nullable=False),
        sa.Column("application_id", sa.String(), nullable=False),
        sa.Column("number", sa.String(), nullable=False),
        sa.Column("handed_over_by", sa.String(), nullable=False),
        sa.Column("collected_by_holder", sa.Boolean(), nullable=False),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("document_id"),
    )
    op.create_index("ix_document_collections_application_id", "document_collections", ["application_id"])


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
