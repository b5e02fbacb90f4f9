"""Audit's use cases: append every event seen (one appender at a time, hash-chained, in the Merkle tree), take
signed checkpoints, and answer auditors' queries, proofs, verification and exports, each recorded as
``access.recorded``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, Literal, TypeVar

from aiokafka import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.audit import export
from satupintu.audit.domain import (
    GENESIS_HASH,
    AuditNotFound,
    AuditRuleError,
    ChainCheck,
    EventFilters,
    SealedEntry,
    TreeIncomplete,
    canonical_json,
    decode_cursor,
    encode_cursor,
    entry_document,
    happened_before_order,
    keyed_hash,
    redact,
    seal,
)
from satupintu.audit.merkle import (
    CompactRange,
    NodeSource,
    appended_nodes,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    nodes_needed,
    root_hash,
)
from satupintu.audit.signing import CheckpointSigner, KeyRing, SignedCheckpoint
from satupintu.audit.storage.repository import AuditRepository
from satupintu.audit.storage.tables import AuditEntry, CheckpointRecord
from satupintu.common.access_log import AccessLog
from satupintu.common.auth import Principal
from satupintu.common.clock import Clock, utc_now
from satupintu.common.events.envelope import EVENT_TYPES, EnvelopeError, event_source, from_record
from satupintu.common.events.topics import DLQ_SUFFIX
from satupintu.common.outbox import Outbox

SOURCE = event_source("audit")
UNRECORDABLE = "unrecordable"
T = TypeVar("T")
_logger = logging.getLogger(__name__)


async def _read_tree(repository: AuditRepository, compute: Callable[[NodeSource], T]) -> T:
    """Run a Merkle computation on the stored nodes it needs, fetched in one go."""
    wanted = nodes_needed(compute)
    found = await repository.nodes(wanted)
    missing = wanted - found.keys()
    if missing:
        raise TreeIncomplete(f"the stored Merkle tree lacks nodes {sorted(missing)[:5]}")
    return compute(lambda level, position: found[(level, position)])


def _stored_or_grown(known: dict[tuple[int, int], bytes], level: int, position: int) -> bytes:
    return known[(level, position)]


def sealed(entry: AuditEntry) -> SealedEntry:
    """A stored entry as the chain sees it."""
    return SealedEntry(
        document=entry_document(entry.model_dump()), prev_hash=entry.prev_hash, entry_hash=entry.entry_hash
    )


async def _inclusion_paths(repository: AuditRepository, seqs: Sequence[int], tree_size: int) -> list[list[bytes]]:
    """The audit paths of several entries in one tree, with one read of the nodes they need."""
    return await _read_tree(repository, lambda node: [inclusion_proof(seq - 1, tree_size, node) for seq in seqs])


def _inclusion_refusal(seq: int, tree_size: int, size: int) -> AuditRuleError | None:
    if tree_size < seq:
        return AuditRuleError("tree_size", f"A tree of {tree_size} entries does not hold entry {seq}.")
    if tree_size > size:
        return AuditRuleError("tree_size", f"The log holds {size} entries, fewer than {tree_size}.")
    return None


def _record_time(record: ConsumerRecord[bytes, bytes], fallback: datetime) -> datetime:
    timestamp = record.timestamp
    return datetime.fromtimestamp(timestamp / 1000, UTC) if timestamp and timestamp > 0 else fallback


class AuditService:
    """Appends what it sees on every topic; a record it cannot parse or store is logged as what it is."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        hash_key: bytes,
        clock: Clock = utc_now,
    ) -> None:
        self._sessions = sessions
        self._hash_key = hash_key
        self._clock = clock

    async def append_many(self, entries: Sequence[dict[str, Any]]) -> list[bool]:
        """Append entries (values without ``seq`` and hashes) in order, each unless its ``ce_id`` is logged; True
        for each one appended.

        The append lock makes this the only appender until the transaction ends, so ``seq`` has no gaps, each
        entry's ``prev_hash`` is the hash of the entry before, and the tree nodes it completes are stored with it.
        """
        outcomes: list[bool] = []
        async with self._sessions() as session, session.begin():
            repository = AuditRepository(session)
            await repository.lock_for_append()
            logged = await repository.logged_events({values["ce_id"] for values in entries})
            head = await repository.head()
            seq, prev_hash = head if head else (0, GENESIS_HASH)
            known: dict[tuple[int, int], bytes] = {}
            rows: list[dict[str, Any]] = []
            nodes: list[tuple[int, int, bytes]] = []
            for values in entries:
                if values["ce_id"] in logged:
                    outcomes.append(False)
                    continue
                logged.add(values["ce_id"])
                seq += 1
                row = {**values, "seq": seq}
                entry = seal(entry_document(row), prev_hash)
                rows.append({**row, "prev_hash": prev_hash, "entry_hash": entry.entry_hash})
                prev_hash = entry.entry_hash
                leaf = leaf_hash(bytes.fromhex(entry.entry_hash))
                index = seq - 1

                def grow(node: NodeSource, index: int = index, leaf: bytes = leaf) -> list[tuple[int, int, bytes]]:
                    return appended_nodes(index, leaf, node)

                wanted = nodes_needed(grow) - known.keys()
                if wanted:
                    known.update(await repository.nodes(wanted))
                    if missing := wanted - known.keys():
                        raise TreeIncomplete(f"the stored Merkle tree lacks nodes {sorted(missing)[:5]}")
                grown = grow(partial(_stored_or_grown, known))
                known.update({(level, position): digest for level, position, digest in grown})
                nodes.extend(grown)
                outcomes.append(True)
            await repository.insert_entries(rows)
            await repository.insert_nodes(nodes)
        return outcomes

    async def append(self, values: dict[str, Any]) -> bool:
        """Append one entry (values without ``seq`` and hashes) unless its ``ce_id`` is logged; True if appended."""
        [appended] = await self.append_many([values])
        return appended

    def entry_for(self, record: ConsumerRecord[bytes, bytes]) -> dict[str, Any]:
        """The entry a Kafka record becomes (without ``seq`` and hashes); personal data replaced by keyed hashes.
        A record whose content JSON cannot carry exactly (an unpaired surrogate) becomes an ``unrecordable`` entry."""
        try:
            values = self._entry(record, self._clock())
            canonical_json(entry_document({**values, "seq": 0}))
        except ValueError as inexact:
            _logger.warning(
                "audit: %s:%d@%d cannot be hashed exactly (%s)", record.topic, record.partition, record.offset, inexact
            )
            return self.unrecordable(record, f"{type(inexact).__name__}: {inexact}"[:500])
        return values

    def _entry(self, record: ConsumerRecord[bytes, bytes], now: datetime) -> dict[str, Any]:
        headers = {name: value.decode("utf-8", errors="replace") for name, value in record.headers or ()}
        value_sha256 = hashlib.sha256(record.value or b"").hexdigest()
        if record.topic.endswith(DLQ_SUFFIX):
            consumer = headers.get("dlq_consumer", "unknown")
            values = self._values(
                ce_id=f"dlq:{record.topic}:{record.partition}:{record.offset}",
                topic=record.topic,
                type="dead_letter",
                source=consumer,
                actor=f"service:{consumer}",
                application_id=headers.get("ce_subject"),
                subject=headers.get("ce_subject"),
                time=_record_time(record, now),
                recorded_at=now,
                payload={
                    "reason": headers.get("dlq_reason"),
                    "original": {
                        k: headers.get(k) for k in ("dlq_topic", "dlq_partition", "dlq_offset", "ce_id", "ce_type")
                    },
                    "value_sha256": value_sha256,
                },
            )
        else:
            try:
                event = from_record(record.headers, record.value, record.key)
            except EnvelopeError as invalid:
                values = self._values(
                    ce_id=f"invalid:{record.topic}:{record.partition}:{record.offset}",
                    topic=record.topic,
                    type="invalid",
                    source=headers.get("ce_source", "unknown"),
                    actor=headers.get("ce_actor", "unknown"),
                    application_id=headers.get("ce_subject"),
                    subject=headers.get("ce_subject"),
                    time=_record_time(record, now),
                    recorded_at=now,
                    payload={"reason": invalid.reason, "value_sha256": value_sha256},
                )
            else:
                payload, personal_hashes = redact(
                    event.payload.model_dump(mode="json"), EVENT_TYPES[event.type].personal_fields(), self._hash_key
                )
                values = self._values(
                    ce_id=event.id,
                    topic=record.topic,
                    type=event.type,
                    source=event.source,
                    actor=event.actor,
                    agency=getattr(event.payload, "agency", None),
                    application_id=getattr(event.payload, "application_id", None),
                    subject=event.subject,
                    correlation_id=event.correlation_id,
                    causation_id=event.causation_id,
                    time=event.time.astimezone(UTC),
                    recorded_at=now,
                    payload=payload,
                    personal_hashes=personal_hashes,
                )
        return values

    def unrecordable(self, record: ConsumerRecord[bytes, bytes], reason: str) -> dict[str, Any]:
        """The entry of a record the log cannot hold as it is: where it was, why, and its value's SHA-256."""
        now = self._clock()
        return self._values(
            ce_id=f"{UNRECORDABLE}:{record.topic}:{record.partition}:{record.offset}",
            topic=record.topic,
            type=UNRECORDABLE,
            source=SOURCE,
            actor="service:audit",
            time=_record_time(record, now),
            recorded_at=now,
            payload={"reason": reason, "value_sha256": hashlib.sha256(record.value or b"").hexdigest()},
        )

    @staticmethod
    def _values(**values: Any) -> dict[str, Any]:
        defaults: dict[str, Any] = {
            "agency": None,
            "application_id": None,
            "subject": None,
            "correlation_id": None,
            "causation_id": None,
            "personal_hashes": [],
        }
        return defaults | values


