"""The mall's Kafka subscriptions: the application lifecycle feeds its projection (board, survey invitations,
consent uses)."""

from __future__ import annotations

from satupintu.common.runtime import ServiceRuntime
from satupintu.contract.applications import (
    ApplicationCompleted,
    ApplicationRejected,
    ApplicationSlaBreached,
    ApplicationSubmitted,
)
from satupintu.contract.topics import Topic
from satupintu.mall.services.projection import ApplicationProjection


def subscribe(runtime: ServiceRuntime, projection: ApplicationProjection) -> None:
    """Consume submissions, completions, rejections and SLA breaches from the ``applications`` topic."""
    runtime.consume(
        Topic.APPLICATIONS.name_for(),
        handlers={
            ApplicationSubmitted: projection.on_submitted,
            ApplicationCompleted: projection.on_completed,
            ApplicationRejected: projection.on_rejected,
            ApplicationSlaBreached: projection.on_sla_breached,
        },
    )
