"""Intake's migration environment (Alembic): ``env.py``, the revisions in ``versions/``, and the
schema they migrate to (``SCHEMA``). ``satupintu-intake migrate`` upgrades the database; a new revision is written
with ``uv run alembic -n intake revision --autogenerate`` (docs/operations.md, "Schema migrations").
"""

from __future__ import annotations

from satupintu.common.migrations import ServiceSchema
from satupintu.intake.documents import DocumentRecord
from satupintu.intake.storage.tables import (
    ApplicationRecord,
    BillRecord,
    CitizenKeyGrant,
    CitizenKeyRecord,
    CitizenProfile,
    ConsentRecord,
    DocumentCollectionRecord,
    ErasureRequest,
    IdempotencyRecord,
    IssuedDocumentRecord,
    OneTimeCodeRecord,
    TaskStatusRecord,
    TimelineEntry,
)

SCHEMA = ServiceSchema(
    "intake",
    tables=[
        ApplicationRecord,
        IdempotencyRecord,
        DocumentRecord,
        TaskStatusRecord,
        TimelineEntry,
        CitizenProfile,
        OneTimeCodeRecord,
        ConsentRecord,
        CitizenKeyRecord,
        CitizenKeyGrant,
        ErasureRequest,
        IssuedDocumentRecord,
        DocumentCollectionRecord,
        BillRecord,
    ],
    limits=True,
    sign_in=True,
)
"""Intake's tables (with outbox, inbox and the shared limits' counters) and who may do what to them."""
