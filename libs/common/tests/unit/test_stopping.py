"""A service always stops: the outbox relay ends when it is cancelled, even in the very loop step its wake-up
arrives, and stopping gives up on whatever still runs at the deadline instead of waiting for it forever."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from faststream.kafka import KafkaBroker

from satupintu.common.migrations import ServiceSchema
from satupintu.common.outbox import OutboxRelay
from satupintu.common.runtime import ServiceRuntime
from satupintu.common.settings import ServiceSettings
from satupintu.common.stopping import finish_by

pytestmark = pytest.mark.unit


class IdleOutboxConnection:
    """An asyncpg connection to a database whose outbox is empty: the relay leads, finds nothing, and waits."""

    def __init__(self) -> None:
        self.notify: Callable[..., None] | None = None
        self.read_empty = asyncio.Event()

    async def fetchval(self, query: str, *args: Any) -> bool:
        return True  # the advisory lock is ours

    async def add_listener(self, channel: str, callback: Callable[..., None]) -> None:
        self.notify = callback

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        self.read_empty.set()
        return []


async def test_the_relay_stops_when_cancelled_in_the_same_step_as_a_notify_wakes_it() -> None:
    # On Python 3.11, asyncio.wait_for returned the wake-up instead of raising the cancellation here, and the relay
    # went on relaying while its service waited for it to stop: forever.
    connection = IdleOutboxConnection()
    relay = OutboxRelay("postgresql://unused", KafkaBroker(), poll_interval=30.0)
    leading = asyncio.create_task(relay._lead(connection))
    await connection.read_empty.wait()  # the relay found nothing and waits for a NOTIFY
    assert connection.notify is not None
    connection.notify(None, 0, "satupintu_outbox", "")
    leading.cancel()
    await asyncio.wait({leading}, timeout=5)
    assert leading.cancelled(), "the relay went on after its cancellation"


async def test_stopping_abandons_a_task_that_ignores_its_cancellation_at_the_deadline() -> None:
    release, waiting = asyncio.Event(), asyncio.Event()
    cancellations = 0

    async def stubborn() -> None:
        nonlocal cancellations
        waiting.set()
        while not release.is_set():
            try:
                await release.wait()
            except asyncio.CancelledError:
                cancellations += 1

    task = asyncio.create_task(stubborn())
    await waiting.wait()
    task.cancel()
    loop = asyncio.get_running_loop()
    try:
        finished = await finish_by(loop.time() + 0.2, "a stubborn task", task)
        assert finished is False
        assert not task.done()
        assert cancellations >= 1  # it was asked, and said no
    finally:
        release.set()
        await task


async def test_stopping_waits_for_tasks_that_finish_in_time() -> None:
    done = asyncio.Event()

    async def quick() -> None:
        done.set()

    loop = asyncio.get_running_loop()
    assert await finish_by(loop.time() + 5, "quick work", asyncio.create_task(quick())) is True
    assert done.is_set()


async def test_work_a_late_start_up_step_spawns_once_stopping_began_never_runs() -> None:
    runtime = ServiceRuntime(
        "probe",
        ServiceSettings(stop_timeout_seconds=2),
        needs_broker=False,
        schema=ServiceSchema("probe", tables=[]),
    )
    started = asyncio.Event()
    spawned_late: list[Coroutine[Any, Any, None]] = []

    ran: list[bool] = []

    async def relay() -> None:
        ran.append(True)

    async def late_start_up() -> None:
        started.set()
        with contextlib.suppress(asyncio.CancelledError):  # swallowed on the way, as a library may
            await asyncio.Event().wait()
        spawned_late.append(relay())
        runtime.spawn(spawned_late[0])

    runtime.spawn(late_start_up())
    await started.wait()
    await runtime.stop()

    [late] = spawned_late
    assert ran == []
    assert inspect.getcoroutinestate(late) == inspect.CORO_CLOSED, "closed unstarted, never scheduled as a task"
    assert runtime.stopped_in_time is True
