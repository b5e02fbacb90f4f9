"""Notification's use cases: decide what the citizen is told about each lifecycle event."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from satupintu.common.consumer import UnitOfWork
from satupintu.common.events.envelope import Event
from satupintu.notification.storage.repository import DeliveryRepository
from satupintu.notification.storage.tables import DeliveryRecord

_logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


class NotificationService:
    """Records one delivery per lifecycle event; channels deliver them (the console channel for now)."""

    def __init__(self, clock: Clock = utc_now) -> None:
        self._clock = clock

    async def on_lifecycle_event(self, uow: UnitOfWork, event: Event[Any]) -> None:
        """Record that the citizen is told about ``event`` on the console channel."""
        DeliveryRepository(uow.session).add(
            DeliveryRecord(
                cause_event_id=event.id,
                channel="console",
                application_id=event.subject,
                template=event.type,
                language="id",
                status="sent",
                attempts=1,
                created_at=self._clock(),
            )
        )
        _logger.info("told the applicant of %s about %s", event.subject, event.type)
