"""The SLA watch's due scans by index: partial indexes on ``due_at`` of the tasks an agency holds and of the
applications in progress, neither reported late yet. Without them the watch read every open task and every
application in progress on each pass (the ``state`` index matches nearly all of them), a cost that grew with the
work in hand (docs/performance.md, cost as work grows). Only adds indexes: the previous release runs on it unchanged.

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
    """Create the two partial indexes the SLA watch's scans use."""
    op.create_index(
        "ix_workflow_tasks_late",
        "workflow_tasks",
        ["due_at"],
        postgresql_where=sa.text("state IN ('assigned', 'claimed') AND sla_breached_at IS NULL"),
    )
    op.create_index(
        "ix_workflows_late",
        "workflows",
        ["due_at"],
        postgresql_where=sa.text("state = 'in_progress' AND waiting_since IS NULL AND sla_breached_at IS NULL"),
    )


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
