"""Notification's Kafka subscriptions."""

from __future__ import annotations

from satupintu.common.events.applications import (
    ApplicationCompleted,
    ApplicationInformationRequested,
    ApplicationRejected,
    ApplicationSlaBreached,
    ApplicationSubmitted,
)
from satupintu.common.events.topics import Topic
from satupintu.common.runtime import ServiceRuntime
from satupintu.notification.services import NotificationService


def subscribe(runtime: ServiceRuntime, notifications: NotificationService) -> None:
    """Consume the lifecycle events a citizen is told about."""
    tell = notifications.on_lifecycle_event
    runtime.consume(
        Topic.APPLICATIONS.name_for(),
        handlers={
            ApplicationSubmitted: tell,
            ApplicationInformationRequested: tell,
            ApplicationCompleted: tell,
            ApplicationRejected: tell,
            ApplicationSlaBreached: tell,
        },
    )
