"""The agency desk with routing running in this process, on the real broker and database: a decision waits for
routing's answer (accepted: the task closes; refused: it is open again with the reason, over the API and on the
officer's pages in both languages), and a second decision refused by routing leaves a closed task closed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from satupintu.agency_sdk import decision_event_id
from satupintu.common.settings import KafkaSettings
from satupintu.contract.base import Decision
from satupintu.contract.envelope import Event
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.waiting import eventually
from tests.desk import row_of, sign_in_officer
from tests.support import decide, decision_event, wait_for_events

pytestmark = pytest.mark.e2e

QUESTION_NEEDED = "a request for information needs at least one question"


async def test_a_decision_waits_for_routing_and_the_task_closes_only_once_routing_accepted_it(
    desk: Any, start_routing: Callable[[], Any], kafka_settings: KafkaSettings
) -> None:
    officer = desk.token("polres")
    async with start_routing():
        assignment = await desk.routed_task(officer)
    task_id = assignment.payload.task_id

    # routing is stopped: the agency's own system decides, and the desk holds the task until routing answers
    decision = decision_event(assignment, Decision.APPROVED, outputs={"skck_number": "SKCK/2026/11/8"})
    await decide(kafka_settings, decision)
    waiting = await desk.wait_for_state(officer, task_id, "decision_sent")
    claim = await desk.client.post(f"/tasks/{task_id}/claim", headers=officer)
    async with start_routing():
        await eventually(
            lambda: desk.pool(officer), lambda ids: task_id not in ids, what="routing's acceptance closes the task"
        )
        [accepted] = await wait_for_events(
            kafka_settings, Topic.AGENCY_TASKS.name_for("polres"), assignment.subject, "task.decision_accepted"
        )
    closed = await desk.client.get(f"/tasks/{task_id}", headers=officer)

    assert (waiting["decision"], waiting["refusal_reason"]) == ("approved", None)
    assert claim.status_code == 409
    assert claim.json()["type"].endswith("/task-not-open")
    assert accepted.payload.decision_event_id == decision.id
    assert closed.status_code == 200
    assert (closed.json()["state"], closed.json()["decision"]) == ("decided", "approved")


async def test_a_decision_routing_refuses_leaves_the_task_open_with_the_reason_and_it_can_be_decided_again(
    desk: Any, routing: Any, kafka_settings: KafkaSettings
) -> None:
    officer = desk.token("polres", "budi")
    assignment = await desk.routed_task(officer)
    task_id = assignment.payload.task_id

    # the agency's own system rejects without a reason, with the id the SDK would give its decision
    unexplained = decision_event(assignment, Decision.REJECTED)
    unexplained = Event(
        payload=unexplained.payload,
        source=unexplained.source,
        subject=unexplained.subject,
        actor=unexplained.actor,
        id=decision_event_id(assignment.id),
        correlation_id=unexplained.correlation_id,
        causation_id=unexplained.causation_id,
    )
    await decide(kafka_settings, unexplained)
    listed = await desk.wait_for_state(officer, task_id, "open", refusal_reason="a rejection needs a reason")
    shown = await desk.client.get(f"/tasks/{task_id}", headers=officer)
    claimed = await desk.client.post(f"/tasks/{task_id}/claim", headers=officer)
    approved = await desk.client.post(
        f"/tasks/{task_id}/decision",
        headers=officer,
        json={"decision": "approved", "outputs": {"skck_number": "SKCK/2026/11/9"}},
    )
    waiting = await desk.listed(officer, task_id)
    [completed] = await wait_for_events(
        kafka_settings, Topic.APPLICATIONS.name_for(), assignment.subject, "application.completed"
    )
    await eventually(lambda: desk.pool(officer), lambda ids: task_id not in ids, what="the approval closes the task")
    closed = await desk.client.get(f"/tasks/{task_id}", headers=officer)

    assert (listed["decision"], listed["claimed_by"]) == (None, None)
    assert listed["refused_at"] is not None
    assert (shown.json()["state"], shown.json()["refusal_reason"]) == ("open", "a rejection needs a reason")
    assert claimed.status_code == 200
    assert approved.status_code == 202
    assert approved.json()["event_id"] == decision_event_id(assignment.id, 1)  # not the refused one's id
    assert waiting is not None
    assert (waiting["state"], waiting["refusal_reason"]) == ("decision_sent", None)
    assert completed.payload.outputs == {"polres": {"skck_number": "SKCK/2026/11/9"}}
    assert (closed.json()["state"], closed.json()["decision"], closed.json()["refusal_reason"]) == (
        "decided",
        "approved",
        None,
    )


async def test_a_refused_second_decision_leaves_a_task_routing_closed_closed(
    desk: Any, start_routing: Callable[[], Any], kafka_settings: KafkaSettings
) -> None:
    officer = desk.token("polres", "budi")
    async with start_routing():
        assignment = await desk.routed_task(officer)
    task_id = assignment.payload.task_id

    # routing is stopped: an officer approves at the desk, then the agency's system rejects the same task
    await desk.client.post(f"/tasks/{task_id}/claim", headers=officer)
    approved = await desk.client.post(f"/tasks/{task_id}/decision", headers=officer, json={"decision": "approved"})
    await wait_for_events(kafka_settings, Topic.AGENCY_DECISIONS.name_for("polres"), assignment.subject, "task.decided")
    late = decision_event(assignment, Decision.REJECTED, reason="Data tidak cocok")
    await decide(kafka_settings, late)
    async with start_routing():
        [refused] = await wait_for_events(
            kafka_settings, Topic.AGENCY_TASKS.name_for("polres"), assignment.subject, "task.decision_refused"
        )
        await eventually(lambda: desk.pool(officer), lambda ids: task_id not in ids, what="the approval closes it")
        [inbox] = await eventually(
            lambda: _inbox_of(desk, refused.id), lambda rows: len(rows) == 1, what="the refusal consumed"
        )
    closed = await desk.client.get(f"/tasks/{task_id}", headers=officer)

    assert approved.status_code == 202
    assert (refused.payload.decision_event_id, refused.payload.reason) == (
        late.id,
        "application is already completed",
    )
    assert inbox == "agency-desk"
    assert (closed.json()["state"], closed.json()["decision"], closed.json()["refusal_reason"]) == (
        "decided",
        "approved",
        None,
    )


async def _inbox_of(desk: Any, event_id: str) -> list[str]:
    async with desk.app.state.runtime.engine.connect() as connection:
        rows = await connection.execute(text("SELECT consumer FROM inbox WHERE event_id = :id"), {"id": event_id})
        return [row.consumer for row in rows]


async def test_a_decision_routing_refused_is_shown_with_its_reason_in_both_languages(
    officer_desk: Any, routing: Any, kafka_settings: KafkaSettings
) -> None:
    desk = officer_desk
    assignment = await desk.routed_task(desk.token("polres"))
    task_id = assignment.payload.task_id
    await decide(kafka_settings, decision_event(assignment, Decision.NEEDS_INFORMATION))  # a question without text
    await desk.wait_for_state(desk.token("polres"), task_id, "open", refusal_reason=QUESTION_NEEDED)
    await sign_in_officer(desk)

    listing = await desk.client.get("/desk")
    detail = await desk.client.get(f"/desk/tasks/{task_id}")

    shown = f"Keputusan ditolak routing / Decision refused: {QUESTION_NEEDED}"
    assert shown in row_of(listing, task_id)
    assert "Tersedia" in row_of(listing, task_id)
    assert shown in detail.text
    assert "Ambil tugas" in detail.text
