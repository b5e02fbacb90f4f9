"""The desk's Kafka subscriptions: every agency's tasks topic (its task inbox) and every agency's decisions topic
(to close tasks an agency's own system decided, and to record cross-agency attempts)."""

from __future__ import annotations

import logging

from aiokafka import ConsumerRecord

from satupintu.agency.services import DeskService
from satupintu.common.catalogue import Catalogue
from satupintu.common.consumer import EventConsumer
from satupintu.common.events.tasks import TaskAssigned, TaskClaimed, TaskDecided, TaskSlaBreached, TaskWithdrawn
from satupintu.common.events.topics import Topic
from satupintu.common.runtime import ServiceRuntime

TASK_INBOX_CONSUMER = "agency-desk"
DECISIONS_WATCH_CONSUMER = "agency-watch"
_logger = logging.getLogger(__name__)


class WatchingConsumer(EventConsumer):
    """A consumer of topics another service owns: a record that is not a valid event is left to the owner's
    dead-letter topic (routing dead-letters what it cannot read on the decisions topics), not dead-lettered twice."""

    async def on_invalid(self, record: ConsumerRecord[bytes, bytes], reason: str) -> None:
        """Skip what does not parse: the topic's owner dead-letters it."""
        _logger.info("%s: not an event, left to the topic's owner: %s", self.name, reason)


def subscribe(runtime: ServiceRuntime, desk: DeskService, catalogue: Catalogue) -> None:
    """Keep the task inbox from every agency's tasks topic and watch every agency's decisions topic."""
    codes = sorted(catalogue.agency_codes())
    runtime.consume(
        *[Topic.AGENCY_TASKS.name_for(code) for code in codes],
        handlers={
            TaskAssigned: desk.on_assigned,
            TaskWithdrawn: desk.on_withdrawn,
            TaskSlaBreached: desk.on_sla_breached,
        },
        name=TASK_INBOX_CONSUMER,
    )
    watch = WatchingConsumer(
        name=DECISIONS_WATCH_CONSUMER,
        sessions=runtime.sessions,
        outbox=runtime.outbox,
        broker=runtime.broker,
        kafka=runtime.settings.kafka,
        handlers={TaskDecided: desk.on_decision_seen, TaskClaimed: desk.on_decision_seen},
    )
    watch.subscribe(*[Topic.AGENCY_DECISIONS.name_for(code) for code in codes])
    runtime.consumers.append(watch)
