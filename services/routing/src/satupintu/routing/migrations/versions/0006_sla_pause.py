"""The SLA clock stops while an agency waits for the citizen's answer: ``workflow_tasks.waiting_since`` and
``workflows.waiting_since`` say when the wait began (null when nothing waits), so the answer moves the due dates
later by the working days waited (decision 0028). Only adds nullable columns: the previous release runs on it
unchanged. A task already waiting gets the time it asked (its ``updated_at``: nothing changes a waiting task), and a
waiting application the earliest of its waiting tasks'.

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
    """Add ``waiting_since`` to ``workflows`` and ``workflow_tasks``, filled in for what waits now."""
    op.add_column("workflows", sa.Column("waiting_since", sa.DateTime(timezone=True), nullable=True))
    op.add_column("workflow_tasks", sa.Column("waiting_since", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE workflow_tasks SET waiting_since = updated_at WHERE state = 'information_requested'")
    op.execute(
        "UPDATE workflows SET waiting_since = (SELECT min(t.waiting_since) FROM workflow_tasks t "
        "WHERE t.application_id = workflows.application_id AND t.state = 'information_requested') "
        "WHERE state = 'information_requested'"
    )


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
