"""The use cases over in-memory repositories: each event loads the workflow, lets the domain decide, saves it and
puts the domain's events in the outbox, caused by the event handled; what is no agency's decision is rejected."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import pytest

from satupintu.common.catalogue import ServiceDefinition
from satupintu.common.consumer import RejectEvent, UnitOfWork
from satupintu.common.crypto import FieldCipher
from satupintu.contract.base import Decision, EventPayload, TaskState
from satupintu.contract.envelope import Event
from satupintu.routing.domain import Workflow
from satupintu.routing.services import ACTOR, SOURCE, WorkflowService
from satupintu.routing.storage.tables import EarlyPaymentRecord

pytestmark = pytest.mark.unit


class FakeWorkflows:
    """The workflows repository in a dict; what was saved, and with which form, is recorded."""

    def __init__(self) -> None:
        self.stored: dict[str, Workflow] = {}
        self.saved: list[tuple[str, str | None]] = []
        self.early: dict[str, EarlyPaymentRecord] = {}

    async def existing(self, application_ids: Sequence[str]) -> set[str]:
        return {application_id for application_id in application_ids if application_id in self.stored}

    async def get(self, application_id: str) -> Workflow | None:
        return self.stored.get(application_id)

    def add(self, workflow: Workflow, service: ServiceDefinition) -> None:
        self.stored[workflow.application_id] = workflow
        self.saved.append((workflow.application_id, service.code))

    def save(self, workflow: Workflow, *, form_of: ServiceDefinition | None = None) -> None:
        self.saved.append((workflow.application_id, form_of.code if form_of else None))

    async def early_payment(self, application_id: str) -> EarlyPaymentRecord | None:
        return self.early.get(application_id)

    def add_early_payment(self, record: EarlyPaymentRecord) -> None:
        self.early[record.application_id] = record


class FakeOutbox:
    """The outbox as a list."""

    def __init__(self) -> None:
        self.events: list[Event[Any]] = []

    async def add(self, session: object, *events: Event[Any], wake_relay: bool = True) -> None:
        self.events.extend(events)


@pytest.fixture
def workflows() -> FakeWorkflows:
    return FakeWorkflows()


@pytest.fixture
def service(flow, workflows: FakeWorkflows) -> WorkflowService:
    counter = iter(range(1, 100))
    return WorkflowService(
        flow.catalogue,
        FieldCipher({"k1": os.urandom(32)}, "k1"),
        clock=lambda: flow.now,
        workflows=lambda uow: workflows,
        task_ids=lambda: f"task-{next(counter)}",
    )


def unit_of_work(topic: str = "t1.applications") -> UnitOfWork:
    return UnitOfWork(session=None, outbox=FakeOutbox(), topic=topic)  # type: ignore[arg-type]


def event(payload: EventPayload, subject: str) -> Event[Any]:
    return Event(payload=payload, source="/test", subject=subject, actor="test")


def types(uow: UnitOfWork) -> list[str]:
    """The types of the events ``uow`` put in the outbox, in order."""
    assert uow.emitted == uow.outbox.events  # type: ignore[attr-defined]
    return [e.type for e in uow.emitted]


async def submit(service: WorkflowService, flow, service_code: str = "permit") -> tuple[str, Event[Any]]:
    payload = flow.submitted(service_code)
    submitted = event(payload, payload.application_id)
    await service.on_submitted(unit_of_work(), submitted)
    return payload.application_id, submitted


async def test_a_submission_stores_the_workflow_and_emits_its_first_stage_caused_by_it(service, flow, workflows):
    uow = unit_of_work()
    application_id = flow.submitted().application_id
    submitted = event(flow.submitted().model_copy(update={"application_id": application_id}), application_id)

    await service.on_submitted(uow, submitted)

    assert workflows.saved == [(application_id, "permit")]
    assert types(uow) == ["application.stage_started", "task.assigned", "application.task_updated"]
    assert {(e.causation_id, e.correlation_id, e.source, e.actor) for e in uow.emitted} == {
        (submitted.id, submitted.id, SOURCE, ACTOR)
    }
    assert workflows.stored[application_id].correlation_id == submitted.id


async def test_a_second_submission_of_the_same_application_changes_nothing(service, flow, workflows):
    application_id, submitted = await submit(service, flow)
    uow = unit_of_work()

    await service.on_submitted(uow, submitted)

    assert uow.emitted == []
    assert workflows.saved == [(application_id, "permit")]


async def test_a_submission_for_an_unknown_service_is_rejected(service, flow):
    submitted = flow.submitted().model_copy(update={"service_code": "unknown"})

    with pytest.raises(RejectEvent, match="unknown service 'unknown'"):
        await service.on_submitted(unit_of_work(), event(submitted, submitted.application_id))


async def test_an_accepted_decision_is_saved_and_its_events_emitted_in_order(service, flow, workflows):
    application_id, _ = await submit(service, flow, "letter")
    workflow = workflows.stored[application_id]
    uow = unit_of_work("t1.agency.dpmptsp.decisions")
    decided = event(flow.decision(workflow, workflow.tasks[0], outputs={"n": 1}), application_id)

    await service.on_decided(uow, decided)

    assert types(uow) == ["task.decision_accepted", "application.task_updated", "application.completed"]
    assert uow.emitted[0].payload.decision_event_id == decided.id
    assert workflows.saved[-1] == (application_id, None)


async def test_a_refused_decision_is_answered_to_the_agency_and_nothing_is_saved(service, flow, workflows):
    application_id, _ = await submit(service, flow, "letter")
    workflow = workflows.stored[application_id]
    saved_before = list(workflows.saved)
    uow = unit_of_work("t1.agency.dpmptsp.decisions")

    await service.on_decided(uow, event(flow.decision(workflow, workflow.tasks[0], Decision.REJECTED), application_id))

    assert types(uow) == ["task.decision_refused"]
    assert uow.emitted[0].payload.reason == "a rejection needs a reason"
    assert workflows.saved == saved_before


async def test_a_decision_on_the_topic_of_another_agency_is_rejected(service, flow, workflows):
    application_id, _ = await submit(service, flow, "letter")
    workflow = workflows.stored[application_id]
    uow = unit_of_work("t1.agency.dlh.decisions")

    with pytest.raises(RejectEvent, match="came on the topic of 'dlh'"):
        await service.on_decided(uow, event(flow.decision(workflow, workflow.tasks[0]), application_id))
    assert uow.emitted == []


async def test_a_decision_for_an_application_without_workflow_is_rejected(service, flow):
    workflow = flow.start("letter")

    with pytest.raises(RejectEvent, match=f"unknown task task-1 for application {workflow.application_id}"):
        await service.on_decided(unit_of_work(), event(flow.decision(workflow, workflow.tasks[0]), "x"))


async def test_a_claim_is_saved_and_a_refused_claim_rejected(service, flow, workflows):
    application_id, _ = await submit(service, flow, "letter")
    workflow = workflows.stored[application_id]
    [task] = workflow.tasks
    uow = unit_of_work("t1.agency.dpmptsp.decisions")

    await service.on_claimed(uow, event(flow.claimed(workflow, task), application_id))
    await service.on_decided(uow, event(flow.decision(workflow, task), application_id))

    assert (task.state, task.claimed_by) == (TaskState.APPROVED, "officer-1")
    with pytest.raises(RejectEvent, match="application is already completed"):
        await service.on_claimed(unit_of_work(), event(flow.claimed(workflow, task), application_id))


async def test_an_answer_saves_the_corrected_form_and_reassigns_the_task(service, flow, workflows):
    application_id, _ = await submit(service, flow)
    workflow = workflows.stored[application_id]
    [task] = workflow.tasks
    await service.on_decided(
        unit_of_work(), event(flow.decision(workflow, task, Decision.NEEDS_INFORMATION, questions=("?",)), "x")
    )
    uow = unit_of_work()

    await service.on_information_provided(uow, event(flow.answered(workflow, task, {"floors": 4}), application_id))

    assert types(uow) == ["task.assigned", "application.task_updated"]
    assert workflows.saved[-1] == (application_id, "permit")
    assert workflow.form["floors"] == 4


async def test_an_answer_nobody_waits_for_is_rejected(service, flow, workflows):
    application_id, _ = await submit(service, flow)
    workflow = workflows.stored[application_id]

    with pytest.raises(RejectEvent, match="is assigned, not waiting for information"):
        await service.on_information_provided(
            unit_of_work(), event(flow.answered(workflow, workflow.tasks[0], {"message": "x"}), application_id)
        )
    other = flow.start()
    with pytest.raises(RejectEvent, match="no task task-1 for application"):
        await service.on_information_provided(
            unit_of_work(), event(flow.answered(other, other.tasks[0], {"message": "x"}), other.application_id)
        )
