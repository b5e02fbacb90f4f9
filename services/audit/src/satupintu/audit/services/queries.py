"""What auditors ask of the log: searches, an application's timeline, checkpoints, inclusion and consistency proofs,
verification and exports; every question is recorded as ``access.recorded``."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.audit import export
from satupintu.audit.domain import (
    SOURCE,
    AuditNotFound,
    AuditRuleError,
    EventFilters,
    decode_cursor,
    encode_cursor,
    happened_before_order,
    keyed_hash,
)
from satupintu.audit.merkle import consistency_proof, inclusion_proof, leaf_hash, root_hash
from satupintu.audit.services.checkpoints import CheckpointService
from satupintu.audit.services.reading import inclusion_paths, read_tree, sealed, signed_checkpoint
from satupintu.audit.services.verification import Verification, verify_log
from satupintu.audit.signing import CheckpointSigner, KeyRing, SignedCheckpoint
from satupintu.audit.storage.repository import AuditRepository
from satupintu.audit.storage.tables import AuditEntry, CheckpointRecord
from satupintu.common.access_log import AccessLog
from satupintu.common.auth import Principal
from satupintu.common.clock import Clock, utc_now
from satupintu.common.outbox import Outbox


def _inclusion_refusal(seq: int, tree_size: int, size: int) -> AuditRuleError | None:
    if tree_size < seq:
        return AuditRuleError("tree_size", f"A tree of {tree_size} entries does not hold entry {seq}.")
    if tree_size > size:
        return AuditRuleError("tree_size", f"The log holds {size} entries, fewer than {tree_size}.")
    return None


@dataclass(frozen=True)
class EntryPage:
    """One page of a search and the cursor of the next (None on the last page)."""

    entries: Sequence[AuditEntry]
    next_cursor: str | None


@dataclass(frozen=True)
class CheckpointPage:
    """One page of past checkpoints, largest tree first, and the cursor of the next (None on the last page)."""

    checkpoints: Sequence[CheckpointRecord]
    next_cursor: str | None


@dataclass(frozen=True)
class InclusionProof:
    """Where an entry sits in the tree of ``tree_size`` entries, and the path to its root."""

    entry: AuditEntry
    tree_size: int
    leaf_hash: str
    audit_path: list[str]
    root_hash: str
    checkpoint: CheckpointRecord | None


@dataclass(frozen=True)
class ConsistencyProof:
    """That the tree of ``first`` entries is a prefix of the tree of ``second``."""

    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str]
    first_checkpoint: CheckpointRecord | None
    second_checkpoint: CheckpointRecord | None


class AuditQueries:
    """What auditors ask of the log; every question is recorded as ``access.recorded`` in its own transaction."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        *,
        hash_key: bytes,
        signer: CheckpointSigner,
        key_ring: KeyRing,
        checkpoints: CheckpointService,
        clock: Clock = utc_now,
        timeline_limit: int = 5000,
        export_batch: int = 500,
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._hash_key = hash_key
        self._signer = signer
        self._key_ring = key_ring
        self._checkpoints = checkpoints
        self._clock = clock
        self._access = AccessLog(outbox, SOURCE, clock)
        self._timeline_limit = timeline_limit
        self._export_batch = export_batch

    def personal_hash(self, value: str) -> str:
        """The keyed hash a personal value (a NIK, an e-mail address) has in the log."""
        return keyed_hash(self._hash_key, value)

    async def events(
        self, principal: Principal, filters: EventFilters, cursor: str | None, limit: int, resource: str
    ) -> EntryPage:
        """Entries matching ``filters``, in log order, one page at a time."""
        after = decode_cursor(cursor) if cursor else 0
        async with self._sessions() as session, session.begin():
            entries = await AuditRepository(session).search(filters, after_seq=after, limit=limit + 1)
            await self._record(session, principal, resource, "read", filters.application_id)
        page = entries[:limit]
        return EntryPage(page, encode_cursor(page[-1].seq) if len(entries) > limit else None)

    async def entry(self, principal: Principal, seq: int, resource: str) -> AuditEntry:
        """The entry at ``seq`` (recorded against its application, when it has one)."""
        async with self._sessions() as session, session.begin():
            entry = await AuditRepository(session).entry(seq)
            await self._record(session, principal, resource, "read", entry.application_id if entry else None)
        if entry is None:
            raise AuditNotFound(f"The log has no entry {seq}.")
        return entry

    async def timeline(self, principal: Principal, application_id: str, resource: str) -> list[AuditEntry]:
        """Everything about one application across agencies: causes before effects, each topic in its order."""
        async with self._sessions() as session, session.begin():
            entries = await AuditRepository(session).for_application(application_id, self._timeline_limit)
            await self._record(session, principal, resource, "read", application_id)
        return happened_before_order(
            entries, event_id=lambda e: e.ce_id, cause_id=lambda e: e.causation_id, stream=lambda e: e.topic
        )

    async def latest_checkpoint(self, principal: Principal, resource: str) -> CheckpointRecord:
        """The checkpoint of the largest tree."""
        async with self._sessions() as session, session.begin():
            latest = await AuditRepository(session).latest_checkpoint()
            await self._record(session, principal, resource, "read")
        if latest is None:
            raise AuditNotFound("No checkpoint has been taken yet; ask for one with POST /audit/checkpoints.")
        return latest

    async def checkpoints(self, principal: Principal, cursor: str | None, limit: int, resource: str) -> CheckpointPage:
        """Past checkpoints, largest tree (newest) first, one page at a time."""
        before = decode_cursor(cursor) if cursor else None
        async with self._sessions() as session, session.begin():
            found = await AuditRepository(session).checkpoints_before(before, limit + 1)
            await self._record(session, principal, resource, "read")
        page = found[:limit]
        return CheckpointPage(page, encode_cursor(page[-1].tree_size) if len(found) > limit else None)

    async def take_checkpoint(self, principal: Principal, resource: str) -> CheckpointRecord:
        """A checkpoint of the log as it is now."""
        checkpoint = await self._checkpoints.take()
        async with self._sessions() as session, session.begin():
            await self._record(session, principal, resource, "checkpoint")
        return checkpoint

    async def inclusion(self, principal: Principal, seq: int, tree_size: int | None, resource: str) -> InclusionProof:
        """The proof that entry ``seq`` is in the tree of ``tree_size`` entries (default: the latest checkpoint's,
        taking a new checkpoint only when the entry is newer than it)."""
        size_of_tree = tree_size if tree_size is not None else (await self._checkpoints.covering(seq)).tree_size
        async with self._sessions() as session, session.begin():
            repository = AuditRepository(session)
            entry = await repository.entry(seq)
            await self._record(session, principal, resource, "prove", entry.application_id if entry else None)
            size = await repository.size()
            refusal = _inclusion_refusal(seq, size_of_tree, size)
            if entry is not None and refusal is None:
                path, root = await read_tree(
                    repository,
                    lambda node: (inclusion_proof(seq - 1, size_of_tree, node), root_hash(size_of_tree, node)),
                )
                checkpoint = await repository.checkpoint(size_of_tree)
        if entry is None:
            raise AuditNotFound(f"The log has no entry {seq}.")
        if refusal is not None:
            raise refusal
        return InclusionProof(
            entry=entry,
            tree_size=size_of_tree,
            leaf_hash=leaf_hash(bytes.fromhex(entry.entry_hash)).hex(),
            audit_path=[sibling.hex() for sibling in path],
            root_hash=root.hex(),
            checkpoint=checkpoint,
        )

    async def consistency(self, principal: Principal, first: int, second: int, resource: str) -> ConsistencyProof:
        """The proof that the tree of ``first`` entries is a prefix of the tree of ``second``."""
        if first < 1:
            raise AuditRuleError("first", "`first` must be at least 1.")
        if second < first:
            raise AuditRuleError("second", "`second` must not be smaller than `first`.")
        async with self._sessions() as session, session.begin():
            repository = AuditRepository(session)
            await self._record(session, principal, resource, "prove")
            size = await repository.size()
            if second <= size:
                proof, first_root, second_root = await read_tree(
                    repository,
                    lambda node: (
                        consistency_proof(first, second, node),
                        root_hash(first, node),
                        root_hash(second, node),
                    ),
                )
                first_checkpoint = await repository.checkpoint(first)
                second_checkpoint = await repository.checkpoint(second)
        if second > size:
            raise AuditRuleError("second", f"The log holds {size} entries, fewer than {second}.")
        return ConsistencyProof(
            first=first,
            second=second,
            first_root=first_root.hex(),
            second_root=second_root.hex(),
            proof=[node.hex() for node in proof],
            first_checkpoint=first_checkpoint,
            second_checkpoint=second_checkpoint,
        )

    async def verify(self, principal: Principal, resource: str) -> Verification:
        """Re-check the whole log: every entry against its hash and the one before, against the Merkle leaf stored
        when it was appended, and every checkpoint's root and signature against the entries."""
        async with self._sessions() as session, session.begin():
            await self._record(session, principal, resource, "verify")
            repository = AuditRepository(session)
            size = await repository.size()
            return await verify_log(repository, size, self._key_ring)

    async def export(self, principal: Principal, filters: EventFilters, resource: str) -> AsyncIterator[bytes]:
        """The entries matching ``filters`` up to the latest checkpoint as JSON Lines, each with its inclusion proof
        in that checkpoint (see :mod:`satupintu.audit.export`)."""
        checkpoint = await self._checkpoints.latest()
        async with self._sessions() as session, session.begin():
            await self._record(session, principal, resource, "export", filters.application_id)
        return self._export_lines(signed_checkpoint(checkpoint), filters)

    async def _export_lines(self, checkpoint: SignedCheckpoint, filters: EventFilters) -> AsyncIterator[bytes]:
        yield export.header_line(self._clock(), filters.as_dict(), self._signer.public_key_pem, self._signer.key_id)
        yield export.checkpoint_line(checkpoint)
        after, count = 0, 0
        while True:
            async with self._sessions() as session, session.begin():
                repository = AuditRepository(session)
                batch = await repository.search(
                    filters, after_seq=after, limit=self._export_batch, max_seq=checkpoint.tree_size
                )
                if not batch:
                    break
                paths = await inclusion_paths(repository, [entry.seq for entry in batch], checkpoint.tree_size)
            for entry, path in zip(batch, paths, strict=True):
                yield export.entry_line(sealed(entry), checkpoint.tree_size, path)
            count += len(batch)
            after = batch[-1].seq
        yield export.end_line(count)

    async def record_denied(
        self, principal: Principal, resource: str, reason: str, *, application_id: str | None = None
    ) -> None:
        """Record that ``principal`` was refused ``resource`` (against ``application_id`` when it is about one)."""
        async with self._sessions() as session, session.begin():
            await self._record(session, principal, resource, "read", application_id, outcome="denied", reason=reason)

    async def _record(
        self,
        session: AsyncSession,
        principal: Principal,
        resource: str,
        action: str,
        subject_id: str | None = None,
        *,
        outcome: Literal["granted", "denied"] = "granted",
        reason: str | None = None,
    ) -> None:
        subject = subject_id or f"audit-query:{uuid.uuid4()}"
        await self._access.record(
            session,
            principal.actor(),
            subject_id=subject,
            resource=resource,
            action=action,
            outcome=outcome,
            reason=reason,
        )
