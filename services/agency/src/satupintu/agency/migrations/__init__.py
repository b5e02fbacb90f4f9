"""Agency's migration environment (Alembic): ``env.py``, the revisions in ``versions/``, and the
schema they migrate to (``SCHEMA``). ``satupintu-agency migrate`` upgrades the database; a new revision is written
with ``uv run alembic -n agency revision --autogenerate`` (docs/operations.md, "Schema migrations").
"""

from __future__ import annotations

from satupintu.agency.storage.tables import DeskTask, DocumentCounter, IssuedDocument
from satupintu.common.migrations import ServiceSchema

SCHEMA = ServiceSchema(
    "agency",
    tables=[DeskTask, IssuedDocument, DocumentCounter],
    reader_keys=True,
    sign_in=True,
)
"""Agency's tables (with outbox and inbox) and who may do what to them."""
