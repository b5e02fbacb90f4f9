"""Limits shared by the mall's replicas: the common ``limit_counters`` table of ``satupintu.common.limits``, where
wrong NIKs per tracking code are counted for the consent ledger (issue 17; docs/decisions/0018-profiles-with-proof.md).
Only adds a table: the previous release runs on it unchanged.

Revision 0003, revising 0002.
"""

from __future__ import annotations

from satupintu.common.migration_steps import create_limit_counters

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``limit_counters`` and the index its clean-up reads."""
    create_limit_counters()


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
