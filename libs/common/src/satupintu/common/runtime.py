"""The per-process context of a service: its settings, its one engine, its one broker (one producer), its outbox
and relay, and its consumers, started and stopped together by the HTTP app's lifespan.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from satupintu.common.broker import DeadLetterProducer, broker_ready, create_broker
from satupintu.common.catalogue import load_catalogue
from satupintu.common.citizen_keys import KeyTopicConsumer, OnDestroyed, ReaderKeyRing
from satupintu.common.consumer import PARKED_RETRIES_PER_PASS, EventConsumer, Handler, RetryPolicy
from satupintu.common.consuming import RecordConsumer, consumers_ready
from satupintu.common.database import create_engine, database_ready, session_factory
from satupintu.common.health import ReadinessCheck
from satupintu.common.logs import configure_logging
from satupintu.common.metrics import ServiceMetrics
from satupintu.common.migrations import ServiceSchema, check_at_head
from satupintu.common.outbox import Outbox, OutboxRelay
from satupintu.common.parking import parked_counts
from satupintu.common.settings import ServiceSettings
from satupintu.common.stopping import finish_by
from satupintu.common.topics_admin import ensure_topics
from satupintu.common.tracing import configure_tracing
from satupintu.contract.base import EventPayload
from satupintu.contract.topics import all_topic_names, key_topic_names, reader_topic

_M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's malloc.h
_logger = logging.getLogger(__name__)


@dataclass
class ServiceRuntime:
    """One service process's shared resources.

    ``needs_broker`` says whether the service can do its work without Kafka: intake can (its outbox holds what it
    accepts), so it starts and stays ready while the broker is down.
    """

    name: str
    settings: ServiceSettings
    needs_broker: bool = True
    schema: ServiceSchema = field(kw_only=True)
    engine: AsyncEngine = field(init=False)
    sessions: async_sessionmaker[AsyncSession] = field(init=False)
    broker: KafkaBroker = field(init=False)
    dead_letters: DeadLetterProducer = field(init=False)
    outbox: Outbox = field(init=False)
    relay: OutboxRelay = field(init=False)
    metrics: ServiceMetrics = field(init=False)
    consumers: list[RecordConsumer[Any]] = field(init=False, default_factory=list)
    stopped_in_time: bool | None = field(init=False, default=None)
    """After :meth:`stop`: whether everything stopped before the deadline (False: something was abandoned)."""
    _start_hooks: list[Callable[[], None]] = field(init=False, default_factory=list)
    _metric_refreshers: list[Callable[[], Awaitable[None]]] = field(init=False, default_factory=list)
    _background: set[asyncio.Task[None]] = field(init=False, default_factory=set)
    _stopping: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        configure_tracing(self.name, self.settings.tracing_exporter)
        self.metrics = ServiceMetrics(self.name)
        self.engine = create_engine(self.settings.database, self.name)
        self.sessions = session_factory(self.engine)
        self.broker = create_broker(self.settings.kafka, self.name, self.metrics.registry)
        self.dead_letters = DeadLetterProducer(self.settings.kafka, self.name)
        self.outbox = Outbox(self.settings.kafka)
        self.on_metrics(self._measure_parked)
        self.on_metrics(self._measure_consumer_lag)
        self.relay = OutboxRelay(
            self.settings.database.service_url(self.name, driver="postgresql"),
            self.broker,
            name=f"{self.name}-relay",
            metrics=self.metrics,
        )
        self.outbox.local_relay = self.relay

    def consume(
        self,
        *logical_topics: str,
        handlers: Mapping[type[EventPayload], Handler],
        name: str | None = None,
        retry: RetryPolicy | None = None,
        partition_fetch_bytes: int | None = None,
        gather: bool = False,
    ) -> EventConsumer:
        """Register a consumer of ``logical_topics`` (inbox, outbox and dead letters included), fetching at most
        ``partition_fetch_bytes`` ahead per partition (the settings' ``partition_fetch_bytes`` by default);
        ``gather`` for a consumer off the first-task path (bigger batches under load, at most ``gather_ms`` later)."""
        consumer = EventConsumer(
            name=name or self.name,
            sessions=self.sessions,
            outbox=self.outbox,
            broker=self.broker,
            kafka=self.settings.kafka,
            handlers=handlers,
            retry=retry,
            metrics=self.metrics,
            dead_letters=self.dead_letters,
        )
        consumer.subscribe(*logical_topics, partition_fetch_bytes=partition_fetch_bytes, gather=gather)
        self.consumers.append(consumer)
        return consumer

    async def _measure_parked(self) -> None:
        names = [consumer.name for consumer in self.consumers if isinstance(consumer, EventConsumer)]
        async with self.sessions() as session:
            for name, count in (await parked_counts(session, names)).items():
                self.metrics.parked_events.labels(name).set(count)

    async def _measure_consumer_lag(self) -> None:
        for consumer in self.consumers:
            await consumer.measure_lag()

    def keep_citizen_keys(
        self, readers: Sequence[str], *, private_keys_dir: Path | None, on_destroyed: OnDestroyed | None = None
    ) -> ReaderKeyRing:
        """Keep the citizens' keys wrapped for ``readers`` as they arrive on their key topics (and delete them on
        their tombstones, with ``on_destroyed`` for what else only that key opens); the ring that opens values with
        them (decision 0016)."""
        ring = ReaderKeyRing.load(
            self.sessions, readers, private_keys_dir=private_keys_dir, development_keys_dir=self.settings.auth.keys_dir
        )
        consumer = KeyTopicConsumer(
            name=f"{self.name}-keys",
            sessions=self.sessions,
            readers=readers,
            broker=self.broker,
            kafka=self.settings.kafka,
            metrics=self.metrics,
            dead_letters=self.dead_letters,
            on_destroyed=on_destroyed,
            ring=ring,
        )
        consumer.subscribe(
            *[reader_topic(reader) for reader in readers],
            description="Citizens' keys wrapped for this service (a tombstone destroys one): decision 0016.",
        )
        self.consumers.append(consumer)
        return ring

    def on_start(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` when the service starts (its database checked at head), e.g. to spawn a periodic job."""
        self._start_hooks.append(hook)

    def on_metrics(self, refresh: Callable[[], Awaitable[None]]) -> None:
        """Run ``refresh`` before each ``/metrics`` scrape, e.g. to set a gauge from the database."""
        self._metric_refreshers.append(refresh)

    async def refresh_metrics(self) -> None:
        """Bring database-backed gauges up to date (a failure leaves the last values)."""
        for refresh in self._metric_refreshers:
            try:
                await refresh()
            except Exception:
                _logger.exception("refreshing metrics failed")

    def readiness_checks(self) -> Mapping[str, ReadinessCheck]:
        """The dependencies ``/readyz`` reports on."""
        checks: dict[str, ReadinessCheck] = {"database": lambda: database_ready(self.engine)}
        if self.needs_broker:
            checks["kafka"] = lambda: broker_ready(self.broker)
        if self.consumers:
            checks["consumers"] = self._consumers_ready
        return checks

    async def _consumers_ready(self) -> bool | str:
        blocked = consumers_ready(self.consumers)
        return blocked if blocked else True

    async def start(self) -> None:
        """Check the database is at the schema's head (``migrate`` creates the tables, never the service), then
        start the topics and consumers, then the outbox relay."""
        await check_at_head(self.engine, self.schema)
        for consumer in self.consumers:
            if isinstance(consumer, EventConsumer):
                what = f"{consumer.name}: retrying parked events"
                interval = consumer.retry.parked_poll_seconds
                self.spawn(run_periodically(what, consumer.retry_parked, interval, PARKED_RETRIES_PER_PASS))
        if self.needs_broker:
            await self._start_broker()
        else:
            self.spawn(self._start_broker_eventually())
        for hook in self._start_hooks:
            hook()

    async def stop(self) -> None:
        """Stop background work, then the broker (consumers finish the batch in hand), then the engine, all within
        ``stop_timeout_seconds``: past it, what is left is cancelled and abandoned, so stopping never hangs."""
        deadline = asyncio.get_running_loop().time() + self.settings.stop_timeout_seconds
        self._stopping = True
        for task in self._background:
            task.cancel()
        self.stopped_in_time = all(
            [
                await finish_by(deadline, "background work", *self._background),
                await finish_by(deadline, "the broker", asyncio.ensure_future(self.broker.stop())),
                await finish_by(deadline, "the dead letters", asyncio.ensure_future(self.dead_letters.stop())),
                await finish_by(deadline, "the database pool", asyncio.ensure_future(self.engine.dispose())),
            ]
        )

    @asynccontextmanager
    async def lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        """Run the service's resources for the life of the HTTP app."""
        await self.start()
        try:
            yield
        finally:
            await self.stop()

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run ``coroutine`` for the life of the process; it is cancelled when the service stops. Once stopping has
        begun nothing new starts: a start-up step still finishing (the broker connecting late, a cancellation
        swallowed by a library) would otherwise spawn work nobody cancels, such as an outbox relay holding the
        leadership of a database after its broker has stopped."""
        if self._stopping:
            coroutine.close()
            _logger.info("%s is stopping: not starting %s", self.name, getattr(coroutine, "__qualname__", coroutine))
            return
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _start_broker(self) -> None:
        if self.settings.kafka.create_topics:
            codes = load_catalogue().agency_codes()
            await ensure_topics(self.settings.kafka, [*all_topic_names(codes), *key_topic_names(codes)])
        await self.broker.start()
        self.spawn(self.relay.run())

    async def _start_broker_eventually(self) -> None:
        delay = 0.5
        while True:
            try:
                await self._start_broker()
            except Exception as unavailable:
                _logger.warning("kafka unavailable (%r), retrying in %.1fs", unavailable, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
            else:
                return


async def run_periodically(
    what: str, check_once: Callable[[], Awaitable[int]], interval: float, batch_size: int
) -> None:
    """Run a periodic check (SLA watches) until cancelled: every ``interval`` seconds, and again at once while a
    run handled a full batch (more is waiting); a failure is logged and retried at the next interval."""
    while True:
        try:
            while await check_once() >= batch_size:
                pass
        except Exception:
            _logger.exception("%s failed; trying again in %.0fs", what, interval)
        await asyncio.sleep(interval)


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas. Each thread that allocates gets an arena of its own (up to eight per core), and the
    worker threads of asyncio and anyio then hold memory the event loop's thread cannot reuse; two arenas keep a
    service's resident memory about 6 MB lower here at no measurable cost. Not glibc (musl, macOS): nothing to do."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(_M_ARENA_MAX, arenas)


def lower_cpu_priority(niceness: int) -> None:
    """Give every thread of this process at least ``niceness`` (Linux sets it per thread; threads made later
    inherit it). Never raises priority, which needs privileges: a thread already nicer is left as it is."""
    try:
        threads = [int(thread) for thread in os.listdir("/proc/self/task")]
    except OSError:
        threads = [0]
    for thread in threads:
        try:
            if os.getpriority(os.PRIO_PROCESS, thread) < niceness:
                os.setpriority(os.PRIO_PROCESS, thread, niceness)
        except OSError:
            pass  # the thread ended meanwhile, or the platform has no per-thread priority


def serve(service: str, app: FastAPI, settings: ServiceSettings) -> None:
    """Run ``app`` under uvicorn on the configured address, logging structured JSON. Asked to stop (SIGTERM,
    SIGINT), the process exits 0 once everything stopped in time, 1 if something had to be abandoned."""
    lower_cpu_priority(settings.cpu_niceness)
    limit_malloc_arenas()
    configure_logging(service, settings.log_level)
    runtime: ServiceRuntime | None = getattr(app.state, "runtime", None)

    def exit_after_stopping(_signum: int, _frame: object) -> None:
        # uvicorn handles the signal itself (a graceful shutdown), then raises it again under the handlers it
        # found at start: these, instead of the default that ends the process as killed by the signal
        raise SystemExit(0 if runtime is None or runtime.stopped_in_time is not False else 1)

    signal.signal(signal.SIGTERM, exit_after_stopping)
    signal.signal(signal.SIGINT, exit_after_stopping)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_config=None,
        access_log=False,
        # Open connections get this long to finish after SIGTERM; then the lifespan stops the rest (bounded too).
        timeout_graceful_shutdown=max(1, int(settings.stop_timeout_seconds / 4)),
    )
