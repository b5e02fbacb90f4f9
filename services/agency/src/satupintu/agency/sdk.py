"""The worker SDK an agency's own system imports: receive typed tasks from the agency's tasks topic and answer on
its decisions topic, at least once, with idempotent decisions.

    async def decide(task: Task) -> Outcome:
        return approve({"member_number": "0001234567890"})

    worker = AgencyWorker("bpjs-kes", KafkaSettings(), decide)
    await worker.run()   # until cancelled; finishes the task in hand on shutdown

A decision's ``ce_id`` is derived from the assignment it answers, so a redelivered task yields the same decision
event, which routing's inbox applies once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from satupintu.common.broker import create_broker, raw_body
from satupintu.common.events.applications import JsonScalar
from satupintu.common.events.base import Decision, DocumentRef
from satupintu.common.events.envelope import EnvelopeError, Event, from_record, to_record
from satupintu.common.events.tasks import TaskAssigned, TaskDecided, TaskWithdrawn
from satupintu.common.events.topics import Topic
from satupintu.common.settings import KafkaSettings

_DECISION_NAMESPACE = uuid.UUID("6f1d3c1e-6a43-4c57-9c55-3b1f4f0d2a10")
_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Task:
    """A task as the agency's system sees it: only the fields the agency may see."""

    task_id: str
    application_id: str
    agency: str
    service_code: str
    stage_index: int
    fields: Mapping[str, JsonScalar]
    documents: tuple[DocumentRef, ...]
    previous_outputs: Mapping[str, Mapping[str, JsonScalar]]
    answers: Mapping[str, JsonScalar]
    due_at: datetime
    assignment_id: str

    @classmethod
    def from_event(cls, event: Event[TaskAssigned]) -> Task:
        """The task carried by a ``task.assigned`` event."""
        assigned = event.payload
        return cls(
            task_id=assigned.task_id,
            application_id=assigned.application_id,
            agency=assigned.agency,
            service_code=assigned.service_code,
            stage_index=assigned.stage_index,
            fields=assigned.fields,
            documents=assigned.documents,
            previous_outputs=assigned.previous_outputs,
            answers=assigned.answers,
            due_at=assigned.due_at,
            assignment_id=event.id,
        )


@dataclass(frozen=True)
class Outcome:
    """What the agency decided; build one with :func:`approve`, :func:`reject` or :func:`request_information`."""

    decision: Decision
    outputs: Mapping[str, JsonScalar] | None = None
    reason: str | None = None
    questions: tuple[str, ...] = ()


def approve(outputs: Mapping[str, JsonScalar] | None = None) -> Outcome:
    """Approve the task, with what it produced (e.g. a certificate number)."""
    return Outcome(Decision.APPROVED, outputs=outputs or {})


def reject(reason: str) -> Outcome:
    """Reject the task (and so the application), with a reason the citizen will read."""
    if not reason.strip():
        raise ValueError("a rejection needs a reason")
    return Outcome(Decision.REJECTED, reason=reason)


def request_information(*questions: str) -> Outcome:
    """Pause the task until the citizen answers ``questions``."""
    if not questions:
        raise ValueError("ask at least one question")
    return Outcome(Decision.NEEDS_INFORMATION, questions=tuple(questions))


Decide = Callable[[Task], Awaitable[Outcome | None]]
"""The agency's logic: an outcome, or None to leave the task to an officer."""


class AgencyWorker:
    """Consumes one agency's tasks and publishes its decisions; commits a task only after its decision is sent."""

    def __init__(
        self,
        agency: str,
        kafka: KafkaSettings,
        decide: Decide,
        *,
        worker_name: str = "worker",
        broker: KafkaBroker | None = None,
    ) -> None:
        self.agency = agency.lower()
        self._kafka = kafka
        self._decide = decide
        self._actor = f"service:agency-{worker_name}:{self.agency}"
        self._broker = broker or create_broker(kafka, f"agency-{worker_name}-{self.agency}")
        self._decisions_topic = kafka.topic_name(Topic.AGENCY_DECISIONS.name_for(self.agency))
        self.decided = 0
        tasks_topic = kafka.topic_name(Topic.AGENCY_TASKS.name_for(self.agency))

        async def on_task(message: KafkaMessage) -> None:
            await self.handle(message.raw_message)

        on_task.__name__ = f"agency_{self.agency.replace('-', '_')}_{worker_name}"
        self._broker.subscriber(
            tasks_topic,
            group_id=kafka.topic_name(f"satupintu.agency-{worker_name}.{self.agency}"),
            ack_policy=AckPolicy.ACK,
            auto_offset_reset="earliest",
            decoder=raw_body,
        )(on_task)

    async def start(self) -> None:
        """Connect and start consuming."""
        await self._broker.start()

    async def stop(self) -> None:
        """Stop consuming; the task in hand is finished first (the broker's graceful timeout)."""
        await self._broker.stop()

    async def run(self) -> None:
        """Consume until cancelled."""
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    async def handle(self, record: ConsumerRecord[bytes, bytes]) -> None:
        """Decide one record of the tasks topic; anything but a ``task.assigned`` for this agency is skipped."""
        try:
            event = from_record(record.headers, record.value, record.key)
        except EnvelopeError as invalid:
            _logger.warning("skipping an invalid record on %s: %s", record.topic, invalid.reason)
            return
        if isinstance(event.payload, TaskWithdrawn):
            _logger.info("task %s withdrawn: %s", event.payload.task_id, event.payload.reason)
            return
        if not isinstance(event.payload, TaskAssigned) or event.payload.agency != self.agency:
            return
        outcome = await self._decide(Task.from_event(event))  # type: ignore[arg-type]
        if outcome is None:
            return
        await self.publish_decision(event, outcome)

    async def publish_decision(self, assignment: Event[Any], outcome: Outcome) -> None:
        """Publish the decision on the agency's decisions topic, with an id derived from the assignment."""
        assigned: TaskAssigned = assignment.payload
        decision = assignment.caused(
            TaskDecided(
                application_id=assigned.application_id,
                task_id=assigned.task_id,
                agency=self.agency,
                decision=outcome.decision,
                outputs=dict(outcome.outputs or {}),
                reason=outcome.reason,
                questions=outcome.questions,
                decided_at=datetime.now(UTC),
            ),
            source=f"/satupintu/agency/{self.agency}",
            actor=self._actor,
        )
        decision = Event(
            payload=decision.payload,
            source=decision.source,
            subject=decision.subject,
            actor=decision.actor,
            id=str(uuid.uuid5(_DECISION_NAMESPACE, assignment.id)),
            correlation_id=decision.correlation_id,
            causation_id=decision.causation_id,
            traceparent=decision.traceparent,
        )
        record = to_record(decision)
        await self._broker.publish(
            record.value,
            self._decisions_topic,
            key=record.key,
            headers={name: value.decode() for name, value in record.headers.items()},
        )
        self.decided += 1
