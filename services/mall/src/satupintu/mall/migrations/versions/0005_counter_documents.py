"""Documents waiting at the counter (issue 20): ``counter_documents``, the issued documents whose original the holder
collects at the mall's counter, and their pickup or revocation. Only adds a table: the previous release runs on it
unchanged.

Revision 0005, revising 0004.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``counter_documents`` and the indexes the clerk's look-ups read."""
    op.create_table(
        "counter_documents",
        sa.Column("document_id", sa.String(), nullable=False),
        sa.Column("application_id", sa.String(), nullable=False),
        sa.Column("number", sa.String(), nullable=False),
        sa.Column("service_code", sa.String(), nullable=False),
        sa.Column("agency", sa.String(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handed_over_by", sa.String(), nullable=True),
        sa.Column("collected_by_ciphertext", sa.Text(), nullable=True),
        sa.Column("collected_by_holder", sa.Boolean(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revocation_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("document_id"),
    )
    op.create_index(op.f("ix_counter_documents_agency"), "counter_documents", ["agency"], unique=False)
    op.create_index(op.f("ix_counter_documents_application_id"), "counter_documents", ["application_id"], unique=False)
    op.create_index(op.f("ix_counter_documents_issued_at"), "counter_documents", ["issued_at"], unique=False)
    op.create_index(op.f("ix_counter_documents_number"), "counter_documents", ["number"], unique=False)


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
