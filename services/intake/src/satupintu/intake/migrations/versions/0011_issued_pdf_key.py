"""The documents key each issued PDF in the store is sealed with, so the periodic re-sealing after a key rotation
covers issued PDFs as it covers uploads. Only adds a nullable column: the previous release runs on it unchanged.

Revision 0011, revising 0010.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``issued_documents.key_id``."""
    op.add_column("issued_documents", sa.Column("key_id", sa.String(), nullable=True))


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
