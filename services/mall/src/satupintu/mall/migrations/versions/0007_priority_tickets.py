"""Priority service (issue 22): ``tickets.priority``, a ticket served with priority (elderly, disabled, pregnant,
with a small child), called first within the priority ratio. Only adds a column with a default: the previous release
runs on it unchanged.

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
    """Add the priority flag (existing tickets are regular)."""
    op.add_column("tickets", sa.Column("priority", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
