"""The worker SDK an agency's own system imports: receive typed tasks from the agency's tasks topic and answer on
its decisions topic, at least once, with idempotent decisions.

    async def decide(task: Task) -> Outcome | None:
        return approve({"member_number": "0001234567890"})

    ledger = PostgresLedger("postgresql://worker@db.bpjs.example/worker", agency="bpjs-kes", worker="worker")
    worker = AgencyWorker("bpjs-kes", KafkaSettings(), decide, ledger=ledger)
    await worker.run()   # until SIGTERM/SIGINT or cancelled; finishes the task in hand first

Idempotent decisions, in two layers:

- A decision's ``ce_id`` is derived from the *assignment* it answers (the ``task.assigned`` event's id), so a
  redelivered task, a second worker instance, or an officer at the desk answering the same assignment all yield the
  same decision id, which routing's inbox applies once. It is derived from the assignment and not from the task id on
  purpose: after an information request routing re-assigns the same task with a new assignment event, and that new
  assignment must be decidable again.
- The worker keeps a ledger of the assignments it has decided (in memory by default; :class:`PostgresLedger` to
  survive restarts) and does not publish again for one it has seen, so a redelivered task publishes no second
  decision. Only a crash between publishing and writing the ledger publishes
  twice, and then with the same id.

A task stays uncommitted until its decision is on the broker: if publishing fails the record is redelivered.

Routing answers every decision on the tasks topic: ``task.decision_accepted``, or ``task.decision_refused`` with the
reason (the task is then back on the officers' desk). The worker skips both; it logs a refusal at warning and counts
it (``decisions_refused``).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import asyncpg
from aiokafka import ConsumerRecord
from cryptography.hazmat.primitives.asymmetric import rsa
from faststream.kafka import KafkaBroker
from tenacity import AsyncRetrying, RetryError, stop_after_attempt, wait_exponential_jitter

from satupintu.agency_sdk.worker_keys import WorkerKeys, load_agency_key
from satupintu.common.broker import create_broker
from satupintu.common.consuming import Invalid, RecordConsumer
from satupintu.common.sealing import SealError
from satupintu.common.settings import KafkaSettings
from satupintu.common.stopping import finish_by
from satupintu.contract.applications import JsonScalar
from satupintu.contract.base import Decision, DocumentRef
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

DECISION_NAMESPACE = uuid.UUID("6f1d3c1e-6a43-4c57-9c55-3b1f4f0d2a10")
_logger = logging.getLogger(__name__)


def decision_event_id(assignment_id: str, refusals: int = 0) -> str:
    """The ``ce_id`` of the decision answering the assignment event ``assignment_id``; the same for every decider.

    ``refusals`` counts the decisions on that assignment routing refused: a decision made after a refusal is a new
    one, and needs an id routing's inbox has not seen (the desk's officers decide again after a refusal).
    """
    return str(uuid.uuid5(DECISION_NAMESPACE, assignment_id if refusals == 0 else f"{assignment_id}#{refusals}"))


def consumer_group(agency: str, worker_name: str) -> str:
    """The consumer group of an agency's worker, without the cluster prefix: ``satupintu.agency.<code>.<name>``.

    Every group of an agency shares the prefix ``satupintu.agency.<code>.``, which its broker ACL grants.
    """
    return f"satupintu.agency.{agency.lower()}.{worker_name}"


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
    if not questions or not all(question.strip() for question in questions):
        raise ValueError("ask at least one question, none of them empty")
    return Outcome(Decision.NEEDS_INFORMATION, questions=tuple(questions))


Decide = Callable[[Task], Awaitable[Outcome | None]]
"""The agency's logic: an outcome, or None to leave the task to an officer at the desk."""


class DecisionLedger(Protocol):
    """Where a worker remembers the assignments it has decided, so a redelivered task is not decided again."""

    async def already_decided(self, assignment_id: str) -> bool:
        """Whether a decision on ``assignment_id`` was published."""
        ...

    async def record(self, assignment_id: str, task_id: str, decision_id: str) -> None:
        """Remember that the decision ``decision_id`` on ``assignment_id`` was published."""
        ...


