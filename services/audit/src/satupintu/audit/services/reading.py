"""What audit's use cases share: reading the stored Merkle tree, and stored rows as the chain and the signature see
them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from satupintu.audit.domain import SealedEntry, TreeIncomplete, entry_document
from satupintu.audit.merkle import NodeSource, inclusion_proof, nodes_needed
from satupintu.audit.signing import SignedCheckpoint
from satupintu.audit.storage.repository import AuditRepository
from satupintu.audit.storage.tables import AuditEntry, CheckpointRecord

T = TypeVar("T")


async def read_tree(repository: AuditRepository, compute: Callable[[NodeSource], T]) -> T:
    """Run a Merkle computation on the stored nodes it needs, fetched in one go."""
    wanted = nodes_needed(compute)
    found = await repository.nodes(wanted)
    missing = wanted - found.keys()
    if missing:
        raise TreeIncomplete(f"the stored Merkle tree lacks nodes {sorted(missing)[:5]}")
    return compute(lambda level, position: found[(level, position)])


async def inclusion_paths(repository: AuditRepository, seqs: Sequence[int], tree_size: int) -> list[list[bytes]]:
    """The audit paths of several entries in one tree, with one read of the nodes they need."""
    return await read_tree(repository, lambda node: [inclusion_proof(seq - 1, tree_size, node) for seq in seqs])


def sealed(entry: AuditEntry) -> SealedEntry:
    """A stored entry as the chain sees it."""
    return SealedEntry(
        document=entry_document(entry.model_dump()), prev_hash=entry.prev_hash, entry_hash=entry.entry_hash
    )


def signed_checkpoint(record: CheckpointRecord) -> SignedCheckpoint:
    """A stored checkpoint as the signature sees it."""
    return SignedCheckpoint(
        tree_size=record.tree_size,
        root_hash=record.root_hash,
        time=record.time,
        key_id=record.key_id,
        signature=record.signature,
    )
