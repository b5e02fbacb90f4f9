"""An agency's decisions on its tasks: approvals that finish stages and the application, rejections that withdraw
every other open task, and the decisions refused to the agency (with the reason) or not its to make at all."""

from __future__ import annotations

import copy

import pytest

from satupintu.contract.applications import (
    ApplicationCompleted,
    ApplicationRejected,
    ApplicationStageStarted,
    ApplicationTaskUpdated,
)
from satupintu.contract.base import ApplicationState, Decision, TaskState
from satupintu.contract.tasks import TaskAssigned, TaskDecisionAccepted, TaskDecisionRefused, TaskWithdrawn
from satupintu.routing.domain import InvalidTransition, agency_of_topic

pytestmark = pytest.mark.unit


def refusal(events) -> str:
    [refused] = events
    assert isinstance(refused, TaskDecisionRefused)
    return refused.reason


def test_the_approval_of_a_one_stage_service_completes_the_application_with_its_outputs(flow) -> None:
    workflow = flow.start("letter")
    [task] = workflow.tasks

    events = flow.decide(workflow, task, outputs={"number": "S-1"})

    assert flow.types(events) == ["task.decision_accepted", "application.task_updated", "application.completed"]
    assert (task.state, task.outputs) == (TaskState.APPROVED, {"number": "S-1"})
    assert workflow.state is ApplicationState.COMPLETED
    assert isinstance(events[-1], ApplicationCompleted)
    assert events[-1].outputs == {"dpmptsp": {"number": "S-1"}}


def test_an_accepted_decision_names_the_decision_event_it_applied(flow) -> None:
    workflow = flow.start("letter")

    accepted = flow.decide(workflow, workflow.tasks[0])[0]

    assert isinstance(accepted, TaskDecisionAccepted)
    assert (accepted.decision, accepted.decision_event_id, accepted.accepted_at) == (
        Decision.APPROVED,
        "decision-1",
        flow.now,
    )


def test_an_accepted_approval_carries_its_outputs_and_a_question_none(flow) -> None:
    letter, permit = flow.start("letter"), flow.start()

    approved = flow.decide(letter, letter.tasks[0], outputs={"number": "S-1"})[0]
    asked = flow.decide(permit, permit.tasks[0], Decision.NEEDS_INFORMATION, questions=("Alamat?",))[0]

    assert isinstance(approved, TaskDecisionAccepted)
    assert approved.outputs == {"number": "S-1"}
    assert isinstance(asked, TaskDecisionAccepted)
    assert asked.outputs == {}


def test_a_claimed_task_is_approved_like_an_assigned_one(flow) -> None:
    workflow = flow.start("letter")
    [task] = workflow.tasks
    workflow.claim(flow.claimed(workflow, task), topic_agency="dpmptsp", now=flow.now)

    flow.decide(workflow, task)

    assert workflow.state is ApplicationState.COMPLETED


def test_the_last_approval_of_a_stage_starts_the_next_with_its_parallel_tasks(flow) -> None:
    workflow = flow.start()

    events = flow.decide(workflow, workflow.tasks[0])

    assert flow.types(events) == [
        "task.decision_accepted",
        "application.task_updated",
        "application.stage_started",
        "task.assigned",
        "application.task_updated",
        "task.assigned",
        "application.task_updated",
    ]
    started = events[2]
    assert isinstance(started, ApplicationStageStarted)
    assert (started.stage_index, started.stage_name) == (1, "Kajian teknis")
    assert [(t.task_id, t.agency) for t in started.tasks] == [("task-2", "dinas-pupr"), ("task-3", "dlh")]
    assert workflow.current_stage == 1
    assert [t.state for t in workflow.stage_tasks(1)] == [TaskState.ASSIGNED, TaskState.ASSIGNED]


def test_one_approval_in_a_parallel_stage_leaves_the_stage_waiting_for_the_other(flow) -> None:
    workflow = flow.start()
    flow.approve_stage(workflow)

    events = flow.decide(workflow, flow.task_of(workflow, "dlh"))

    assert flow.types(events) == ["task.decision_accepted", "application.task_updated"]
    assert (workflow.current_stage, workflow.state) == (1, ApplicationState.IN_PROGRESS)


