"""Who an issued document is for: ``workflows.holder_ciphertext`` keeps the applicant's name and NIK as intake sealed
them (for the citizen's key), sealed once more with routing's data keys, for services that issue a document; routing
passes them, unopened, to the issuing agency's task (``task.assigned``'s ``holder``). Workflows stored before have
none, and the desk issues no document for them (it logs why).

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
    """Add ``workflows.holder_ciphertext``."""
    op.add_column("workflows", sa.Column("holder_ciphertext", sa.Text(), nullable=True))


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
