"""Every query audit makes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, or_, text, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from satupintu.audit.domain import EventFilters
from satupintu.audit.storage.tables import AuditEntry, CheckpointRecord, TreeNode

APPEND_LOCK_KEY = 0x5A7E_A0D0
"""The advisory lock one appender holds for its append transaction."""


class AuditRepository:
    """The audit log, its tree nodes and checkpoints, within the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock_for_append(self) -> None:
        """Wait until no other appender (in any instance) is appending; held until the transaction ends."""
        await self._session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK_KEY})

    async def head(self) -> tuple[int, str] | None:
        """The last entry's ``seq`` and hash, or None for an empty log."""
        statement = select(AuditEntry.seq, AuditEntry.entry_hash).order_by(col(AuditEntry.seq).desc()).limit(1)
        row = (await self._session.execute(statement)).first()
        return (int(row[0]), str(row[1])) if row else None

    async def size(self) -> int:
        """How many entries the log holds (its last ``seq``)."""
        return int((await self._session.execute(select(func.coalesce(func.max(AuditEntry.seq), 0)))).scalar_one())

    async def logged_events(self, ce_ids: Iterable[str]) -> set[str]:
        """Which of ``ce_ids`` have an entry in the log."""
        wanted = sorted(set(ce_ids))
        if not wanted:
            return set()
        statement = select(AuditEntry.ce_id).where(col(AuditEntry.ce_id).in_(wanted))
        return {str(ce_id) for ce_id in (await self._session.execute(statement)).scalars()}

    async def insert_entries(self, rows: Sequence[dict[str, Any]]) -> None:
        """Append entries (their ``seq`` and hashes already computed), in one statement."""
        if rows:
            await self._session.execute(insert(AuditEntry), list(rows))

    async def insert_nodes(self, nodes: Iterable[tuple[int, int, bytes]]) -> None:
        """Store tree nodes given as ``(level, position, hash)``."""
        rows = [{"level": level, "position": position, "hash": digest} for level, position, digest in nodes]
        if rows:
            await self._session.execute(insert(TreeNode).values(rows))

    async def nodes(self, coordinates: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The stored nodes at the given ``(level, position)``; missing ones are absent from the answer."""
        wanted = sorted(set(coordinates))
        found: dict[tuple[int, int], bytes] = {}
        for start in range(0, len(wanted), 1000):
            chunk = wanted[start : start + 1000]
            statement = select(TreeNode.level, TreeNode.position, TreeNode.hash).where(
                tuple_(col(TreeNode.level), col(TreeNode.position)).in_(chunk)
            )
            for level, position, digest in (await self._session.execute(statement)).all():
                found[(int(level), int(position))] = bytes(digest)
        return found

    async def entry(self, seq: int) -> AuditEntry | None:
        """The entry at ``seq``."""
        return (await self._session.execute(select(AuditEntry).where(AuditEntry.seq == seq))).scalar_one_or_none()

    async def search(
        self, filters: EventFilters, *, after_seq: int, limit: int, max_seq: int | None = None
    ) -> Sequence[AuditEntry]:
        """Entries matching ``filters`` after ``after_seq`` (up to ``max_seq``), in log order, at most ``limit``."""
        statement = select(AuditEntry).where(col(AuditEntry.seq) > after_seq)
        if max_seq is not None:
            statement = statement.where(col(AuditEntry.seq) <= max_seq)
        if filters.application_id is not None:
            statement = statement.where(
                or_(
                    col(AuditEntry.application_id) == filters.application_id,
                    col(AuditEntry.subject) == filters.application_id,
                )
            )
        if filters.agency is not None:
            statement = statement.where(AuditEntry.agency == filters.agency)
        if filters.type is not None:
            statement = statement.where(AuditEntry.type == filters.type)
        if filters.actor is not None:
            statement = statement.where(AuditEntry.actor == filters.actor)
        if filters.since is not None:
            statement = statement.where(col(AuditEntry.time) >= filters.since)
        if filters.until is not None:
            statement = statement.where(col(AuditEntry.time) <= filters.until)
        if filters.personal_hash is not None:
            statement = statement.where(col(AuditEntry.personal_hashes).contains([filters.personal_hash]))
        statement = statement.order_by(col(AuditEntry.seq)).limit(limit)
        return (await self._session.execute(statement)).scalars().all()

    async def for_application(self, application_id: str, limit: int) -> Sequence[AuditEntry]:
        """Every entry about ``application_id`` (its events and accesses to it), in log order, at most ``limit``."""
        statement = (
            select(AuditEntry)
            .where(or_(col(AuditEntry.application_id) == application_id, col(AuditEntry.subject) == application_id))
            .order_by(col(AuditEntry.seq))
            .limit(limit)
        )
        return (await self._session.execute(statement)).scalars().all()

    async def entries_with_leaves(
        self, after_seq: int, last_seq: int, limit: int
    ) -> Sequence[tuple[AuditEntry, bytes | None]]:
        """Entries after ``after_seq`` up to ``last_seq``, each with the Merkle leaf stored when it was appended."""
        statement = (
            select(AuditEntry, TreeNode.hash)
            .outerjoin(TreeNode, (col(TreeNode.level) == 0) & (col(TreeNode.position) == col(AuditEntry.seq) - 1))
            .where(col(AuditEntry.seq) > after_seq, col(AuditEntry.seq) <= last_seq)
            .order_by(col(AuditEntry.seq))
            .limit(limit)
        )
        rows = (await self._session.execute(statement)).all()
        return [(entry, bytes(leaf) if leaf is not None else None) for entry, leaf in rows]

    async def add_checkpoint(self, checkpoint: CheckpointRecord) -> bool:
        """Store a checkpoint unless one of the same tree size exists; True if stored."""
        statement = (
            insert(CheckpointRecord)
            .values(**checkpoint.model_dump())
            .on_conflict_do_nothing(index_elements=["tree_size"])
            .returning(col(CheckpointRecord.tree_size))
        )
        return (await self._session.execute(statement)).scalar_one_or_none() is not None

    async def checkpoint(self, tree_size: int) -> CheckpointRecord | None:
        """The checkpoint of ``tree_size``, if one was taken."""
        statement = select(CheckpointRecord).where(CheckpointRecord.tree_size == tree_size)
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def latest_checkpoint(self) -> CheckpointRecord | None:
        """The checkpoint of the largest tree."""
        statement = select(CheckpointRecord).order_by(col(CheckpointRecord.tree_size).desc()).limit(1)
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def checkpoints_before(self, before_size: int | None, limit: int) -> Sequence[CheckpointRecord]:
        """At most ``limit`` checkpoints of fewer than ``before_size`` entries (any, when None), largest first."""
        statement = select(CheckpointRecord)
        if before_size is not None:
            statement = statement.where(col(CheckpointRecord.tree_size) < before_size)
        statement = statement.order_by(col(CheckpointRecord.tree_size).desc()).limit(limit)
        return (await self._session.execute(statement)).scalars().all()

    async def checkpoints_up_to(self, tree_size: int) -> Sequence[CheckpointRecord]:
        """Every checkpoint of at most ``tree_size`` entries, smallest first."""
        statement = (
            select(CheckpointRecord)
            .where(col(CheckpointRecord.tree_size) <= tree_size)
            .order_by(col(CheckpointRecord.tree_size))
        )
        return (await self._session.execute(statement)).scalars().all()
