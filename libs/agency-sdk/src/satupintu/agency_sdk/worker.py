"""The worker: consumes one agency's tasks, opens their sealed values, asks the agency's logic, and publishes each
decision once, committing a task only after its decision is on the broker."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import ConsumerRecord
from cryptography.hazmat.primitives.asymmetric import rsa
from faststream.kafka import KafkaBroker
from tenacity import AsyncRetrying, RetryError, stop_after_attempt, wait_exponential_jitter

from satupintu.agency_sdk.ledger import DecisionLedger, ManagedLedger, MemoryLedger
from satupintu.agency_sdk.tasks import Decide, ForeignTaskError, Outcome, Task, consumer_group, decision_event_id
from satupintu.agency_sdk.worker_keys import WorkerKeys, load_agency_key
from satupintu.common.broker import create_broker
from satupintu.common.consuming import Invalid, RecordConsumer
from satupintu.common.sealing import SealError
from satupintu.common.settings import KafkaSettings
from satupintu.common.stopping import finish_by
from satupintu.contract.envelope import EnvelopeError, Event, from_record, to_record
from satupintu.contract.tasks import (
    TaskAssigned,
    TaskDecided,
    TaskDecisionAccepted,
    TaskDecisionRefused,
    TaskSlaBreached,
    TaskWithdrawn,
)
from satupintu.contract.topics import Topic

_logger = logging.getLogger(__name__)


class _TaskConsumer(RecordConsumer[Event[TaskAssigned]]):
    """A worker's path from its tasks topic to decisions: the consumers' shared one, a task at a time."""

    applies_together = False

    def __init__(self, worker: AgencyWorker, *, broker: KafkaBroker, kafka: KafkaSettings) -> None:
        super().__init__(name=f"agency-{worker.agency}-{worker.worker_name}", broker=broker, kafka=kafka)
        self._worker = worker

    def read(self, record: ConsumerRecord[bytes, bytes]) -> Event[TaskAssigned] | Invalid | None:
        return self._worker.assignment_of(record)

    async def apply_alone(self, record: ConsumerRecord[bytes, bytes], item: Event[TaskAssigned]) -> bool:
        return await self._worker.decide_assignment(item)


class AgencyWorker:
    """Consumes one agency's tasks and publishes its decisions; commits a task only after its decision is sent.

    ``decide`` is retried (``decide_attempts`` times, with backoff) when it raises; if it keeps failing the task is
    left to the officers' desk, which holds every open task too. Stopping (``stop()``, SIGTERM or SIGINT under
    ``run()``) fetches no new task and finishes the one in hand, within the broker's graceful timeout (15 s); past
    ``stop_timeout`` seconds whatever is left is abandoned, so a worker asked to stop always does.

    A ledger holding connections (a :class:`ManagedLedger` such as :class:`PostgresLedger`) is opened on start, so a
    worker that cannot record its decisions consumes nothing, and closed after stopping unless ``owns_ledger`` is
    False (a ledger shared with other workers, closed by whoever made it).

    A task's personal fields and answers travel sealed under the citizen's key (decision 0016); the worker follows
    its agency's key topic and opens them with ``reader_key`` (the agency's private key, or the path of its PEM from
    ``make secrets``; in development the local pair intake wraps for) before ``decide`` sees the task. A task whose
    key does not arrive within ``key_wait_seconds`` is left to the officers' desk.
    """

    def __init__(
        self,
        agency: str,
        kafka: KafkaSettings,
        decide: Decide,
        *,
        worker_name: str = "worker",
        ledger: DecisionLedger | None = None,
        owns_ledger: bool = True,
        decide_attempts: int = 3,
        broker: KafkaBroker | None = None,
        stop_timeout: float = 20.0,
        reader_key: Path | rsa.RSAPrivateKey | None = None,
        key_wait_seconds: float = 30.0,
    ) -> None:
        self.agency = agency.lower()
        self._keys = WorkerKeys(self.agency, kafka, load_agency_key(self.agency, reader_key))
        self._key_wait_seconds = key_wait_seconds
        self._stop_timeout = stop_timeout
        self.worker_name = worker_name
        self._kafka = kafka
        self._decide = decide
        self._ledger: DecisionLedger = ledger or MemoryLedger()
        self._owns_ledger = owns_ledger
        self._decide_attempts = decide_attempts
        self._actor = f"service:agency-{worker_name}:{self.agency}"
        self._broker = broker or create_broker(kafka, f"agency-{self.agency}-{worker_name}")
        self._decisions_topic = kafka.topic_name(Topic.AGENCY_DECISIONS.name_for(self.agency))
        self._started = False
        self.decided = 0
        self.duplicates = 0
        self.refused = 0
        self.decisions_refused = 0
        self.left_to_officers = 0
        self._consumer = _TaskConsumer(self, broker=self._broker, kafka=kafka)
        self._consumer.subscribe(
            Topic.AGENCY_TASKS.name_for(self.agency),
            group=consumer_group(self.agency, worker_name).removeprefix("satupintu."),
            description=f"The tasks of {self.agency}, decided by its worker {worker_name}.",
        )

    @property
    def dead_lettered(self) -> int:
        """Records of the tasks topic this worker could not read or decide, sent to the topic's DLQ."""
        return self._consumer.dead_lettered

    async def start(self) -> None:
        """Open the ledger, connect and start consuming."""
        if isinstance(self._ledger, ManagedLedger):
            await self._ledger.open()
        self._keys.start()
        try:
            await self._broker.start()
        except BaseException:
            await self._keys.stop()
            await self._close_ledger()
            raise
        self._started = True

    async def stop(self) -> None:
        """Stop consuming: no new task is fetched, the one in hand is decided, published and committed first."""
        if self._started:
            self._started = False
            deadline = asyncio.get_running_loop().time() + self._stop_timeout
            try:
                await finish_by(deadline, f"worker {self.worker_name}", asyncio.ensure_future(self._broker.stop()))
                dead_letters = asyncio.ensure_future(self._consumer.dead_letters.stop())
                await finish_by(deadline, f"the dead letters of {self.worker_name}", dead_letters)
            finally:
                await finish_by(deadline, f"the keys of {self.worker_name}", asyncio.ensure_future(self._keys.stop()))
                closing = asyncio.ensure_future(self._close_ledger())
                await finish_by(deadline, f"the ledger of {self.worker_name}", closing)

    async def _close_ledger(self) -> None:
        if self._owns_ledger and isinstance(self._ledger, ManagedLedger):
            await self._ledger.close()

    async def run(self, *, handle_signals: bool = True) -> None:
        """Consume until SIGTERM or SIGINT (when ``handle_signals``) or until cancelled, then stop gracefully."""
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        installed: list[signal.Signals] = []
        if handle_signals:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, stopping.set)
                installed.append(signum)
        await self.start()
        _logger.info("worker %s of %s consuming", self.worker_name, self.agency)
        try:
            await stopping.wait()
        finally:
            for signum in installed:
                loop.remove_signal_handler(signum)
            await asyncio.shield(self.stop())
            _logger.info("worker %s of %s stopped", self.worker_name, self.agency)

    async def handle(self, record: ConsumerRecord[bytes, bytes]) -> None:
        """Decide one record of the tasks topic (anything but a ``task.assigned`` for this agency is skipped, routing's
        answers to decisions included; what cannot be read is dead-lettered), through the consumers' shared path."""
        await self._consumer.process(record)

    async def decide_assignment(self, assignment: Event[TaskAssigned]) -> bool:
        """Decide an assignment and publish the decision, unless the ledger says it was decided; False then."""
        assigned = assignment.payload
        if await self._ledger.already_decided(assignment.id):
            self.duplicates += 1
            _logger.info("task %s (assignment %s) was already decided", assigned.task_id, assignment.id)
            return False
        task = await self._opened(assignment)
        outcome = None if task is None else await self._decide_with_retries(task)
        if outcome is None:
            self.left_to_officers += 1
            return True
        decision_id = await self.publish_decision(assignment, outcome)
        await self._ledger.record(assignment.id, assigned.task_id, decision_id)
        return True

    async def _opened(self, assignment: Event[TaskAssigned]) -> Task | None:
        """The assignment's task with its sealed fields and answers opened with the citizen's key (decision 0016);
        None, leaving it to the officers' desk, when the key does not arrive in time (or was destroyed)."""
        assigned = assignment.payload
        if not await self._keys.wait_for({**assigned.fields, **assigned.answers}, self._key_wait_seconds):
            _logger.warning(
                "task %s: the citizen's key is not held after %.0fs (not arrived, or erased); leaving it to the "
                "officers' desk",
                assigned.task_id,
                self._key_wait_seconds,
            )
            return None
        ring, subject = self._keys.ring, assigned.application_id
        try:
            fields = await ring.open_fields(assigned.fields, subject=subject)
            answers = await ring.open_fields(assigned.answers, subject=subject)
        except SealError as broken:
            _logger.error(
                "task %s: a sealed value does not open (%s); leaving it to the officers' desk", assigned.task_id, broken
            )
            return None
        return replace(Task.from_event(assignment), fields=fields, answers=answers)

    def assignment_of(self, record: ConsumerRecord[bytes, bytes]) -> Event[TaskAssigned] | Invalid | None:
        """The record's ``task.assigned`` for this agency; :class:`Invalid` for a record that is not a valid event
        (dead-lettered); None (logged; a refused decision at warning) for anything else."""
        try:
            event = from_record(record.headers, record.value, record.key)
        except EnvelopeError as invalid:
            return Invalid(invalid.reason)
        payload = event.payload
        if isinstance(payload, TaskWithdrawn):
            _logger.info("task %s withdrawn: %s", payload.task_id, payload.reason)
        elif isinstance(payload, TaskSlaBreached):
            _logger.warning("task %s is past its due date; escalated to %s", payload.task_id, payload.escalation_target)
        elif isinstance(payload, TaskDecisionRefused):
            self.decisions_refused += 1
            _logger.warning(
                "routing refused decision %s (%s) on task %s: %s; the task is back on the officers' desk",
                payload.decision_event_id,
                payload.decision.value,
                payload.task_id,
                payload.reason,
            )
        elif isinstance(payload, TaskDecisionAccepted):
            _logger.info("routing accepted decision %s on task %s", payload.decision_event_id, payload.task_id)
        elif isinstance(payload, TaskAssigned) and payload.agency != self.agency:
            self.refused += 1
            _logger.warning(
                "refusing task %s of agency %s found on the tasks topic of %s",
                payload.task_id,
                payload.agency,
                self.agency,
            )
        elif isinstance(payload, TaskAssigned):
            return event  # type: ignore[return-value]
        return None

    async def _decide_with_retries(self, task: Task) -> Outcome | None:
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self._decide_attempts),
                wait=wait_exponential_jitter(multiplier=0.2, max=5.0, jitter=0.2),
            ):
                with attempt:
                    return await self._decide(task)
        except RetryError as failed:
            _logger.error(
                "deciding task %s failed %d times (%r); leaving it to the officers' desk",
                task.task_id,
                self._decide_attempts,
                failed.last_attempt.exception(),
            )
        return None

    async def publish_decision(self, assignment: Event[Any], outcome: Outcome) -> str:
        """Publish the decision on the agency's decisions topic, with an id derived from the assignment; its id."""
        assigned: TaskAssigned = assignment.payload
        if assigned.agency != self.agency:
            raise ForeignTaskError(f"task {assigned.task_id} belongs to {assigned.agency}, not {self.agency}")
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
            id=decision_event_id(assignment.id),
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
        _logger.info("task %s decided: %s", assigned.task_id, outcome.decision.value)
        return decision.id
