"""Appending to the trail: drafts take their place in the log one appender at a time, hash-chained, with the Merkle
tree nodes they complete. One path appends, whether one draft or a batch."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.audit.domain import GENESIS_HASH, EntryDraft, TreeIncomplete, seal_drafts
from satupintu.audit.merkle import NodeSource, appended_nodes, leaf_hash, nodes_needed
from satupintu.audit.storage.repository import AuditRepository


def _stored_or_grown(known: dict[tuple[int, int], bytes], level: int, position: int) -> bytes:
    return known[(level, position)]


class AuditService:
    """Appends drafts of what was seen on every topic, each event once (the consumer's
    :class:`~satupintu.audit.recording.EntryReader` makes them from records)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def append_many(self, drafts: Sequence[EntryDraft]) -> list[bool]:
        """Append ``drafts`` in order, each unless its ``ce_id`` is logged; True for each one appended.

        The append lock makes this the only appender until the transaction ends, so ``seq`` has no gaps, each
        entry's ``prev_hash`` is the hash of the entry before, and the tree nodes it completes are stored with it.
        """
        async with self._sessions() as session, session.begin():
            repository = AuditRepository(session)
            await repository.lock_for_append()
            logged = await repository.logged_events({draft.ce_id for draft in drafts})
            outcomes: list[bool] = []
            fresh: list[EntryDraft] = []
            for draft in drafts:
                appended = draft.ce_id not in logged
                outcomes.append(appended)
                if appended:
                    logged.add(draft.ce_id)
                    fresh.append(draft)
            head = await repository.head()
            seq, prev_hash = head if head else (0, GENESIS_HASH)
            entries = seal_drafts(fresh, seq, prev_hash)
            nodes = await self._grown_nodes(repository, seq, [entry.entry_hash for entry in entries])
            rows: list[dict[str, Any]] = [
                {**draft.values(), "seq": entry.seq, "prev_hash": entry.prev_hash, "entry_hash": entry.entry_hash}
                for draft, entry in zip(fresh, entries, strict=True)
            ]
            await repository.insert_entries(rows)
            await repository.insert_nodes(nodes)
        return outcomes

    async def append(self, draft: EntryDraft) -> bool:
        """Append one draft unless its ``ce_id`` is logged (:meth:`append_many` of one); True if appended."""
        [appended] = await self.append_many([draft])
        return appended

    @staticmethod
    async def _grown_nodes(
        repository: AuditRepository, after_seq: int, entry_hashes: Sequence[str]
    ) -> list[tuple[int, int, bytes]]:
        """The tree nodes that the entries with ``entry_hashes``, appended after entry ``after_seq``, complete."""
        known: dict[tuple[int, int], bytes] = {}
        nodes: list[tuple[int, int, bytes]] = []
        for index, entry_hash in enumerate(entry_hashes, start=after_seq):
            leaf = leaf_hash(bytes.fromhex(entry_hash))

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
        return nodes
