"""The supervisor view and reassigning on the real broker and database: a supervisor (an officer holding the
``supervisor`` role) sees their agency's unfinished tasks, the most urgent first, with who holds each claim; moving a
claim to another officer publishes one ``task.claimed`` for the new holder and an audited ``access.recorded``; the new
holder can decide, the old one cannot; an officer without the role, another agency's task, a task not open and a
malformed officer are refused. The pages are tested through the sign-in at the local Keycloak."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from satupintu.common.settings import KafkaSettings
from satupintu.contract.topics import Topic
from satupintu.devtools.localstack.keycloak import REALM, LocalKeycloak
from satupintu.devtools.testing.sign_in import KeycloakAdmin, Person
from satupintu.devtools.testing.waiting import eventually
from tests.desk import csrf_of, row_of, sign_in_officer
from tests.support import events_on, wait_for_events

pytestmark = pytest.mark.integration

DECISIONS = Topic.AGENCY_DECISIONS.name_for("polres")


async def supervised(desk: Any, headers: dict[str, str], task_ids: list[str]) -> list[dict[str, Any]]:
    """The supervisor view's rows of ``task_ids``, in the view's order."""
    answer = await desk.client.get("/supervisor/tasks", headers=headers)
    assert answer.status_code == 200, answer.text
    return [task for task in answer.json() if task["task_id"] in task_ids]


async def test_a_supervisor_sees_the_agencys_overdue_and_waiting_tasks_most_urgent_first_with_their_holders(
    desk: Any,
) -> None:
    now = datetime.now(UTC)
    budi = desk.token("polres", "budi")
    later = await desk.assign("polres", due_at=now + timedelta(days=30))
    soon = await desk.assign("polres", due_at=now + timedelta(minutes=30))
    late = await desk.assign("polres", due_at=now - timedelta(hours=2))
    elsewhere = await desk.assign("imigrasi", service_code="paspor")
    ids = [task.payload.task_id for task in (later, soon, late, elsewhere)]
    for task in (later, soon, late):
        await desk.wait_for_task(budi, task.payload.task_id)
    await desk.wait_for_task(desk.token("imigrasi"), elsewhere.payload.task_id)
    claimed = await desk.client.post(f"/tasks/{late.payload.task_id}/claim", headers=budi)

    rows = await supervised(desk, desk.supervisor("polres"), ids)

    assert claimed.status_code == 200
    assert [row["task_id"] for row in rows] == [late.payload.task_id, soon.payload.task_id, later.payload.task_id]
    assert [row["sla_state"] for row in rows] == ["breached", "due_soon", "on_time"]
    overdue = rows[0]
    assert (overdue["claimed_by"], overdue["claim_live"]) == ("budi", True)
    assert overdue["claim_expires_at"] == claimed.json()["expires_at"]
    assert [row["claimed_by"] for row in rows[1:]] == [None, None]
    assert {row["state"] for row in rows} == {"open"}


async def test_reassigning_moves_the_claim_publishes_one_task_claimed_and_records_who_moved_it_from_whom(
    desk: Any, kafka_settings: KafkaSettings
) -> None:
    budi, sari = desk.token("polres", "budi"), desk.token("polres", "sari")
    head = desk.supervisor("polres", "kapolres")
    task = await desk.assign("polres")
    task_id = task.payload.task_id
    await desk.wait_for_task(budi, task_id)
    assert (await desk.client.post(f"/tasks/{task_id}/claim", headers=budi)).status_code == 200

    moved = await desk.client.post(f"/tasks/{task_id}/reassign", headers=head, json={"officer": "sari"})
    claims = await wait_for_events(kafka_settings, DECISIONS, task.subject, "task.claimed", 2)
    recorded = await eventually(
        lambda: events_on(kafka_settings, Topic.ACCESS.name_for(), task.subject),
        lambda found: any(event.payload.action == "reassign" for event in found),
        what="the reassignment on the access topic",
    )
    sari_pool = await desk.listed(sari, task_id)
    budi_decides = await desk.client.post(
        f"/tasks/{task_id}/decision", headers=budi, json={"decision": "approved", "outputs": {"skck_number": "1"}}
    )
    sari_decides = await desk.client.post(
        f"/tasks/{task_id}/decision", headers=sari, json={"decision": "approved", "outputs": {"skck_number": "1"}}
    )

    assert moved.status_code == 200, moved.text
    assert (moved.json()["officer"], moved.json()["previous_officer"], moved.json()["supervisor"]) == (
        "sari",
        "budi",
        "kapolres",
    )
    by_supervisor = [event for event in claims if event.actor == "officer:polres:kapolres"]
    assert [event.payload.officer for event in by_supervisor] == ["sari"]
    assert by_supervisor[0].payload.expires_at.isoformat() == moved.json()["expires_at"].replace("Z", "+00:00")
    [audited] = [event.payload for event in recorded if event.payload.action == "reassign"]
    assert (audited.principal, audited.outcome, audited.resource) == (
        "officer:polres:kapolres",
        "granted",
        f"task/{task_id}",
    )
    assert audited.reason == "supervisor kapolres moved the claim from budi to sari"
    assert sari_pool is not None
    assert sari_pool["claimed_by"] == "sari"  # her own claim, first in her pool
    assert budi_decides.status_code == 409
    assert budi_decides.json()["type"].endswith("/task-claimed")
    assert sari_decides.status_code == 202, sari_decides.text


async def test_reassigning_is_refused_for_officers_other_agencies_tasks_closed_tasks_and_malformed_names(
    desk: Any, kafka_settings: KafkaSettings
) -> None:
    budi, head = desk.token("polres", "budi"), desk.supervisor("polres", "kapolres")
    task = await desk.assign("polres")
    foreign = await desk.assign("imigrasi", service_code="paspor")
    task_id = task.payload.task_id
    await desk.wait_for_task(budi, task_id)
    await desk.wait_for_task(desk.token("imigrasi"), foreign.payload.task_id)

    view_by_officer = await desk.client.get("/supervisor/tasks", headers=budi)
    by_officer = await desk.client.post(f"/tasks/{task_id}/reassign", headers=budi, json={"officer": "budi"})
    other_agency = await desk.client.post(
        f"/tasks/{foreign.payload.task_id}/reassign", headers=head, json={"officer": "sari"}
    )
    empty = await desk.client.post(f"/tasks/{task_id}/reassign", headers=head, json={"officer": "  "})
    malformed = await desk.client.post(f"/tasks/{task_id}/reassign", headers=head, json={"officer": "sari <x>"})
    missing = await desk.client.post(f"/tasks/{task_id}/reassign", headers=head, json={})
    await desk.client.post(f"/tasks/{task_id}/claim", headers=budi)
    await desk.client.post(f"/tasks/{task_id}/decision", headers=budi, json={"decision": "rejected", "reason": "x"})
    closed = await desk.client.post(f"/tasks/{task_id}/reassign", headers=head, json={"officer": "sari"})
    refusals = await eventually(
        lambda: events_on(kafka_settings, Topic.ACCESS.name_for(), task.subject),
        lambda found: any(event.payload.outcome == "denied" for event in found),
        what="the officer's refusal on the access topic",
    )
    foreign_records = await eventually(
        lambda: events_on(kafka_settings, Topic.ACCESS.name_for(), foreign.subject),
        lambda found: any(event.payload.action == "reassign" for event in found),
        what="the attempt on another agency's task on the access topic",
    )

    answers = [view_by_officer, by_officer, other_agency, empty, malformed, missing, closed]
    assert [answer.status_code for answer in answers] == [403, 403, 404, 422, 422, 422, 409]
    assert all(answer.headers["content-type"] == "application/problem+json" for answer in answers)
    assert "supervisor role" in by_officer.json()["detail"]
    assert [error["field"] for error in empty.json()["errors"]] == ["officer"]
    assert [error["field"] for error in malformed.json()["errors"]] == ["officer"]
    assert "officer" in missing.json()["errors"][0]["field"]
    assert closed.json()["type"].endswith("/task-not-open")
    denied = [(r.payload.principal, r.payload.action, r.payload.outcome) for r in refusals]
    assert ("officer:polres:budi", "reassign", "denied") in denied
    assert [(r.payload.principal, r.payload.outcome) for r in foreign_records if r.payload.action == "reassign"] == [
        ("officer:polres:kapolres", "denied")
    ]
    claims = await events_on(kafka_settings, DECISIONS, task.subject)
    assert [event.payload.officer for event in claims if event.type == "task.claimed"] == ["budi"]


def supervisor_at_keycloak(admin: KeycloakAdmin) -> tuple[str, str]:
    """A new supervisor of polres at the local Keycloak (the realm role is created if the running realm predates
    it); their user name and password."""
    try:
        admin.request("POST", f"{REALM}/roles", json={"name": "supervisor"})
    except httpx.HTTPStatusError as error:
        if error.response.status_code != 409:  # 409: the realm already has it
            raise
    username, password = f"kepala-{uuid.uuid4().hex[:6]}", "kepala-rahasia-2026"
    admin.create_user(
        username, password, roles=["officer", "supervisor"], group="/agencies/polres", name="Hendra Gunawan"
    )
    return username, password


async def test_a_supervisor_signed_in_through_the_provider_reassigns_a_task_from_the_supervisor_page(
    officer_desk: Any, keycloak: LocalKeycloak, kafka_settings: KafkaSettings
) -> None:
    desk = officer_desk
    username, password = supervisor_at_keycloak(KeycloakAdmin(keycloak))
    budi = desk.token("polres", "budi")
    task = await desk.assign("polres", due_at=datetime.now(UTC) - timedelta(hours=1))
    task_id = task.payload.task_id
    await desk.wait_for_task(budi, task_id)
    await desk.client.post(f"/tasks/{task_id}/claim", headers=budi)
    person = Person.named(username, password)
    try:
        await person.sign_in(desk.client, "/desk")
    finally:
        await person.close()

    tasks_page = await desk.client.get("/desk")
    view = await desk.client.get("/desk/supervisor")
    forged = await desk.client.post(
        f"/desk/supervisor/tasks/{task_id}/reassign", data={"csrf_token": "forged", "officer": "sari"}
    )
    moved = await desk.client.post(
        f"/desk/supervisor/tasks/{task_id}/reassign", data={"csrf_token": csrf_of(view), "officer": "sari"}
    )
    after = await desk.client.get("/desk/supervisor")
    claims = await wait_for_events(kafka_settings, DECISIONS, task.subject, "task.claimed", 2)

    assert 'href="/desk/supervisor"' in tasks_page.text
    assert view.status_code == 200
    row = row_of(view, task_id)
    assert "budi" in row
    assert "Melewati tenggat" in row
    assert forged.status_code == 403
    assert (moved.status_code, moved.headers["location"]) == (303, "/desk/supervisor")
    assert "Tugas dialihkan ke sari" in after.text
    assert "sari" in row_of(after, task_id)
    assert [(event.actor, event.payload.officer) for event in claims] == [
        ("officer:polres:budi", "budi"),
        (f"officer:polres:{username}", "sari"),
    ]


async def test_an_officer_without_the_supervisor_role_is_told_the_supervisor_page_is_not_theirs(
    officer_desk: Any,
) -> None:
    await sign_in_officer(officer_desk, "officer-polres")

    tasks_page = await officer_desk.client.get("/desk")
    view = await officer_desk.client.get("/desk/supervisor")

    assert tasks_page.status_code == 200
    assert 'href="/desk/supervisor"' not in tasks_page.text
    assert view.status_code == 403
    assert "Khusus pengawas" in view.text
    assert "peran supervisor" in view.text
