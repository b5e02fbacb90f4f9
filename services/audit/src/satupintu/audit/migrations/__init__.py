"""Audit's migration environment (Alembic): ``env.py``, the revisions in ``versions/``, and the
schema they migrate to (``SCHEMA``). ``satupintu-audit migrate`` upgrades the database; a new revision is written
with ``uv run alembic -n audit revision --autogenerate`` (docs/operations.md, "Schema migrations").
"""

from __future__ import annotations

from satupintu.audit.storage.schema import APPEND_ONLY_TABLES, refuse_legacy_log
from satupintu.audit.storage.tables import LOG_TABLES
from satupintu.common.migrations import ServiceSchema

SCHEMA = ServiceSchema(
    "audit",
    tables=LOG_TABLES,
    append_only=APPEND_ONLY_TABLES,
    check_existing=refuse_legacy_log,
    sign_in=True,
)
"""Audit's tables (with outbox and inbox) and who may do what to them."""
