"""What the mall's browser tests share beyond satupintu.devtools.testing.browser: a clock set where a test wants it,
and a free port to serve the mall at (known before the app is built, to register it with Keycloak)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from satupintu.devtools.testing.browser import CHROMIUM_ARGS, SCREENSHOTS, chromium, free_port, serving

__all__ = ["CHROMIUM_ARGS", "SCREENSHOTS", "Clock", "chromium", "free_port", "serving"]


class Clock:
    """The mall's clock in a browser test: it runs with the real one, set where the test wants it (a morning at the
    counters, then late morning, whatever the real time of day)."""

    def __init__(self, now: datetime) -> None:
        self.offset = timedelta(0)
        self.set(now)

    def set(self, now: datetime) -> None:
        self.offset = now - datetime.now(UTC)

    def advance(self, by: timedelta) -> None:
        self.offset += by

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset
