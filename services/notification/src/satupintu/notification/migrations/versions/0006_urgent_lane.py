"""The urgent lane and shared rate limits: ``deliveries.priority`` (0 urgent, 1 routine; the urgent templates of
pending rows set to 0), the partial index the dispatcher's lanes claim from (pending rows by kind, priority and due
time) in place of ``ix_deliveries_due``, and the common ``limit_counters`` where every replica takes its channel's
sending tokens. The previous release runs on it unchanged (the column has a default, the table is new).

Revision 0006, revising 0005.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from satupintu.common.migration_steps import create_limit_counters

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

URGENT_TEMPLATES = (
    "one_time_code",
    "application.information_requested",
    "document.issued",
    "payment.billed",
    "payment.expiring",
)


def upgrade() -> None:
    """Add ``priority``, mark the pending urgent messages, swap the claim index, create ``limit_counters``."""
    op.add_column("deliveries", sa.Column("priority", sa.SmallInteger(), server_default="1", nullable=False))
    op.execute(
        sa.text("UPDATE deliveries SET priority = 0 WHERE status = 'pending' AND template IN :urgent").bindparams(
            sa.bindparam("urgent", value=URGENT_TEMPLATES, expanding=True)
        )
    )
    op.create_index(
        "ix_deliveries_pending",
        "deliveries",
        ["kind", "priority", "next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_index("ix_deliveries_due", table_name="deliveries")
    create_limit_counters()


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
