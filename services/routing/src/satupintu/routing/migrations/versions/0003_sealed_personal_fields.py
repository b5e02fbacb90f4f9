"""Personal form fields sealed at rest: ``workflows.personal_data_ciphertext`` holds an application's personal form
fields (the catalogue marks them ``personal``) encrypted with routing's data keys, and ``workflows.data`` only the
rest. Rows stored before keep their personal fields in ``data`` until routing seals them (it needs the keys, which a
migration does not have): the service does so for a row it changes and, in batches, for every other one.

Revision 0003, revising 0002.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``workflows.personal_data_ciphertext``."""
    op.add_column("workflows", sa.Column("personal_data_ciphertext", sa.Text(), nullable=True))


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
