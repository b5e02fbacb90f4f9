"""Re-checking the whole log: every entry against its hash and the one before, against the Merkle leaf stored when
it was appended, and every checkpoint's root and signature against the entries."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from satupintu.audit.domain import ChainCheck
from satupintu.audit.merkle import CompactRange, leaf_hash
from satupintu.audit.services.reading import sealed, signed_checkpoint
from satupintu.audit.signing import KeyRing
from satupintu.audit.storage.repository import AuditRepository
from satupintu.audit.storage.tables import AuditEntry, CheckpointRecord


@dataclass(frozen=True)
class Verification:
    """The outcome of re-checking the log: ``ok``, or the first bad entry or checkpoint (when one can be named) and
    why."""

    ok: bool
    tree_size: int
    entries_checked: int
    checkpoints_checked: int
    first_bad_seq: int | None = None
    reason: str | None = None
    bad_checkpoint: int | None = None


class _Broken(Exception):
    def __init__(self, seq: int | None, reason: str, checkpoint: int | None = None) -> None:
        super().__init__(reason)
        self.seq = seq
        self.reason = reason
        self.checkpoint = checkpoint


class _LogCheck:
    """One pass over the log in order: the chain, each entry's stored Merkle leaf, and each checkpoint's root
    once the tree reaches its size."""

    def __init__(
        self, checkpoints: Sequence[CheckpointRecord], problem: Callable[[CheckpointRecord, bytes], str | None]
    ) -> None:
        self.chain = ChainCheck(contiguous=True)
        self.checkpoints_checked = 0
        self._tree = CompactRange()
        self._pending = deque(checkpoints)
        self._problem = problem

    def add(self, entry: AuditEntry, stored_leaf: bytes | None) -> None:
        """Check the next entry; raises :class:`_Broken` at the first problem."""
        broken = self.chain.check(sealed(entry))
        if broken is not None:
            raise _Broken(broken.seq, broken.reason)
        leaf = leaf_hash(bytes.fromhex(entry.entry_hash))
        if stored_leaf != leaf:
            raise _Broken(entry.seq, f"entry {entry.seq} differs from the Merkle leaf stored when it was appended")
        self._tree.append(leaf)
        self.reach_checkpoints()

    def reach_checkpoints(self) -> None:
        """Check the checkpoints of the tree's current size."""
        while self._pending and self._pending[0].tree_size == self._tree.size:
            checkpoint = self._pending.popleft()
            problem = self._problem(checkpoint, self._tree.root())
            if problem:
                raise _Broken(None, problem, checkpoint.tree_size)
            self.checkpoints_checked += 1


async def verify_log(repository: AuditRepository, size: int, key_ring: KeyRing) -> Verification:
    """Check the first ``size`` entries of the log and the checkpoints up to that size, in one pass."""
    check = _LogCheck(await repository.checkpoints_up_to(size), partial(checkpoint_problem, key_ring))
    try:
        latest = await repository.latest_checkpoint()
        if latest is not None and latest.tree_size > size:
            raise _Broken(
                size + 1,
                f"a checkpoint vouches for {latest.tree_size} entries; the log holds {size}",
                latest.tree_size,
            )
        check.reach_checkpoints()
        after = 0
        while after < size:
            batch = await repository.entries_with_leaves(after, size, 1000)
            if not batch:
                raise _Broken(after + 1, f"entry {after + 1} is missing")
            for entry, stored_leaf in batch:
                check.add(entry, stored_leaf)
            after = batch[-1][0].seq
    except _Broken as broken:
        return Verification(
            False,
            size,
            check.chain.checked,
            check.checkpoints_checked,
            broken.seq,
            broken.reason,
            broken.checkpoint,
        )
    return Verification(True, size, check.chain.checked, check.checkpoints_checked)


def checkpoint_problem(key_ring: KeyRing, checkpoint: CheckpointRecord, root: bytes) -> str | None:
    """What is wrong with a stored checkpoint given the root the log has at its size: a root that differs, or a
    signature that is not one of the key ring's (whatever key id it names)."""
    if checkpoint.root_hash != root.hex():
        return (
            f"the checkpoint of {checkpoint.tree_size} entries does not match the log: an entry at or before "
            f"{checkpoint.tree_size} was rewritten together with its hashes"
        )
    return key_ring.problem(signed_checkpoint(checkpoint))
