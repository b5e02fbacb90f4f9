"""Information requests: the task and the application wait for the citizen, decisions meanwhile are refused, and
the answer re-assigns the task to the agency that asked with what it may see."""

from __future__ import annotations

import pytest

from satupintu.contract.applications import ApplicationInformationRequested
from satupintu.contract.base import ApplicationState, Decision, DocumentRef, TaskState
from satupintu.contract.tasks import TaskAssigned, TaskDecisionRefused
from satupintu.routing.domain import InvalidTransition

pytestmark = pytest.mark.unit


def test_a_request_for_information_pauses_the_task_and_the_application(flow) -> None:
    workflow = flow.start()
    [task] = workflow.tasks

    events = flow.ask(workflow, task, "Berapa lantai?", "Di mana lokasinya?")

    assert flow.types(events) == [
        "task.decision_accepted",
        "application.task_updated",
        "application.information_requested",
    ]
    assert (task.state, task.questions) == (TaskState.INFORMATION_REQUESTED, ["Berapa lantai?", "Di mana lokasinya?"])
    assert workflow.state is ApplicationState.INFORMATION_REQUESTED
    requested = events[-1]
    assert isinstance(requested, ApplicationInformationRequested)
    assert (requested.task_id, requested.agency) == ("task-1", "dpmptsp")
    assert requested.questions == ("Berapa lantai?", "Di mana lokasinya?")


def test_a_request_without_a_question_is_refused(flow) -> None:
    workflow = flow.start()

    [refused] = flow.decide(workflow, workflow.tasks[0], Decision.NEEDS_INFORMATION)

    assert isinstance(refused, TaskDecisionRefused)
    assert refused.reason == "a request for information needs at least one question"
    assert workflow.state is ApplicationState.IN_PROGRESS


def test_a_decision_while_waiting_for_the_citizen_is_refused(flow) -> None:
    workflow = flow.start()
    [task] = workflow.tasks
    flow.ask(workflow, task)

    [refused] = flow.decide(workflow, task)

    assert isinstance(refused, TaskDecisionRefused)
    assert refused.reason == "task is waiting for the citizen's information"
    assert task.state is TaskState.INFORMATION_REQUESTED


def test_a_claim_while_waiting_for_the_citizen_is_refused(flow) -> None:
    workflow = flow.start()
    [task] = workflow.tasks
    flow.ask(workflow, task)

    with pytest.raises(InvalidTransition, match="waiting for the citizen"):
        workflow.claim(flow.claimed(workflow, task), topic_agency="dpmptsp", now=flow.now)


def test_the_answer_reassigns_the_task_and_resumes_the_application(flow) -> None:
    workflow = flow.start()
    [task] = workflow.tasks
    flow.ask(workflow, task)

    events = flow.answer(workflow, task, {"message": "Dua lantai"})

    assert flow.types(events) == ["task.assigned", "application.task_updated"]
    assert (task.state, workflow.state) == (TaskState.ASSIGNED, ApplicationState.IN_PROGRESS)
    assigned = events[0]
    assert isinstance(assigned, TaskAssigned)
    assert (assigned.task_id, assigned.answers) == ("task-1", {"message": "Dua lantai"})


def test_the_asking_agency_gets_only_the_answers_it_may_see(flow) -> None:
    workflow = flow.start()
    flow.approve_stage(workflow)
    dlh = flow.task_of(workflow, "dlh")
    flow.ask(workflow, dlh, "Ada sumur?")

    [assigned, _] = flow.answer(
        workflow, dlh, {"Ada sumur?": "Tidak", "floors": 3, "building_function": "usaha", "Lain?": "x"}
    )

    assert isinstance(assigned, TaskAssigned)
    assert assigned.answers == {"Ada sumur?": "Tidak", "building_function": "usaha"}
    assert assigned.fields == {"building_function": "usaha"}


def test_corrected_fields_become_the_applications_for_later_stages(flow) -> None:
    workflow = flow.start()
    [task] = workflow.tasks
    flow.ask(workflow, task)
    flow.answer(workflow, task, {"floors": 3, "Berapa lantai?": "Tiga"})

    events = flow.decide(workflow, task)

    pupr = next(e for e in events if isinstance(e, TaskAssigned) and e.agency == "dinas-pupr")
    assert pupr.fields == {"building_function": "hunian", "floors": 3}
    assert workflow.form == {"building_function": "hunian", "floors": 3, "owner_address": "Jl. Melati 7"}


def test_documents_added_with_the_answer_are_kept_once(flow) -> None:
    ktp = DocumentRef(name="ktp", sha256="a" * 64)
    plan = DocumentRef(name="site_plan", sha256="b" * 64)
    workflow = flow.start(documents=(ktp,))
    [task] = workflow.tasks
    flow.ask(workflow, task)

    flow.answer(workflow, task, {"message": "Terlampir"}, (ktp, plan))

    assert workflow.documents == [ktp.model_dump(), plan.model_dump()]


def test_the_application_waits_while_another_parallel_request_is_unanswered(flow) -> None:
    workflow = flow.start()
    flow.approve_stage(workflow)
    dlh, pupr = flow.task_of(workflow, "dlh"), flow.task_of(workflow, "dinas-pupr")
    flow.ask(workflow, dlh)
    flow.ask(workflow, pupr)

    flow.answer(workflow, dlh, {"message": "Sudah"})
    waiting = workflow.state
    flow.answer(workflow, pupr, {"message": "Sudah"})

    assert waiting is ApplicationState.INFORMATION_REQUESTED
    assert workflow.state is ApplicationState.IN_PROGRESS


def test_an_answer_after_rejection_is_no_transition(flow) -> None:
    workflow = flow.start()
    flow.approve_stage(workflow)
    dlh = flow.task_of(workflow, "dlh")
    flow.ask(workflow, dlh)
    flow.decide(workflow, flow.task_of(workflow, "dinas-pupr"), Decision.REJECTED, reason="Tidak sesuai")

    with pytest.raises(InvalidTransition, match=f"task {dlh.task_id} is withdrawn, not waiting for information"):
        flow.answer(workflow, dlh, {"message": "Terlambat"})
    assert workflow.state is ApplicationState.REJECTED


def test_a_second_answer_to_the_same_request_is_no_transition(flow) -> None:
    workflow = flow.start()
    [task] = workflow.tasks
    flow.ask(workflow, task)
    flow.answer(workflow, task, {"message": "Sudah"})

    with pytest.raises(InvalidTransition, match="is assigned, not waiting for information"):
        flow.answer(workflow, task, {"message": "Sekali lagi"})


def test_an_answer_for_a_task_of_no_request_of_this_application_is_no_transition(flow) -> None:
    workflow = flow.start()
    other = flow.start()
    flow.ask(other, other.tasks[0])
    other.tasks[0].task_id = "elsewhere"

    with pytest.raises(InvalidTransition, match=f"no task elsewhere for application {workflow.application_id}"):
        workflow.provide_information(
            flow.answered(workflow, other.tasks[0], {"message": "x"}),
            service=None,
            planning=flow.planning,
            now=flow.now,
        )


def test_an_answer_for_a_service_gone_from_the_catalogue_is_no_transition(flow) -> None:
    workflow = flow.start()
    [task] = workflow.tasks
    flow.ask(workflow, task)
    workflow.service_code = "retired"

    with pytest.raises(InvalidTransition, match="no longer in the catalogue"):
        flow.answer(workflow, task, {"message": "Sudah"})
    assert task.state is TaskState.INFORMATION_REQUESTED
