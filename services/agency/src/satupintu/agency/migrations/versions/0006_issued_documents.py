"""The documents the desk issues (decision 0027): ``desk_issued_documents`` (one per application and service; numbers
unique per agency) and ``document_counters`` (each agency's gapless count per year). Only adds tables: the previous
release runs on them unchanged.

Revision 0006, revising 0005.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``desk_issued_documents`` and ``document_counters``."""
    op.create_table(
        "desk_issued_documents",
        sa.Column("document_id", sa.String(), nullable=False),
        sa.Column("application_id", sa.String(), nullable=False),
        sa.Column("service_code", sa.String(), nullable=False),
        sa.Column("agency", sa.String(), nullable=False),
        sa.Column("task_id", sa.String(), nullable=False),
        sa.Column("number", sa.String(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("serial", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("officer", sa.String(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(), nullable=True),
        sa.Column("revocation_reason", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("document_id"),
        sa.UniqueConstraint("application_id", "service_code", name="desk_issued_documents_once_per_application"),
        sa.UniqueConstraint("agency", "number", name="desk_issued_documents_number_unique"),
    )
    op.create_index("desk_issued_documents_by_agency", "desk_issued_documents", ["agency", "issued_at"])
    op.create_table(
        "document_counters",
        sa.Column("agency", sa.String(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_serial", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("agency", "year"),
    )


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