def test_the_last_approval_of_the_parallel_stage_gives_the_next_stage_both_outputs(flow) -> None:
    workflow = flow.start()
    flow.approve_stage(workflow)
    flow.decide(workflow, flow.task_of(workflow, "dlh"), outputs={"amdal": "ok"})

    events = flow.decide(workflow, flow.task_of(workflow, "dinas-pupr"), outputs={"krk": "K-9"})

    [assigned] = [e for e in events if isinstance(e, TaskAssigned)]
    assert (assigned.agency, assigned.stage_index) == ("dpmptsp", 2)
    assert assigned.previous_outputs == {"dinas-pupr": {"krk": "K-9"}, "dlh": {"amdal": "ok"}}


def test_the_last_approval_of_the_last_stage_completes_the_application(flow) -> None:
    workflow = flow.start()
    flow.approve_stage(workflow)
    flow.approve_stage(workflow, {"dinas-pupr": {"krk": "K-9"}, "dlh": {"amdal": "ok"}})

    events = flow.decide(workflow, flow.task_of(workflow, "dpmptsp"), outputs={"permit": "P-1"})

    assert flow.types(events)[-1] == "application.completed"
    assert workflow.state is ApplicationState.COMPLETED
    assert workflow.outputs == {"dinas-pupr": {"krk": "K-9"}, "dlh": {"amdal": "ok"}, "dpmptsp": {"permit": "P-1"}}
    assert [t.state for t in workflow.tasks] == [TaskState.APPROVED] * 4


def test_a_second_approval_is_refused_as_already_decided(flow) -> None:
    workflow = flow.start()
    flow.approve_stage(workflow)
    dlh = flow.task_of(workflow, "dlh")
    flow.decide(workflow, dlh)

    assert refusal(flow.decide(workflow, dlh)) == "task was already decided (approved)"


def test_a_decision_after_completion_is_refused_as_final(flow) -> None:
    workflow = flow.start("letter")
    [task] = workflow.tasks
    flow.decide(workflow, task)

    assert refusal(flow.decide(workflow, task, Decision.REJECTED, reason="x")) == "application is already completed"


def test_a_rejection_rejects_the_task_and_the_application_with_its_reason(flow) -> None:
    workflow = flow.start("letter")
    [task] = workflow.tasks

    events = flow.decide(workflow, task, Decision.REJECTED, reason="Data tidak lengkap")

    assert flow.types(events) == ["task.decision_accepted", "application.task_updated", "application.rejected"]
    assert (task.state, task.reason, workflow.state) == (
        TaskState.REJECTED,
        "Data tidak lengkap",
        ApplicationState.REJECTED,
    )
    rejected = events[-1]
    assert isinstance(rejected, ApplicationRejected)
    assert (rejected.agency, rejected.task_id, rejected.reason) == ("dpmptsp", "task-1", "Data tidak lengkap")


def test_rejection_in_parallel_stage_withdraws_sibling_task(flow) -> None:
    workflow = flow.start()
    flow.approve_stage(workflow)
    dlh = flow.task_of(workflow, "dlh")

    events = flow.decide(workflow, flow.task_of(workflow, "dinas-pupr"), Decision.REJECTED, reason="Tidak sesuai")

    assert flow.types(events) == [
        "task.decision_accepted",
        "application.task_updated",
        "task.withdrawn",
        "application.task_updated",
        "application.rejected",
    ]
    withdrawn, updated = events[2], events[3]
    assert isinstance(withdrawn, TaskWithdrawn)
    assert (withdrawn.task_id, withdrawn.agency) == (dlh.task_id, "dlh")
    assert withdrawn.reason == "application rejected by dinas-pupr"
    assert isinstance(updated, ApplicationTaskUpdated)
    assert updated.state is TaskState.WITHDRAWN
    assert dlh.state is TaskState.WITHDRAWN


def test_a_rejection_withdraws_a_sibling_waiting_for_the_citizen_but_not_an_approved_one(flow) -> None:
    workflow = flow.start()
    flow.approve_stage(workflow)
    dlh, pupr = flow.task_of(workflow, "dlh"), flow.task_of(workflow, "dinas-pupr")
    flow.ask(workflow, dlh)

    flow.decide(workflow, pupr, Decision.REJECTED, reason="Tidak sesuai")

    assert dlh.state is TaskState.WITHDRAWN
    assert workflow.tasks[0].state is TaskState.APPROVED


