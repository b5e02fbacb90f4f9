"""Citizens' keys as they arrive for this service's readers (satupintu.common.citizen_keys; decision 0016). Only adds
a table: the previous release runs on it unchanged.

Revision 0004, revising 0003.
"""

from __future__ import annotations

from satupintu.common.migration_steps import create_reader_keys

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``reader_keys``."""
    create_reader_keys()


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
