"""The payment gate: a workflow waits before the stage its fee must be paid before, its SLA clock stopped, starts that
stage as it would have on ``payment.confirmed``, and is cancelled with its open tasks withdrawn on ``payment.expired``
unless it was paid or has ended."""

from __future__ import annotations

from datetime import timedelta

import pytest

from satupintu.contract.applications import ApplicationCancelled, ApplicationStageStarted
from satupintu.contract.base import ApplicationState, Decision, TaskState
from satupintu.contract.tasks import TaskWithdrawn
from satupintu.routing.domain import Workflow

from .conftest import MONDAY

pytestmark = pytest.mark.unit

THURSDAY = MONDAY + timedelta(days=3)


def test_a_fee_due_first_holds_the_workflow_before_any_task(flow):
    workflow, events = flow.start_with_events("paid-letter")

    assert events == []
    assert workflow.tasks == []
    assert workflow.awaiting_payment
    assert workflow.waiting_since == MONDAY
    assert workflow.state is ApplicationState.IN_PROGRESS


def test_payment_starts_the_held_stage_as_it_would_have_with_the_due_date_moved_by_the_wait(flow):
    workflow = flow.start("paid-letter")
    due_without_payment_wait = workflow.due_at

    events = flow.pay(workflow, now=THURSDAY)

    assert flow.types(events) == ["application.stage_started", "task.assigned", "application.task_updated"]
    assert isinstance(events[0], ApplicationStageStarted)
    assert events[0].stage_index == 0
    assert workflow.paid_at == THURSDAY
    assert workflow.waiting_since is None
    assert not workflow.awaiting_payment
    assert workflow.due_at > due_without_payment_wait


def test_a_payment_before_submission_starts_the_first_stage_at_once(flow):
    service = flow.catalogue.service("paid-letter")
    workflow, events = Workflow.start(
        flow.submitted("paid-letter"), service, correlation_id="c", planning=flow.planning, now=MONDAY, paid_at=MONDAY
    )

    assert flow.types(events)[0] == "application.stage_started"
    assert workflow.waiting_since is None


def test_a_second_confirmation_changes_nothing(flow):
    workflow = flow.start("paid-letter")
    flow.pay(workflow)

    assert flow.pay(workflow, now=THURSDAY) == []
    assert workflow.paid_at == MONDAY
    assert len(workflow.tasks) == 1


def test_a_fee_due_before_issuing_runs_earlier_stages_and_waits_before_the_issuing_one(flow):
    workflow, events = flow.start_with_events("paid-permit")
    assert flow.types(events)[0] == "application.stage_started"
    flow.approve_stage(workflow)

    events = flow.decide(workflow, flow.task_of(workflow, "dinas-pupr"))
    events += flow.decide(workflow, flow.task_of(workflow, "dlh"))

    assert "application.stage_started" not in flow.types(events)
    assert workflow.current_stage == 2
    assert workflow.awaiting_payment
    assert flow.types(flow.pay(workflow))[0] == "application.stage_started"
    assert [task.stage_index for task in workflow.tasks if task.is_open] == [2]


def test_a_payment_before_the_gate_lets_the_workflow_pass_it(flow):
    workflow = flow.start("paid-permit")

    assert flow.pay(workflow) == []
    flow.approve_stage(workflow)
    flow.approve_stage(workflow)

    assert workflow.current_stage == 2
    assert workflow.stage_tasks(2)


def test_expiry_while_waiting_cancels_the_application(flow):
    workflow = flow.start("paid-letter")

    events = flow.expire(workflow, now=THURSDAY)

    assert workflow.state is ApplicationState.CANCELLED
    assert workflow.payment_expired_at == THURSDAY
    assert workflow.waiting_since is None
    assert len(events) == 1
    assert isinstance(events[0], ApplicationCancelled)
    assert events[0].reason == "payment_expired"


def test_expiry_before_the_gate_withdraws_the_open_tasks(flow):
    workflow = flow.start("paid-permit")
    task = workflow.tasks[0]

    events = flow.expire(workflow)

    assert flow.types(events) == ["task.withdrawn", "application.task_updated", "application.cancelled"]
    assert isinstance(events[0], TaskWithdrawn)
    assert events[0].task_id == task.task_id
    assert task.state is TaskState.WITHDRAWN
    assert flow.types(flow.expire(workflow)) == []


def test_expiry_after_payment_changes_nothing(flow):
    workflow = flow.start("paid-letter")
    flow.pay(workflow)

    assert flow.expire(workflow) == []
    assert workflow.state is ApplicationState.IN_PROGRESS


def test_expiry_of_a_rejected_application_changes_nothing(flow):
    workflow = flow.start("paid-permit")
    flow.decide(workflow, workflow.tasks[0], Decision.REJECTED, reason="Tidak lengkap")

    assert flow.expire(workflow) == []
    assert workflow.state is ApplicationState.REJECTED


def test_a_payment_after_cancellation_changes_nothing(flow):
    workflow = flow.start("paid-letter")
    flow.expire(workflow)

    assert flow.pay(workflow) == []
    assert workflow.paid_at is None
    assert workflow.state is ApplicationState.CANCELLED


def test_a_cancelled_application_takes_no_more_decisions(flow):
    workflow = flow.start("paid-permit")
    task = workflow.tasks[0]
    flow.expire(workflow)

    assert flow.types(flow.decide(workflow, task)) == ["task.decision_refused"]
