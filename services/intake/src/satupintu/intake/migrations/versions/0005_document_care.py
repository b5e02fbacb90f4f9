"""Documents sealed at rest and deleted once no application refers to them (docs/decisions/0006): ``documents``
gains ``used_at`` (when last uploaded or referred to; filled from ``uploaded_at``) and ``key_id`` (the documents key
its file is sealed with; null: stored before sealing), and ``applications.documents`` a GIN index for the clean-up's
"does any application refer to it". Only adds: the previous release runs on it unchanged (its rows get ``used_at``
from the column's default).

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
    """Add the columns, fill ``used_at``, and create the indexes the clean-up reads."""
    op.add_column(
        "documents",
        sa.Column("used_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )
    op.add_column("documents", sa.Column("key_id", sa.String(), nullable=True))
    op.execute("UPDATE documents SET used_at = uploaded_at")
    op.create_index("ix_documents_used_at", "documents", ["used_at"], unique=False)
    op.create_index(
        "ix_applications_documents",
        "applications",
        ["documents"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"documents": "jsonb_path_ops"},
    )


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
