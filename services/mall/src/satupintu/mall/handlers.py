"""The mall's Kafka subscriptions: the application lifecycle and its fee's bill feed its projection (board, survey
invitations, consent uses); issued and revoked documents feed the counter's pickups."""

from __future__ import annotations

from satupintu.common.runtime import ServiceRuntime
from satupintu.contract.applications import (
    ApplicationCancelled,
    ApplicationCompleted,
    ApplicationRejected,
    ApplicationSlaBreached,
    ApplicationSubmitted,
)
from satupintu.contract.documents import DocumentIssued, DocumentRevoked
from satupintu.contract.payments import PaymentBilled, PaymentCancelled, PaymentConfirmed, PaymentExpired
from satupintu.contract.topics import Topic
from satupintu.mall.services.pickups import PickupService
from satupintu.mall.services.projection import ApplicationProjection


def subscribe(runtime: ServiceRuntime, projection: ApplicationProjection, pickups: PickupService) -> None:
    """Consume submissions, completions, rejections, cancellations, SLA breaches, bills and their payment, expiry
    or withdrawal, and issued and revoked documents from the ``applications`` topic (one consumer group)."""
    runtime.consume(
        Topic.APPLICATIONS.name_for(),
        gather=True,
        handlers={
            ApplicationSubmitted: projection.on_submitted,
            ApplicationCompleted: projection.on_completed,
            ApplicationRejected: projection.on_rejected,
            ApplicationCancelled: projection.on_cancelled,
            ApplicationSlaBreached: projection.on_sla_breached,
            PaymentBilled: projection.on_billed,
            PaymentConfirmed: projection.on_confirmed,
            PaymentExpired: projection.on_expired,
            PaymentCancelled: projection.on_payment_cancelled,
            DocumentIssued: pickups.on_issued,
            DocumentRevoked: pickups.on_revoked,
        },
    )
