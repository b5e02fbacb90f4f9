"""Payment's migration environment (Alembic): ``env.py``, the revisions in ``versions/``, and the schema they
migrate to (``SCHEMA``). ``satupintu-payment migrate`` upgrades the database; a new revision is written with
``uv run alembic -n payment revision --autogenerate`` (docs/operations.md, "Schema migrations").
"""

from __future__ import annotations

from satupintu.common.migrations import ServiceSchema
from satupintu.payment.storage.tables import BillRecord, ConfirmationRecord

SCHEMA = ServiceSchema("payment", tables=[BillRecord, ConfirmationRecord], sign_in=True)
"""Payment's tables (with outbox, inbox, parked events and operators' sign-in) and who may do what to them."""
