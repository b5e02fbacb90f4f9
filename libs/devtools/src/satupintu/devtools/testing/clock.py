"""A clock the test moves: what a service's ``clock`` parameter is given in tests, so that due dates, expiries and
windows pass without waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class SettableClock:
    """Answers ``now`` (the real time when built without one) until the test sets or advances it."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime.now(UTC)

    def __call__(self) -> datetime:
        """The time the test set."""
        return self.now

    def set(self, now: datetime) -> None:
        """From now on, answer ``now``."""
        self.now = now

    def advance(self, by: timedelta) -> None:
        """Move the time forward by ``by``."""
        self.now += by
