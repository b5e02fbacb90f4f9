"""Auditors sign in to the pages through the OpenID Connect provider (satupintu.common.oidc): the
sign-in attempts and sessions. Only adds tables, neither of them append-only: the previous release runs on it
unchanged, and the log's tables keep their triggers and grants.

Revision 0003, revising 0002.
"""

from __future__ import annotations

from satupintu.common.migration_steps import create_sign_in_tables

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``sign_in_attempts`` and ``sign_in_sessions``."""
    create_sign_in_tables()


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
