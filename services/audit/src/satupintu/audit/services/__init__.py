"""Audit's use cases: append drafts of every event seen to the trail (:mod:`.trail`: one appender at a time,
hash-chained, in the Merkle tree), take signed checkpoints (:mod:`.checkpoints`), and answer auditors' queries,
proofs, verification and exports (:mod:`.queries`), each recorded as ``access.recorded``."""

from satupintu.audit.services.checkpoints import CheckpointService
from satupintu.audit.services.queries import (
    AuditQueries,
    CheckpointPage,
    ConsistencyProof,
    EntryPage,
    InclusionProof,
)
from satupintu.audit.services.trail import AuditService
from satupintu.audit.services.verification import Verification

__all__ = [
    "AuditQueries",
    "AuditService",
    "CheckpointPage",
    "CheckpointService",
    "ConsistencyProof",
    "EntryPage",
    "InclusionProof",
    "Verification",
]
