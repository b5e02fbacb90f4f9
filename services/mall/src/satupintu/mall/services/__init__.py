"""The mall's use cases, one module per part of the issue: the queue, the survey, complaints, the consent ledger,
the performance board, and the projection of the application lifecycle that feeds them."""

from __future__ import annotations

from typing import Any

from satupintu.contract.base import EventPayload
from satupintu.contract.envelope import Event, event_source

SOURCE = event_source("mall")
ACTOR = "service:mall"


def new_event(payload: EventPayload, subject: str, actor: str) -> Event[Any]:
    """An event the mall starts (from an HTTP request or its own watch), published under ``subject``."""
    return Event(payload=payload, source=SOURCE, subject=subject, actor=actor)
