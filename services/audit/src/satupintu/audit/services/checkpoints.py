"""Signed checkpoints of the trail's Merkle tree: taken every interval while the log grows, and on demand. Reads
(exports, inclusion proofs) use the latest one and take none of their own, unless the latest does not cover what
they must show: every read is itself logged (``access.recorded``), so a read that checkpointed "the log now" would
sign a new checkpoint on nearly every request."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.audit.merkle import root_hash
from satupintu.audit.services.reading import read_tree
from satupintu.audit.signing import CheckpointSigner
from satupintu.audit.storage.repository import AuditRepository
from satupintu.audit.storage.tables import CheckpointRecord
from satupintu.common.clock import Clock, utc_now

_logger = logging.getLogger(__name__)


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
            root = await read_tree(repository, lambda node: root_hash(size, node))
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

    async def latest(self) -> CheckpointRecord:
        """The latest checkpoint; one is taken only when none has been yet."""
        async with self._sessions() as session, session.begin():
            latest = await AuditRepository(session).latest_checkpoint()
        return latest if latest is not None else await self.take()

    async def covering(self, seq: int) -> CheckpointRecord:
        """The latest checkpoint if it covers entry ``seq``; else a new one (the entry is newer than the latest)."""
        latest = await self.latest()
        return latest if latest.tree_size >= seq else await self.take()

    async def coverage(self) -> tuple[int, CheckpointRecord | None]:
        """How many entries the log holds, and its latest checkpoint (None before the first): what the metrics of
        checkpoint signing are made of."""
        async with self._sessions() as session:
            repository = AuditRepository(session)
            return await repository.size(), await repository.latest_checkpoint()

    async def run(self, interval: float) -> None:
        """Take a checkpoint every ``interval`` seconds until cancelled."""
        while True:
            try:
                await self.take()
            except Exception:
                _logger.exception("audit: taking a checkpoint failed; trying again in %.0fs", interval)
            await asyncio.sleep(interval)
