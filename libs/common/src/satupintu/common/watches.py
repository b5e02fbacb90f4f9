"""A watch: a check that runs every few seconds until cancelled, each run in its own transaction, marking what is due
and publishing through the outbox (the SLA watches of routing and the mall)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.catalogue import Catalogue
from satupintu.common.clock import Clock
from satupintu.common.outbox import Outbox
from satupintu.common.runtime import run_periodically


@dataclass
class Watch(ABC):
    """What a watch works with and how it runs: ``check_once`` every ``interval`` seconds, and again at once while
    a run handled a full batch (more is waiting)."""

    what: ClassVar[str]
    """What the logs call the check when it fails."""

    sessions: async_sessionmaker[AsyncSession]
    outbox: Outbox
    catalogue: Catalogue
    clock: Clock
    interval: float
    batch_size: int = 200

    async def run(self) -> None:
        """Check every ``interval`` seconds until cancelled."""
        await run_periodically(self.what, self.check_once, self.interval, self.batch_size)

    @abstractmethod
    async def check_once(self) -> int:
        """Mark and announce what is late now; how many (a full batch means more may be waiting)."""
