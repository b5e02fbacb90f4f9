"""Routing's Kafka subscriptions: which events it consumes and which use case each one calls."""

from __future__ import annotations

from satupintu.common.catalogue import Catalogue
from satupintu.common.runtime import ServiceRuntime
from satupintu.contract.applications import ApplicationInformationProvided, ApplicationSubmitted
from satupintu.contract.payments import PaymentConfirmed, PaymentExpired
from satupintu.contract.tasks import TaskClaimed, TaskDecided
from satupintu.contract.topics import Topic
from satupintu.routing.services import WorkflowService


def subscribe(runtime: ServiceRuntime, workflows: WorkflowService, catalogue: Catalogue) -> None:
    """Consume the application lifecycle (its payments included) and every agency's decisions."""
    decision_topics = [Topic.AGENCY_DECISIONS.name_for(code) for code in sorted(catalogue.agency_codes())]
    runtime.consume(
        Topic.APPLICATIONS.name_for(),
        *decision_topics,
        handlers={
            ApplicationSubmitted: workflows.on_submitted,
            ApplicationInformationProvided: workflows.on_information_provided,
            PaymentConfirmed: workflows.on_payment_confirmed,
            PaymentExpired: workflows.on_payment_expired,
            TaskClaimed: workflows.on_claimed,
            TaskDecided: workflows.on_decided,
        },
    )
