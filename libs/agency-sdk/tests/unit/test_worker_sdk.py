"""The worker SDK on FastStream's in-memory broker: one decision per assignment however often it is delivered, a
re-assigned task decided again, foreign tasks refused, failures left to officers, routing's answers to decisions
skipped (a refusal logged); and the example BPJS check."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from satupintu.agency_sdk import (
    AgencyWorker,
    ForeignTaskError,
    MemoryLedger,
    Outcome,
    PostgresLedger,
    Task,
    approve,
    decision_event_id,
    reject,
    request_information,
)
from satupintu.agency_sdk.example_worker import QUESTION, bpjs_enrolment_check
from satupintu.common.broker import raw_body
from satupintu.common.settings import KafkaSettings
from satupintu.contract.base import Decision
from satupintu.contract.envelope import Event, from_record, to_record
from satupintu.contract.tasks import TaskAssigned, TaskDecisionAccepted, TaskDecisionRefused

pytestmark = pytest.mark.unit

KAFKA = KafkaSettings(topic_prefix="unit.")
TASKS = "unit.agency.bpjs-kes.tasks"
DECISIONS = "unit.agency.bpjs-kes.decisions"


def assignment(
    agency: str = "bpjs-kes",
    *,
    task_id: str | None = None,
    previous_outputs: dict[str, dict[str, Any]] | None = None,
    answers: dict[str, Any] | None = None,
) -> Event[TaskAssigned]:
    application_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    return Event(
        payload=TaskAssigned(
            application_id=application_id,
            task_id=task_id or str(uuid.uuid4()),
            agency=agency,
            service_code="akta-kelahiran",
            stage_index=1,
            fields={"child_name": "Ayu", "child_birth_date": "2026-11-01", "kk_number": "3171010101010001"},
            previous_outputs=previous_outputs if previous_outputs is not None else {},
            answers=answers or {},
            due_at=now + timedelta(days=2),
            assigned_at=now,
        ),
        source="/satupintu/routing",
        subject=application_id,
        actor="service:routing",
    )


class Recorder:
    """The agency's logic under test: answers with ``outcome`` and remembers what it was asked."""

    def __init__(self, outcome: Outcome | Exception | None) -> None:
        self.outcome = outcome
        self.seen: list[Task] = []

    async def __call__(self, task: Task) -> Outcome | None:
        self.seen.append(task)
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


@pytest.fixture
def in_memory() -> tuple[KafkaBroker, list[Event[Any]]]:
    broker = KafkaBroker()
    decisions: list[Event[Any]] = []

    @broker.subscriber(DECISIONS, decoder=raw_body)
    async def capture(message: KafkaMessage) -> None:
        record = message.raw_message
        decisions.append(from_record(record.headers, record.value, record.key))

    return broker, decisions


async def deliver(broker: KafkaBroker, event: Event[Any], topic: str = TASKS) -> None:
    record = to_record(event)
    await broker.publish(
        record.value, topic, key=record.key, headers={k: v.decode() for k, v in record.headers.items()}
    )


async def test_a_redelivered_assignment_is_decided_and_published_once(
    in_memory: tuple[KafkaBroker, list[Event[Any]]],
) -> None:
    broker, decisions = in_memory
    decide = Recorder(approve({"member_number": "0001000000001"}))
    worker = AgencyWorker("bpjs-kes", KAFKA, decide, broker=broker)
    task = assignment()

    async with TestKafkaBroker(broker):
        await deliver(broker, task)
        await deliver(broker, task)

    assert len(decide.seen) == 1
    assert [d.id for d in decisions] == [decision_event_id(task.id)]
    assert decisions[0].causation_id == task.id
    assert decisions[0].payload.outputs == {"member_number": "0001000000001"}
    assert worker.duplicates == 1


async def test_a_reassigned_task_is_decidable_again(in_memory: tuple[KafkaBroker, list[Event[Any]]]) -> None:
    broker, decisions = in_memory
    worker = AgencyWorker("bpjs-kes", KAFKA, Recorder(request_information("Nomor akta?")), broker=broker)
    first = assignment()
    again = assignment(task_id=first.payload.task_id, answers={"message": "3171-LT-01112026-0042"})

    async with TestKafkaBroker(broker):
        await deliver(broker, first)
        await deliver(broker, again)

    assert [d.payload.task_id for d in decisions] == [first.payload.task_id] * 2
    assert [d.id for d in decisions] == [decision_event_id(first.id), decision_event_id(again.id)]
    assert worker.decided == 2


async def test_routings_answers_are_skipped_and_a_refusal_is_logged_at_warning(
    in_memory: tuple[KafkaBroker, list[Event[Any]]], caplog: pytest.LogCaptureFixture
) -> None:
    broker, decisions = in_memory
    decide = Recorder(approve())
    worker = AgencyWorker("bpjs-kes", KAFKA, decide, broker=broker)
    task = assignment()
    assigned, now = task.payload, datetime.now(UTC)
    answers = [
        task.caused(
            TaskDecisionAccepted(
                application_id=assigned.application_id,
                task_id=assigned.task_id,
                agency="bpjs-kes",
                decision=Decision.APPROVED,
                decision_event_id="decision-1",
                accepted_at=now,
            ),
            source="/satupintu/routing",
            actor="service:routing",
        ),
        task.caused(
            TaskDecisionRefused(
                application_id=assigned.application_id,
                task_id=assigned.task_id,
                agency="bpjs-kes",
                decision=Decision.REJECTED,
                decision_event_id="decision-2",
                reason="task was already decided (approved)",
                refused_at=now,
            ),
            source="/satupintu/routing",
            actor="service:routing",
        ),
    ]

    with caplog.at_level(logging.INFO, logger="satupintu.agency_sdk"):
        async with TestKafkaBroker(broker):
            for answer in answers:
                await deliver(broker, answer)

    assert decide.seen == []
    assert decisions == []
    assert (worker.decisions_refused, worker.dead_lettered, worker.refused) == (1, 0, 0)
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.getMessage() == (
        f"routing refused decision decision-2 (rejected) on task {assigned.task_id}: task was already decided "
        "(approved); the task is back on the officers' desk"
    )


