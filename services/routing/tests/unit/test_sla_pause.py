"""The SLA pause rule (decision 0028): while a task waits for the citizen's answer its clock is stopped; the answer
moves its due date (and, once nothing waits, the application's) later by the agency's working days that began while
it waited, and the re-assigned task carries the new date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from satupintu.contract.base import ApplicationState
from satupintu.contract.tasks import TaskAssigned

pytestmark = pytest.mark.unit

WIB = ZoneInfo("Asia/Jakarta")
MONDAY_MORNING = datetime(2026, 11, 2, 10, 0, tzinfo=WIB)


def end_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=WIB)


def test_a_task_that_waited_three_working_days_is_due_three_working_days_later(flow) -> None:
    workflow = flow.start("letter", now=MONDAY_MORNING)
    [task] = workflow.tasks
    assert (task.due_at, workflow.due_at) == (end_of(date(2026, 11, 3)), end_of(date(2026, 11, 3)))
    flow.ask(workflow, task, now=MONDAY_MORNING)

    events = flow.answer(workflow, task, {"message": "Sudah"}, now=MONDAY_MORNING + timedelta(days=3))

    friday = end_of(date(2026, 11, 6))  # Tuesday, Wednesday and Thursday began while it waited
    assigned = events[0]
    assert isinstance(assigned, TaskAssigned)
    assert (task.due_at, assigned.due_at, workflow.due_at) == (friday, friday, friday)
    assert (task.waiting_since, workflow.waiting_since) == (None, None)


def test_an_answer_on_the_day_it_was_asked_moves_no_date(flow) -> None:
    workflow = flow.start("letter", now=MONDAY_MORNING)
    [task] = workflow.tasks
    flow.ask(workflow, task, now=MONDAY_MORNING)

    flow.answer(workflow, task, {"message": "Sudah"}, now=MONDAY_MORNING + timedelta(hours=6))

    assert (task.due_at, workflow.due_at) == (end_of(date(2026, 11, 3)), end_of(date(2026, 11, 3)))


def test_weekends_and_collective_leave_while_waiting_count_for_nothing(flow) -> None:
    leave = flow.with_collective_leave(date(2026, 11, 9))  # the Monday after
    friday = datetime(2026, 11, 6, 9, 0, tzinfo=WIB)
    workflow = leave.start("letter", now=friday)
    [task] = workflow.tasks
    due = task.due_at
    assert due == end_of(date(2026, 11, 10))  # Monday the 9th is leave
    leave.ask(workflow, task, now=friday)

    leave.answer(workflow, task, {"message": "Sudah"}, now=datetime(2026, 11, 10, 8, 0, tzinfo=WIB))

    # Saturday, Sunday and the leave day began too, but only Tuesday the 10th is a working day
    assert task.due_at == end_of(date(2026, 11, 11))


def test_the_wait_is_counted_in_the_asking_agencys_own_time_zone(flow) -> None:
    workflow = flow.start(now=MONDAY_MORNING)
    flow.approve_stage(workflow)
    dlh = flow.task_of(workflow, "dlh")  # Asia/Makassar, an hour ahead of Jakarta
    before = dlh.due_at
    asked = datetime(2026, 11, 3, 23, 30, tzinfo=WIB)  # already Wednesday in Makassar
    flow.ask(workflow, dlh, now=asked)

    flow.answer(workflow, dlh, {"message": "Sumur resapan"}, now=datetime(2026, 11, 4, 22, 0, tzinfo=WIB))

    assert dlh.due_at == before  # Wednesday 00:30 to 23:00 in Makassar: no working day began


def test_the_application_clock_stays_stopped_until_no_task_waits(flow) -> None:
    workflow = flow.start(now=MONDAY_MORNING)
    flow.approve_stage(workflow)
    pupr, dlh = flow.task_of(workflow, "dinas-pupr"), flow.task_of(workflow, "dlh")
    application_due, pupr_due = workflow.due_at, pupr.due_at
    flow.ask(workflow, pupr, now=MONDAY_MORNING)
    flow.ask(workflow, dlh, now=MONDAY_MORNING + timedelta(days=1))

    flow.answer(workflow, pupr, {"message": "Dua lantai"}, now=MONDAY_MORNING + timedelta(days=2))
    assert (workflow.state, workflow.due_at) == (ApplicationState.INFORMATION_REQUESTED, application_due)
    assert pupr.due_at == end_of((pupr_due + timedelta(days=2)).date())  # Tuesday and Wednesday

    flow.answer(workflow, dlh, {"message": "Sumur resapan"}, now=MONDAY_MORNING + timedelta(days=4))

    # the application waited from Monday to Friday: Tuesday to Friday began, four working days
    assert workflow.state is ApplicationState.IN_PROGRESS
    assert application_due == end_of(date(2026, 11, 30))
    assert workflow.due_at == end_of(date(2026, 12, 4))
    assert workflow.waiting_since is None


def test_a_request_starts_the_wait_of_the_task_and_of_the_application(flow) -> None:
    workflow = flow.start(now=MONDAY_MORNING)
    [task] = workflow.tasks

    flow.ask(workflow, task, now=MONDAY_MORNING)

    assert (task.waiting_since, workflow.waiting_since) == (MONDAY_MORNING, MONDAY_MORNING)
    assert MONDAY_MORNING.astimezone(UTC) == datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
