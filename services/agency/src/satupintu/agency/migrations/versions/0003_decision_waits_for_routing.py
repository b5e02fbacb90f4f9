"""A desk task's decision waits for routing's answer: the decision's id, the decisions routing refused and why.

Expand only: four columns, all nullable or with a default, so the previous release runs on this schema and every
existing task keeps its state (a task the previous release closed on seeing its decision stays ``decided``).
``refused_decision_ids`` starts empty; ``decision_id`` is unknown (NULL) for decisions taken before this revision.

Revision 0003, revising 0002 (docs/decisions/0010-agency-desk-and-sdk.md, "Routing answers every decision").
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``decision_id``, ``refused_decision_ids``, ``refusal_reason`` and ``refused_at`` to ``desk_tasks``."""
    op.add_column("desk_tasks", sa.Column("decision_id", sa.String(), nullable=True))
    op.add_column(
        "desk_tasks",
        sa.Column(
            "refused_decision_ids",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
    )
    op.add_column("desk_tasks", sa.Column("refusal_reason", sa.String(), nullable=True))
    op.add_column("desk_tasks", sa.Column("refused_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
