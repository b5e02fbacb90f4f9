"""Businesses as applicants: an application's applicant kind, and a business's NIB, name and (encrypted) NPWP; the
person columns then hold its representative. Only adds columns with defaults: the previous release runs on it
unchanged.

Revision 0012, revising 0011.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the applicant kind and the business's columns to ``applications``."""
    op.add_column("applications", sa.Column("applicant_kind", sa.String(), nullable=False, server_default="person"))
    op.add_column("applications", sa.Column("business_nib", sa.String(), nullable=True))
    op.add_column("applications", sa.Column("business_name", sa.String(), nullable=True))
    op.add_column("applications", sa.Column("business_npwp_ciphertext", sa.Text(), nullable=True))


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
