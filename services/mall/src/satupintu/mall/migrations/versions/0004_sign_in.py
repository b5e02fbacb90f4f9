"""Staff sign in to the mall's staff pages through the OpenID Connect provider (issue 19;
docs/decisions/0023-staff-sign-in.md): the common ``sign_in_attempts`` and ``sign_in_sessions`` tables of
``satupintu.common.oidc``. Only adds tables: the previous release runs on them unchanged.

Revision 0004, revising 0003.
"""

from __future__ import annotations

from satupintu.common.migration_steps import create_sign_in_tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``sign_in_attempts`` and ``sign_in_sessions`` with the indexes logout and clean-up read."""
    create_sign_in_tables()


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
