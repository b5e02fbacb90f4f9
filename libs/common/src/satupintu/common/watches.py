"""A watch: a check that runs every few seconds until cancelled, each run in its own transaction, marking what is due
and publishing through the outbox (the SLA watches of routing and the mall)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.catalogue import Catalogue
from satupintu.common.clock import Clock
from satupintu.common.outbox import Outbox
from satupintu.common.runtime import run_periodically


class Watch(ABC):
    """What a watch works with (sessions, outbox, catalogue, clock) and how it runs: ``check_once`` every
    ``interval`` seconds, and again at once while a run handled a full batch."""

    what: ClassVar[str]
    """What the logs call the check when it fails."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        catalogue: Catalogue,
        clock: Clock,
        *,
        interval: float,
        batch_size: int = 200,
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._catalogue = catalogue
        self._clock = clock
        self._interval = interval
        self._batch_size = batch_size

    async def run(self) -> None:
        """Check every ``interval`` seconds until cancelled."""
        await run_periodically(self.what, self.check_once, self._interval, self._batch_size)

    @abstractmethod
    async def check_once(self) -> int:
        """Mark and announce what is late now; how many (a full batch means more may be waiting)."""