class MemoryLedger:
    """A :class:`DecisionLedger` in memory, bounded to the most recent ``capacity`` assignments; lost on restart."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._capacity = capacity
        self._decided: OrderedDict[str, str] = OrderedDict()

    async def already_decided(self, assignment_id: str) -> bool:
        """Whether ``assignment_id`` is among the remembered decisions."""
        return assignment_id in self._decided

    async def record(self, assignment_id: str, task_id: str, decision_id: str) -> None:
        """Remember the decision, forgetting the oldest beyond the capacity."""
        self._decided[assignment_id] = decision_id
        self._decided.move_to_end(assignment_id)
        while len(self._decided) > self._capacity:
            self._decided.popitem(last=False)


@runtime_checkable
class ManagedLedger(DecisionLedger, Protocol):
    """A :class:`DecisionLedger` holding connections: opened when its worker starts, closed when it stops."""

    async def open(self) -> None:
        """Connect (and prepare the store) unless already connected."""
        ...

    async def close(self) -> None:
        """Release the connections; a later use connects again."""
        ...


LEDGER_SCHEMA_LOCK_KEY = 0x5A7E_A6E1
"""The advisory lock under which a ledger creates its table, so workers starting together do not race."""


class PostgresLedger:
    """A :class:`ManagedLedger` in a PostgreSQL table, ``worker_decisions``, keyed by agency, worker and assignment.

    Survives restarts and is shared by the instances of one worker. Connects on first use (or when its worker
    starts), creating the table if it does not exist, through a pool of one or two connections.
    """

    def __init__(self, dsn: str, *, agency: str, worker: str) -> None:
        if not dsn.startswith(("postgresql://", "postgres://")):
            raise ValueError(f"the ledger needs a postgresql:// DSN (asyncpg), not {dsn.partition('://')[0]}://")
        self._dsn = dsn
        self.agency = agency.lower()
        self.worker = worker
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def open(self) -> None:
        """Create the pool and the table unless already open."""
        async with self._opening:
            if self._pool is not None:
                return
            pool = await asyncpg.create_pool(self._dsn, min_size=1, max_size=2)
            try:
                async with pool.acquire() as connection, connection.transaction():
                    await connection.execute("SELECT pg_advisory_xact_lock($1)", LEDGER_SCHEMA_LOCK_KEY)
                    await connection.execute(
                        "CREATE TABLE IF NOT EXISTS worker_decisions ("
                        " agency text NOT NULL, worker text NOT NULL, assignment_id text NOT NULL,"
                        " decided_at timestamptz NOT NULL DEFAULT now(),"
                        " PRIMARY KEY (agency, worker, assignment_id))"
                    )
            except BaseException:
                await pool.close()
                raise
            self._pool = pool

    async def close(self) -> None:
        """Close the pool (waiting for queries in flight)."""
        async with self._opening:
            pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def _connected(self) -> asyncpg.Pool:
        await self.open()
        assert self._pool is not None
        return self._pool

    async def already_decided(self, assignment_id: str) -> bool:
        """Whether the table records a decision of this worker on ``assignment_id``."""
        pool = await self._connected()
        found = await pool.fetchval(
            "SELECT 1 FROM worker_decisions WHERE agency = $1 AND worker = $2 AND assignment_id = $3",
            self.agency,
            self.worker,
            assignment_id,
        )
        return found is not None

    async def record(self, assignment_id: str, task_id: str, decision_id: str) -> None:
        """Write the decision to the table (committed before this returns); recording it again changes nothing."""
        pool = await self._connected()
        await pool.execute(
            "INSERT INTO worker_decisions (agency, worker, assignment_id) VALUES ($1, $2, $3)"
            " ON CONFLICT (agency, worker, assignment_id) DO NOTHING",
            self.agency,
            self.worker,
            assignment_id,
        )


class ForeignTaskError(ValueError):
    """A worker was asked to decide a task of another agency; it never publishes such a decision."""


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
