"""Starting a workflow: the first stage's tasks, what each agency is shown, and due dates counted in working days;
then an officer's claim."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from satupintu.contract.applications import ApplicationStageStarted, ApplicationTaskUpdated
from satupintu.contract.base import ApplicationState, DocumentRef, TaskState
from satupintu.contract.tasks import TaskAssigned
from satupintu.routing.domain import DecisionRefused, InvalidTransition

pytestmark = pytest.mark.unit

WIB = ZoneInfo("Asia/Jakarta")
WITA = ZoneInfo("Asia/Makassar")


def end_of(day: date, zone: ZoneInfo = WIB) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=zone)


def test_a_submitted_application_starts_in_progress_at_its_first_stage_with_one_assigned_task(flow) -> None:
    workflow = flow.start()

    [task] = workflow.tasks
    assert workflow.state is ApplicationState.IN_PROGRESS
    assert (workflow.current_stage, workflow.stage_count) == (0, 3)
    assert (task.task_id, task.agency, task.stage_index, task.state) == ("task-1", "dpmptsp", 0, TaskState.ASSIGNED)
    assert workflow.form == {"building_function": "hunian", "floors": 2, "owner_address": "Jl. Melati 7"}


def test_the_start_announces_the_stage_then_each_tasks_assignment_and_state(flow) -> None:
    workflow, events = flow.start_with_events()

    assert flow.types(events) == ["application.stage_started", "task.assigned", "application.task_updated"]
    started, assigned, updated = events
    assert isinstance(started, ApplicationStageStarted)
    assert (started.stage_index, started.stage_name, started.stage_count) == (0, "Verifikasi", 3)
    assert [(t.task_id, t.agency) for t in started.tasks] == [("task-1", "dpmptsp")]
    assert isinstance(assigned, TaskAssigned)
    assert assigned.assigned_at == flow.now
    assert isinstance(updated, ApplicationTaskUpdated)
    assert updated.state is TaskState.ASSIGNED
    assert {e.application_id for e in events} == {workflow.application_id}  # type: ignore[attr-defined]


def test_an_agency_is_shown_only_its_visible_fields_and_documents(flow) -> None:
    ktp, plan = DocumentRef(name="ktp", sha256="a" * 64), DocumentRef(name="site_plan", sha256="b" * 64)
    workflow, started = flow.start_with_events(documents=(ktp, plan))

    approved = flow.decide(workflow, workflow.tasks[0])

    first = next(e for e in started if isinstance(e, TaskAssigned))
    reviews = {e.agency: e for e in approved if isinstance(e, TaskAssigned)}
    assert (first.fields, first.documents) == ({"building_function": "hunian", "owner_address": "Jl. Melati 7"}, ())
    assert reviews["dinas-pupr"].fields == {"building_function": "hunian", "floors": 2}
    assert reviews["dinas-pupr"].documents == (plan,)
    assert (reviews["dlh"].fields, reviews["dlh"].documents) == ({"building_function": "hunian"}, ())


def test_the_application_is_due_after_its_services_working_days_on_the_owners_calendar(flow) -> None:
    workflow = flow.start()

    assert workflow.due_at == end_of(date(2026, 11, 30))  # 20 working days after Monday 2 November


def test_a_task_due_date_skips_the_weekend(flow) -> None:
    friday = datetime(2026, 11, 6, 3, 0, tzinfo=WIB)

    [task] = flow.start(now=friday).tasks

    assert task.due_at == end_of(date(2026, 11, 9))


def test_a_task_due_date_skips_a_public_holiday(flow) -> None:
    friday_before_independence_day = datetime(2026, 8, 14, 10, 0, tzinfo=WIB)

    [task] = flow.start(now=friday_before_independence_day).tasks

    assert task.due_at == end_of(date(2026, 8, 18))


def test_a_task_due_date_skips_collective_leave(flow) -> None:
    tuesday = date(2026, 11, 3)

    [task] = flow.with_collective_leave(tuesday).start().tasks

    assert task.due_at == end_of(date(2026, 11, 4))


def test_each_parallel_task_is_due_on_its_own_agencys_days_and_time_zone(flow) -> None:
    workflow = flow.start()
    flow.approve_stage(workflow)

    assert flow.task_of(workflow, "dinas-pupr").due_at == end_of(date(2026, 11, 9))
    assert flow.task_of(workflow, "dlh").due_at == end_of(date(2026, 11, 5), WITA)


def test_an_officers_claim_marks_the_task_claimed(flow) -> None:
    workflow = flow.start()
    [task] = workflow.tasks

    events = workflow.claim(flow.claimed(workflow, task), topic_agency="dpmptsp", now=flow.now)

    assert (task.state, task.claimed_by) == (TaskState.CLAIMED, "officer-1")
    assert flow.types(events) == ["application.task_updated"]


def test_a_new_claim_after_the_previous_one_expired_changes_only_the_officer(flow) -> None:
    workflow = flow.start()
    [task] = workflow.tasks
    workflow.claim(flow.claimed(workflow, task), topic_agency="dpmptsp", now=flow.now)
    claimed_at = task.updated_at

    events = workflow.claim(flow.claimed(workflow, task, "officer-2"), topic_agency="dpmptsp", now=end_of(date.today()))

    assert (task.state, task.claimed_by, task.updated_at) == (TaskState.CLAIMED, "officer-2", claimed_at)
    assert events == []


def test_a_claim_of_a_decided_task_is_refused(flow) -> None:
    workflow = flow.start("letter")
    [task] = workflow.tasks
    flow.decide(workflow, task)

    with pytest.raises(DecisionRefused, match="already completed"):
        workflow.claim(flow.claimed(workflow, task), topic_agency="dpmptsp", now=flow.now)


def test_a_claim_by_another_agency_is_no_transition(flow) -> None:
    workflow = flow.start()
    [task] = workflow.tasks

    with pytest.raises(InvalidTransition, match="belongs to agency 'dpmptsp', not 'dlh'"):
        workflow.claim(flow.claimed(workflow, task, agency="dlh"), topic_agency="dlh", now=flow.now)
    assert task.state is TaskState.ASSIGNED


def test_a_claim_of_an_unknown_task_is_no_transition(flow) -> None:
    workflow = flow.start()
    [task] = workflow.tasks
    task.task_id = "elsewhere"
    claim = flow.claimed(workflow, task)
    task.task_id = "task-1"

    with pytest.raises(InvalidTransition, match="unknown task elsewhere"):
        workflow.claim(claim, topic_agency="dpmptsp", now=flow.now)


def test_only_the_task_that_issues_the_document_is_told_whom_it_is_for_still_sealed(flow) -> None:
    workflow, started = flow.start_with_events()
    reviews = flow.decide(workflow, workflow.tasks[0])
    issuing = [e for t in workflow.stage_tasks(1) for e in flow.decide(workflow, t) if isinstance(e, TaskAssigned)]

    first = next(e for e in started if isinstance(e, TaskAssigned))
    assert first.agency == "dpmptsp"
    assert first.holder is None  # the owner's first look issues nothing
    assert all(e.holder is None for e in reviews if isinstance(e, TaskAssigned))
    [issue] = issuing
    assert issue.holder is not None
    assert (issue.holder.name, issue.holder.nik) == ("Siti", "3171015506900002")  # passed on as intake sent them


def test_a_business_is_the_holder_of_its_document_and_every_agency_sees_its_power_of_attorney(flow) -> None:
    business = {"nib": "8120001234567", "npwp": "sealed.v1.npwp", "name": "PT Maju Jaya"}
    power_of_attorney = DocumentRef(name="surat_kuasa", sha256="c" * 64)
    workflow, started = flow.start_with_events(business=business, documents=(power_of_attorney,))
    reviews = flow.decide(workflow, workflow.tasks[0])
    issuing = [e for t in workflow.stage_tasks(1) for e in flow.decide(workflow, t) if isinstance(e, TaskAssigned)]

    assigned = [e for e in (*started, *reviews, *issuing) if isinstance(e, TaskAssigned)]
    assert len(assigned) >= 3
    assert all(e.documents == (power_of_attorney,) for e in assigned)
    [issue] = issuing
    assert issue.holder is not None
    assert issue.holder.business is not None
    assert (issue.holder.business.name, issue.holder.business.nib) == ("PT Maju Jaya", "8120001234567")
    assert (issue.holder.name, issue.holder.nik) == ("Siti", "3171015506900002")  # the representative, still sealed


def test_a_service_without_a_document_keeps_no_holder(flow) -> None:
    workflow, started = flow.start_with_events("letter", data={"purpose": "kerja"})

    assert workflow.holder is None
    assert all(e.holder is None for e in started if isinstance(e, TaskAssigned))
