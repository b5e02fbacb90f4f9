"""Parked events: a consumer sets aside a record whose handler keeps failing with something that passes by itself,
and the events of its key behind it, to retry later (satupintu.common.parking; decision 0003).

Revision 0002, revising 0001.
"""

from __future__ import annotations

from satupintu.common.migration_steps import create_parked_events

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``parked_events``."""
    create_parked_events()


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