def test_a_rejection_after_a_sibling_approved_withdraws_nothing(flow) -> None:
    workflow = flow.start()
    flow.approve_stage(workflow)
    flow.decide(workflow, flow.task_of(workflow, "dlh"))

    events = flow.decide(workflow, flow.task_of(workflow, "dinas-pupr"), Decision.REJECTED, reason="Tidak sesuai")

    assert "task.withdrawn" not in flow.types(events)
    assert flow.task_of(workflow, "dlh").state is TaskState.APPROVED


def test_a_decision_for_a_withdrawn_task_is_refused(flow) -> None:
    workflow = flow.start()
    flow.approve_stage(workflow)
    dlh = flow.task_of(workflow, "dlh")
    flow.decide(workflow, flow.task_of(workflow, "dinas-pupr"), Decision.REJECTED, reason="Tidak sesuai")

    assert refusal(flow.decide(workflow, dlh)) == "application is already rejected"
    assert dlh.state is TaskState.WITHDRAWN


def test_a_withdrawn_task_of_a_running_application_is_refused_as_withdrawn(flow) -> None:
    workflow = flow.start()
    workflow.tasks[0].state = TaskState.WITHDRAWN

    assert refusal(flow.decide(workflow, workflow.tasks[0])) == "task was withdrawn"


def test_a_rejection_without_a_reason_is_refused(flow) -> None:
    workflow = flow.start("letter")

    assert refusal(flow.decide(workflow, workflow.tasks[0], Decision.REJECTED)) == "a rejection needs a reason"
    assert workflow.tasks[0].state is TaskState.ASSIGNED


def test_a_task_of_another_stage_is_refused_with_both_stages(flow) -> None:
    workflow = flow.start()
    flow.approve_stage(workflow)
    workflow.tasks[0].state = TaskState.ASSIGNED

    assert refusal(flow.decide(workflow, workflow.tasks[0])) == "task is in stage 0 but the application is in stage 1"


def test_a_refused_decision_changes_nothing_and_says_what_it_refused(flow) -> None:
    workflow = flow.start("letter")
    [task] = workflow.tasks
    flow.decide(workflow, task)
    before = copy.deepcopy(workflow)

    [refused] = flow.decide(workflow, task, Decision.REJECTED, reason="x")

    assert workflow == before
    assert isinstance(refused, TaskDecisionRefused)
    assert (refused.task_id, refused.agency, refused.decision) == ("task-1", "dpmptsp", Decision.REJECTED)
    assert (refused.decision_event_id, refused.refused_at) == ("decision-1", flow.now)


def test_a_decision_on_another_agencys_task_is_no_transition(flow) -> None:
    workflow = flow.start()

    with pytest.raises(InvalidTransition, match="belongs to agency 'dpmptsp', not 'dlh'"):
        flow.decide(workflow, workflow.tasks[0], agency="dlh")


def test_a_decision_naming_another_agency_than_its_topic_is_no_transition(flow) -> None:
    workflow = flow.start()

    with pytest.raises(InvalidTransition, match="came on the topic of 'dlh'"):
        flow.decide(workflow, workflow.tasks[0], topic_agency="dlh")
    assert workflow.tasks[0].state is TaskState.ASSIGNED


def test_the_approval_that_needs_the_next_stage_of_a_service_gone_from_the_catalogue_is_no_transition(flow) -> None:
    workflow = flow.start()
    workflow.service_code = "retired"

    with pytest.raises(InvalidTransition, match="service 'retired' is no longer in the catalogue"):
        flow.decide(workflow, workflow.tasks[0])


def test_an_approval_that_leaves_its_stage_running_needs_no_catalogue(flow) -> None:
    workflow = flow.start()
    flow.approve_stage(workflow)
    workflow.service_code = "retired"

    assert flow.types(flow.decide(workflow, flow.task_of(workflow, "dlh")))[0] == "task.decision_accepted"


@pytest.mark.parametrize(
    ("topic", "agency"),
    [("agency.dlh.decisions", "dlh"), ("t1.agency.dinas-pupr.decisions", "dinas-pupr"), ("t1.applications", None)],
)
def test_the_agency_of_a_topic_is_read_from_its_name(topic: str, agency: str | None) -> None:
    assert agency_of_topic(topic) == agency
