"""Waiting in tests: poll a condition until a deadline, never sleep a fixed time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class DeadlineExceeded(AssertionError):
    """The condition did not hold before the deadline; the message says what was awaited and the last value."""


async def eventually(
    probe: Callable[[], Awaitable[T]],
    condition: Callable[[T], bool] = bool,
    *,
    timeout: float = 30.0,  # noqa: ASYNC109 (a deadline for polling, not a cancellation scope)
    interval: float = 0.05,
    what: str = "condition",
) -> T:
    """Call ``probe`` until ``condition`` holds for its result, and return that result; fail at the deadline."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while True:
        last = await probe()
        if condition(last):
            return last
        if time.monotonic() >= deadline:
            raise DeadlineExceeded(f"{what} did not hold within {timeout:.0f}s; last value: {last!r}")
        await asyncio.sleep(interval)
