"""The desk's Kafka subscriptions: every agency's tasks topic (its task inbox, with routing's answers to the
agencies' decisions) and every agency's decisions topic (to hold tasks an agency's own system decided until routing
answers, and to record cross-agency attempts)."""

from __future__ import annotations

import logging

from satupintu.agency.services import DeskService
from satupintu.common.catalogue import Catalogue
from satupintu.common.runtime import ServiceRuntime
from satupintu.contract.tasks import (
    TaskAssigned,
    TaskClaimed,
    TaskDecided,
    TaskDecisionAccepted,
    TaskDecisionRefused,
    TaskSlaBreached,
    TaskWithdrawn,
)
from satupintu.contract.topics import Topic

TASK_INBOX_CONSUMER = "agency-desk"
DECISIONS_WATCH_CONSUMER = "agency-watch"
_logger = logging.getLogger(__name__)


def subscribe(runtime: ServiceRuntime, desk: DeskService, catalogue: Catalogue) -> None:
    """Keep the task inbox from every agency's tasks topic and watch every agency's decisions topic."""
    codes = sorted(catalogue.agency_codes())
    runtime.consume(
        *[Topic.AGENCY_TASKS.name_for(code) for code in codes],
        handlers={
            TaskAssigned: desk.on_assigned,
            TaskWithdrawn: desk.on_withdrawn,
            TaskSlaBreached: desk.on_sla_breached,
            TaskDecisionAccepted: desk.on_decision_accepted,
            TaskDecisionRefused: desk.on_decision_refused,
        },
        name=TASK_INBOX_CONSUMER,
        # every agency's tasks in one consumer: small fetches per partition take each agency's in turn
        partition_fetch_bytes=runtime.settings.kafka.fair_partition_fetch_bytes,
    )
    runtime.consume(
        *[Topic.AGENCY_DECISIONS.name_for(code) for code in codes],
        handlers={TaskDecided: desk.on_decision_seen, TaskClaimed: desk.on_decision_seen},
        name=DECISIONS_WATCH_CONSUMER,
    )
