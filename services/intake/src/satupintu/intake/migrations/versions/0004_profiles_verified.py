"""Profiles change only with proof (issue 17, decision 0018): ``citizen_profiles.verified_at`` (null: unverified,
nothing reuses it) and ``one_time_codes.contact_hash`` (the keyed hash of the contact a code went to; null for a code
that went nowhere). Only adds nullable columns: the previous release runs on them unchanged.

Every profile kept before this revision becomes unverified: its contact was never proven (anyone knowing a NIK
could set it), so its data is not reused until a code sent to that contact is confirmed. Codes issued before it
expire within ten minutes and confirm nothing.

Revision 0004, revising 0003.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``verified_at`` to profiles and ``contact_hash`` to one-time codes."""
    op.add_column("citizen_profiles", sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("one_time_codes", sa.Column("contact_hash", sa.Text(), nullable=True))


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
