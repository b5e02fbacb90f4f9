"""The clerk's one screen (issue 22, decision 0036): ``sign_in_tokens``, the sealed access and refresh tokens of a
staff session, with which the mall's server submits to intake as the clerk signed in. Only adds a table: the
previous release runs on it unchanged.

Revision 0008, revising 0007.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``sign_in_tokens``, removed with its session."""
    op.create_table(
        "sign_in_tokens",
        sa.Column("id_digest", sa.Text(), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=True),
        sa.Column("access_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["id_digest"], ["sign_in_sessions.id_digest"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id_digest"),
    )


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
