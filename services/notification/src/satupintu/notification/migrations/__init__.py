"""Notification's migration environment (Alembic): ``env.py``, the revisions in ``versions/``, and the
schema they migrate to (``SCHEMA``). ``satupintu-notification migrate`` upgrades the database; a new revision is written
with ``uv run alembic -n notification revision --autogenerate`` (docs/operations.md, "Schema migrations").
"""

from __future__ import annotations

from satupintu.common.migrations import ServiceSchema
from satupintu.notification.storage.tables import (
    ComplaintContactRecord,
    ContactRecord,
    DeliveryAttemptRecord,
    DeliveryRecord,
)

SCHEMA = ServiceSchema(
    "notification",
    tables=[ContactRecord, DeliveryRecord, DeliveryAttemptRecord, ComplaintContactRecord],
    reader_keys=True,
    sign_in=True,
    limits=True,
)
"""Notification's tables (with outbox, inbox and the counters of the channels' shared rate limits) and who may do
what to them."""
