"""The clock every service reads the time from: a callable, so tests pass a fixed or advancing one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""What tells the current time (timezone-aware); ``utc_now`` in production, a fake in tests."""


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)
