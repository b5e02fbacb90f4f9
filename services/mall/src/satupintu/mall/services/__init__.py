"""The mall's use cases, one module per part of the issue: the queue, the survey, complaints, the consent ledger,
the performance board, and the projection of the application lifecycle that feeds them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from satupintu.common.events.base import EventPayload
from satupintu.common.events.envelope import Event

SOURCE = "/satupintu/mall"
ACTOR = "service:mall"

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def new_event(payload: EventPayload, subject: str, actor: str) -> Event[Any]:
    """An event the mall starts (from an HTTP request or its own watch), published under ``subject``."""
    return Event(payload=payload, source=SOURCE, subject=subject, actor=actor)
