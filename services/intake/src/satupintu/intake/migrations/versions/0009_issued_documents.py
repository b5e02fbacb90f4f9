"""The documents agencies issue, as the public verification page shows them (``document.issued``, then
``document.revoked``), with where the signed PDF is in the shared document store. Only adds a table: the previous
release runs on it unchanged.

Revision 0009, revising 0008.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``issued_documents``."""
    op.create_table(
        "issued_documents",
        sa.Column("document_id", sa.String(), nullable=False),
        sa.Column("application_id", sa.String(), nullable=False),
        sa.Column("service_code", sa.String(), nullable=False),
        sa.Column("agency", sa.String(), nullable=False),
        sa.Column("number", sa.String(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("pdf_name", sa.String(), nullable=False),
        sa.Column("holder_initials", sa.String(), nullable=False),
        sa.Column("holder_nik_masked", sa.String(), nullable=False),
        sa.Column("officer", sa.String(), nullable=False),
        sa.Column("collect_at_counter", sa.Boolean(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revocation_reason", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("document_id"),
    )
    op.create_index("ix_issued_documents_application_id", "issued_documents", ["application_id"])


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
