"""Routing's migration environment (Alembic): ``env.py``, the revisions in ``versions/``, and the
schema they migrate to (``SCHEMA``). ``satupintu-routing migrate`` upgrades the database; a new revision is written
with ``uv run alembic -n routing revision --autogenerate`` (docs/operations.md, "Schema migrations").
"""

from __future__ import annotations

from satupintu.common.migrations import ServiceSchema
from satupintu.routing.storage.tables import EarlyPaymentRecord, TaskRecord, WorkflowRecord

SCHEMA = ServiceSchema(
    "routing",
    tables=[WorkflowRecord, TaskRecord, EarlyPaymentRecord],
    sign_in=True,
)
"""Routing's tables (with outbox and inbox) and who may do what to them."""
