"""Officers sign in through the OpenID Connect provider (docs/decisions/0023-staff-sign-in.md): the desk's sessions
and sign-in attempts are kept here, and its own passwords go. The previous release reads ``officers`` at every page
sign-in, so it cannot run on this revision: desk pages are down between the two (the JSON API and the consumers are
not affected).

Revision 0005, revising 0004.
"""

from __future__ import annotations

from alembic import op

from satupintu.common.migration_steps import create_sign_in_tables

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None
dropped_tables = ("officers",)
"""Dropped on purpose, rows and all: officers' passwords, which the provider keeps now."""
contract_step = (
    "officers held the desk's own passwords, which the provider keeps now (decision 0023); not a clean contract step: "
    "the release that stopped reading officers is this one, so desk pages were down while it rolled out (see above)"
)


def upgrade() -> None:
    """Create ``sign_in_attempts`` and ``sign_in_sessions``; drop ``officers`` (the desk keeps no passwords)."""
    create_sign_in_tables()
    op.drop_index("ix_officers_agency", table_name="officers")
    op.drop_table("officers")


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