class ConnectedLedger(MemoryLedger):
    """A ledger holding connections, as :class:`PostgresLedger` does: counts its opens and closes."""

    def __init__(self) -> None:
        super().__init__()
        self.opened = 0
        self.closed = 0

    async def open(self) -> None:
        self.opened += 1

    async def close(self) -> None:
        self.closed += 1


@pytest.mark.parametrize(("owns_ledger", "closed"), [(True, 1), (False, 0)])
async def test_the_worker_opens_its_ledger_on_start_and_closes_it_on_stop_when_it_owns_it(
    in_memory: tuple[KafkaBroker, list[Event[Any]]], owns_ledger: bool, closed: int
) -> None:
    broker, _ = in_memory
    ledger = ConnectedLedger()
    worker = AgencyWorker("bpjs-kes", KAFKA, Recorder(approve()), broker=broker, ledger=ledger, owns_ledger=owns_ledger)

    async with TestKafkaBroker(broker):
        await worker.start()
        opened_while_running = (ledger.opened, ledger.closed)
        await worker.stop()

    assert opened_while_running == (1, 0)
    assert ledger.closed == closed


def test_the_postgres_ledger_refuses_a_dsn_that_is_not_postgresql() -> None:
    with pytest.raises(ValueError, match="postgresql://"):
        PostgresLedger("postgresql+asyncpg://127.0.0.1/ledger", agency="bpjs-kes", worker="worker")


async def test_the_memory_ledger_forgets_the_oldest_beyond_its_capacity() -> None:
    ledger = MemoryLedger(capacity=2)
    for number in range(3):
        await ledger.record(f"a{number}", f"t{number}", f"d{number}")

    assert [await ledger.already_decided(f"a{n}") for n in range(3)] == [False, True, True]


async def test_a_task_of_another_agency_is_neither_decided_nor_answerable(
    in_memory: tuple[KafkaBroker, list[Event[Any]]],
) -> None:
    broker, decisions = in_memory
    decide = Recorder(approve())
    worker = AgencyWorker("bpjs-kes", KAFKA, decide, broker=broker)
    foreign = assignment("polres")

    async with TestKafkaBroker(broker):
        await deliver(broker, foreign)
        with pytest.raises(ForeignTaskError):
            await worker.publish_decision(foreign, approve())

    assert decide.seen == []
    assert decisions == []
    assert worker.refused == 1


async def test_a_decide_that_keeps_failing_leaves_the_task_to_the_officers(
    in_memory: tuple[KafkaBroker, list[Event[Any]]],
) -> None:
    broker, decisions = in_memory
    decide = Recorder(RuntimeError("BPJS membership service unreachable"))
    worker = AgencyWorker("bpjs-kes", KAFKA, decide, broker=broker, decide_attempts=2)

    async with TestKafkaBroker(broker):
        await deliver(broker, assignment())

    assert len(decide.seen) == 2
    assert decisions == []
    assert worker.left_to_officers == 1


def test_outcome_builders_refuse_empty_reasons_and_questions() -> None:
    with pytest.raises(ValueError, match="reason"):
        reject(" ")
    with pytest.raises(ValueError, match="question"):
        request_information()
    assert reject("Data tidak cocok").decision is Decision.REJECTED


def as_task(event: Event[TaskAssigned]) -> Task:
    return Task.from_event(event)


async def test_bpjs_check_approves_with_a_member_number_when_the_registry_gave_a_certificate() -> None:
    task = as_task(assignment(previous_outputs={"disdukcapil": {"birth_certificate_number": "3171-lt-01112026-0001"}}))

    outcome = await bpjs_enrolment_check(task)
    again = await bpjs_enrolment_check(task)

    assert outcome is not None
    assert outcome.decision is Decision.APPROVED
    assert outcome.outputs is not None
    member_number = str(outcome.outputs["member_number"])
    assert len(member_number) == 13
    assert member_number.isdigit()
    assert outcome.outputs["birth_certificate_number"] == "3171-LT-01112026-0001"
    assert again == outcome


async def test_bpjs_check_asks_once_then_reads_the_answer_or_leaves_it_to_an_officer() -> None:
    asked = await bpjs_enrolment_check(as_task(assignment()))
    answered = await bpjs_enrolment_check(
        as_task(assignment(answers={"message": "Nomor aktanya 3171-LT-01112026-0042, terima kasih"}))
    )
    unanswered = await bpjs_enrolment_check(as_task(assignment(answers={"message": "sudah saya kirim"})))

    assert asked == request_information(QUESTION)
    assert answered is not None
    assert answered.decision is Decision.APPROVED
    assert unanswered is None
