"""The per-process context of a service: its settings, its one engine and its one broker, started and stopped
together by the HTTP app's lifespan.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncEngine

from satupintu.common.broker import broker_ready, create_broker
from satupintu.common.database import create_engine, database_ready
from satupintu.common.health import ReadinessCheck
from satupintu.common.settings import ServiceSettings

_logger = logging.getLogger(__name__)


@dataclass
class ServiceRuntime:
    """One service process's shared resources.

    ``needs_broker`` says whether the service can do its work without Kafka: intake can (its outbox holds what it
    accepts), so its readiness does not depend on the broker.
    """

    name: str
    settings: ServiceSettings
    needs_broker: bool = True
    engine: AsyncEngine = field(init=False)
    broker: KafkaBroker = field(init=False)
    _background: set[asyncio.Task[None]] = field(init=False, default_factory=set)

    def __post_init__(self) -> None:
        self.engine = create_engine(self.settings.database, self.name)
        self.broker = create_broker(self.settings.kafka, self.name)

    def readiness_checks(self) -> Mapping[str, ReadinessCheck]:
        """The dependencies ``/readyz`` reports on."""
        checks: dict[str, ReadinessCheck] = {"database": lambda: database_ready(self.engine)}
        if self.needs_broker:
            checks["kafka"] = lambda: broker_ready(self.broker)
        return checks

    @asynccontextmanager
    async def lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        """Start the broker with the app and stop both broker and engine with it.

        A service that needs the broker does not start without it; one that does not keeps retrying in the
        background while it serves.
        """
        if self.needs_broker:
            await self.broker.start()
        else:
            self.spawn(self._start_broker_eventually())
        try:
            yield
        finally:
            for task in self._background:
                task.cancel()
            await asyncio.gather(*self._background, return_exceptions=True)
            await self.broker.stop()
            await self.engine.dispose()

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run ``coroutine`` for the life of the process; it is cancelled when the app stops."""
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _start_broker_eventually(self) -> None:
        delay = 0.5
        while True:
            try:
                await self.broker.start()
            except Exception:
                _logger.warning("kafka unavailable, retrying in %.1fs", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
            else:
                return


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Run ``app`` under uvicorn on the configured address."""
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level, access_log=False)
