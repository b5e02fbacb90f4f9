"""The deciding officer's full name (``desk_tasks.decided_by_name``, from the provider's ``name`` claim): what a
document the decision issues prints as its issuing officer. Only adds a nullable column: the previous release runs
on it unchanged.

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
    """Add ``desk_tasks.decided_by_name``."""
    op.add_column("desk_tasks", sa.Column("decided_by_name", sa.String(), nullable=True))


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