class CheckpointService:
    """Takes signed checkpoints of the tree: every ``interval`` while it grows, and on demand."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], signer: CheckpointSigner, clock: Clock = utc_now
    ) -> None:
        self._sessions = sessions
        self._signer = signer
        self._clock = clock

    async def take(self) -> CheckpointRecord:
        """A checkpoint of the whole log as it is now (the latest one when the log has not grown since)."""
        async with self._sessions() as session, session.begin():
            repository = AuditRepository(session)
            size = await repository.size()
            latest = await repository.latest_checkpoint()
            if latest is not None and latest.tree_size >= size:
                return latest
            root = await _read_tree(repository, lambda node: root_hash(size, node))
            signed = self._signer.sign(size, root.hex(), self._clock())
            record = CheckpointRecord(
                tree_size=signed.tree_size,
                root_hash=signed.root_hash,
                time=signed.time,
                key_id=signed.key_id,
                signature=signed.signature,
            )
            if await repository.add_checkpoint(record):
                return record
            existing = await repository.checkpoint(size)  # another instance took this one first
            if existing is None:
                raise RuntimeError(f"the checkpoint of {size} entries vanished")
            return existing

    async def run(self, interval: float) -> None:
        """Take a checkpoint every ``interval`` seconds until cancelled."""
        while True:
            try:
                await self.take()
            except Exception:
                _logger.exception("audit: taking a checkpoint failed; trying again in %.0fs", interval)
            await asyncio.sleep(interval)


def signed_checkpoint(record: CheckpointRecord) -> SignedCheckpoint:
    """A stored checkpoint as the signature sees it."""
    return SignedCheckpoint(
        tree_size=record.tree_size,
        root_hash=record.root_hash,
        time=record.time,
        key_id=record.key_id,
        signature=record.signature,
    )


@dataclass(frozen=True)
class EntryPage:
    """One page of a search and the cursor of the next (None on the last page)."""

    entries: Sequence[AuditEntry]
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

    async def take_checkpoint(self, principal: Principal, resource: str) -> CheckpointRecord:
        """A checkpoint of the log as it is now."""
        checkpoint = await self._checkpoints.take()
        async with self._sessions() as session, session.begin():
            await self._record(session, principal, resource, "checkpoint")
        return checkpoint

    async def inclusion(self, principal: Principal, seq: int, tree_size: int | None, resource: str) -> InclusionProof:
        """The proof that entry ``seq`` is in the tree of ``tree_size`` entries (default: the latest checkpoint's,
        taking a new checkpoint when none covers the entry yet)."""
        size_of_tree = tree_size if tree_size is not None else (await self._checkpoints.take()).tree_size
        async with self._sessions() as session, session.begin():
            repository = AuditRepository(session)
            entry = await repository.entry(seq)
            await self._record(session, principal, resource, "prove", entry.application_id if entry else None)
            size = await repository.size()
            refusal = _inclusion_refusal(seq, size_of_tree, size)
            if entry is not None and refusal is None:
                path, root = await _read_tree(
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
                proof, first_root, second_root = await _read_tree(
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
            return await self._verify(repository, size)

    async def _verify(self, repository: AuditRepository, size: int) -> Verification:
        check = _LogCheck(await repository.checkpoints_up_to(size), self._checkpoint_problem)
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

    def _checkpoint_problem(self, checkpoint: CheckpointRecord, root: bytes) -> str | None:
        """What is wrong with a stored checkpoint given the root the log has at its size: a root that differs, or a
        signature that is not one of the key ring's (whatever key id it names)."""
        if checkpoint.root_hash != root.hex():
            return (
                f"the checkpoint of {checkpoint.tree_size} entries does not match the log: an entry at or before "
                f"{checkpoint.tree_size} was rewritten together with its hashes"
            )
        return self._key_ring.problem(signed_checkpoint(checkpoint))

    async def export(self, principal: Principal, filters: EventFilters, resource: str) -> AsyncIterator[bytes]:
        """The entries matching ``filters`` as JSON Lines, each with its inclusion proof in a checkpoint taken now
        (see :mod:`satupintu.audit.export`)."""
        checkpoint = await self._checkpoints.take()
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
                paths = await _inclusion_paths(repository, [entry.seq for entry in batch], checkpoint.tree_size)
            for entry, path in zip(batch, paths, strict=True):
                yield export.entry_line(sealed(entry), checkpoint.tree_size, path)
            count += len(batch)
            after = batch[-1].seq
        yield export.end_line(count)

    async def record_denied(self, principal: Principal, resource: str, reason: str) -> None:
        """Record that ``principal`` was refused ``resource``."""
        async with self._sessions() as session, session.begin():
            await self._record(session, principal, resource, "read", outcome="denied", reason=reason)

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
