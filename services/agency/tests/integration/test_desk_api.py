"""The desk's JSON API on the real broker and database: claims (races, expiry), decisions, isolation between agencies
over HTTP and on Kafka (refused and recorded as `access.recorded` denied), documents, SLA state. (Decisions that wait
for routing's answer are in ``tests/e2e/test_desk_and_routing.py``: they run routing.)"""

from __future__ import annotations

import asyncio
import base64
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from satupintu.agency_sdk import decision_event_id
from satupintu.common.auth import Role
from satupintu.common.document_store import DocumentCipher
from satupintu.common.settings import KafkaSettings
from satupintu.contract.base import Decision, DocumentRef
from satupintu.contract.envelope import Event
from satupintu.contract.tasks import TaskAssigned, TaskSlaBreached
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.waiting import eventually
from tests.support import decide, decision_event, events_on, wait_for_events

pytestmark = pytest.mark.integration

ACCESS = Topic.ACCESS.name_for()


async def access_records(kafka: KafkaSettings, subject: str, count: int) -> list[Any]:
    found = await wait_for_events(kafka, ACCESS, subject, "access.recorded", count)
    return [event.payload for event in found]


async def test_two_officers_racing_to_claim_one_task_exactly_one_wins(desk: Any, kafka_settings: KafkaSettings) -> None:
    budi, sari = desk.token("polres", "budi"), desk.token("polres", "sari")
    tasks = [await desk.assign("polres") for _ in range(5)]
    for task in tasks:
        await desk.wait_for_task(budi, task.payload.task_id)

    results = []
    for task in tasks:
        path = f"/tasks/{task.payload.task_id}/claim"
        results.append(await asyncio.gather(desk.client.post(path, headers=budi), desk.client.post(path, headers=sari)))

    for answers in results:
        assert sorted(answer.status_code for answer in answers) == [200, 409]
        [lost] = [answer for answer in answers if answer.status_code == 409]
        assert lost.headers["content-type"] == "application/problem+json"
        assert lost.json()["type"].endswith("/task-claimed")
    budi_pool, sari_pool = await desk.pool(budi), await desk.pool(sari)
    for task, answers in zip(tasks, results, strict=True):
        winner = next(answer.json()["officer"] for answer in answers if answer.status_code == 200)
        mine, theirs = (budi_pool, sari_pool) if winner == "budi" else (sari_pool, budi_pool)
        assert task.payload.task_id in mine
        assert task.payload.task_id not in theirs
        [claimed] = await wait_for_events(
            kafka_settings, Topic.AGENCY_DECISIONS.name_for("polres"), task.subject, "task.claimed"
        )
        assert claimed.payload.officer == winner
        assert claimed.actor == f"officer:polres:{winner}"
        assert claimed.causation_id == task.id


async def test_an_officer_cannot_see_claim_or_decide_another_agencys_task_and_each_attempt_is_recorded(
    desk: Any, kafka_settings: KafkaSettings
) -> None:
    registry = desk.token("disdukcapil", "rina")
    police = desk.token("polres", "budi")
    task = await desk.assign("disdukcapil", service_code="akta-kelahiran", fields={"child_name": "Ayu"})
    task_id = task.payload.task_id
    await desk.wait_for_task(registry, task_id)

    read = await desk.client.get(f"/tasks/{task_id}", headers=police)
    claim = await desk.client.post(f"/tasks/{task_id}/claim", headers=police)
    decision = await desk.client.post(
        f"/tasks/{task_id}/decision", headers=police, json={"decision": "rejected", "reason": "bukan urusan kami"}
    )
    police_pool = await desk.pool(police)
    own = await desk.client.get(f"/tasks/{task_id}", headers=registry)
    records = await access_records(kafka_settings, task.subject, 4)

    assert [read.status_code, claim.status_code, decision.status_code] == [404, 404, 404]
    assert read.json()["detail"] == f"Your agency has no task {task_id}."
    assert "child_name" not in read.text
    assert task_id not in police_pool
    assert own.status_code == 200
    assert own.json()["fields"] == {"child_name": "Ayu"}
    denied = [r for r in records if r.outcome == "denied"]
    assert [(r.principal, r.action, r.resource) for r in denied] == [
        ("officer:polres:budi", action, f"task/{task_id}") for action in ("read", "claim", "decide")
    ]
    assert [(r.principal, r.action, r.outcome) for r in records if r.outcome == "granted"] == [
        ("officer:disdukcapil:rina", "read", "granted")
    ]
    assert await events_on(kafka_settings, Topic.AGENCY_DECISIONS.name_for("polres"), task.subject) == []


async def test_a_decision_on_kafka_for_another_agencys_task_is_recorded_as_denied(
    desk: Any, kafka_settings: KafkaSettings
) -> None:
    registry = desk.token("disdukcapil")
    task = await desk.assign("disdukcapil", service_code="akta-kelahiran")
    await desk.wait_for_task(registry, task.payload.task_id)

    # the police's system answers the registry's task on its own topic, and then on the registry's topic
    await decide(kafka_settings, decision_event(task, Decision.APPROVED, agency="polres"))
    await decide(
        kafka_settings, decision_event(task, Decision.APPROVED, agency="polres"), on_agency_topic="disdukcapil"
    )
    records = await access_records(kafka_settings, task.subject, 2)

    assert [(r.outcome, r.action, r.principal) for r in records] == [("denied", "decide", "officer:polres:tester")] * 2
    assert sorted(r.reason for r in records) == [
        "decide over Kafka refused: names agency polres but came on the decisions topic of disdukcapil",
        "decide over Kafka refused: task belongs to agency disdukcapil, not polres",
    ]  # two topics: either may be read first
    assert task.payload.task_id in await desk.pool(registry)  # the desk's task stays open


async def test_an_expired_claim_returns_the_task_to_the_pool(desk: Any) -> None:
    budi, sari = desk.token("polres", "budi"), desk.token("polres", "sari")
    task = await desk.assign("polres")
    task_id = task.payload.task_id
    await desk.wait_for_task(budi, task_id)

    claimed = await desk.client.post(f"/tasks/{task_id}/claim", headers=budi)
    hidden = task_id in await desk.pool(sari)
    refused = await desk.client.post(f"/tasks/{task_id}/claim", headers=sari)
    desk.clock.advance(timedelta(seconds=601))
    back = task_id in await desk.pool(sari)
    taken_over = await desk.client.post(f"/tasks/{task_id}/claim", headers=sari)
    late = await desk.client.post(f"/tasks/{task_id}/decision", headers=budi, json={"decision": "approved"})
    decided = await desk.client.post(
        f"/tasks/{task_id}/decision", headers=sari, json={"decision": "approved", "outputs": {"skck_number": "S/1"}}
    )

    assert claimed.status_code == 200
    assert datetime.fromisoformat(claimed.json()["expires_at"]) - datetime.fromisoformat(
        claimed.json()["claimed_at"]
    ) == timedelta(seconds=600)
    assert hidden is False
    assert refused.status_code == 409
    assert back is True
    assert taken_over.status_code == 200
    assert late.status_code == 409
    assert late.json()["type"].endswith("/task-claimed")
    assert decided.status_code == 202


async def test_deciding_needs_a_live_claim_a_valid_decision_and_publishes_one_decision(
    desk: Any, kafka_settings: KafkaSettings
) -> None:
    budi = desk.token("polres", "budi")
    task = await desk.assign("polres")
    task_id = task.payload.task_id
    await desk.wait_for_task(budi, task_id)

    unclaimed = await desk.client.post(f"/tasks/{task_id}/decision", headers=budi, json={"decision": "approved"})
    await desk.client.post(f"/tasks/{task_id}/claim", headers=budi)
    no_reason = await desk.client.post(f"/tasks/{task_id}/decision", headers=budi, json={"decision": "rejected"})
    unknown = await desk.client.post(f"/tasks/{task_id}/decision", headers=budi, json={"decision": "maybe"})
    approved = await desk.client.post(
        f"/tasks/{task_id}/decision",
        headers=budi,
        json={"decision": "approved", "outputs": {"skck_number": "SKCK/2026/11/7"}},
    )
    twice = await desk.client.post(f"/tasks/{task_id}/decision", headers=budi, json={"decision": "approved"})
    [decided] = await wait_for_events(
        kafka_settings, Topic.AGENCY_DECISIONS.name_for("polres"), task.subject, "task.decided"
    )

    assert unclaimed.status_code == 409
    assert unclaimed.json()["type"].endswith("/claim-required")
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"] == [
        {"field": "reason", "message": "a rejection needs a reason the citizen will read"}
    ]
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "decision"
    assert approved.status_code == 202
    assert approved.json()["event_id"] == decision_event_id(task.id)
    assert twice.status_code == 409
    assert twice.json()["type"].endswith("/task-not-open")
    assert twice.json()["detail"] == "A decision on the task was sent; routing has not accepted or refused it yet."
    assert decided.id == decision_event_id(task.id)
    assert decided.payload.outputs == {"skck_number": "SKCK/2026/11/7"}
    assert decided.actor == "officer:polres:budi"
    # no routing here: the decision waits for its answer, listed for colleagues too, claimable by nobody
    sari = desk.token("polres", "sari")
    for officer in (budi, sari):
        listed = await desk.listed(officer, task_id)
        assert listed is not None
        assert (listed["state"], listed["decision"], listed["claimed_by"]) == ("decision_sent", "approved", None)
    taken = await desk.client.post(f"/tasks/{task_id}/claim", headers=sari)
    assert taken.status_code == 409
    assert taken.json()["type"].endswith("/task-not-open")


async def test_a_task_reassigned_after_an_information_request_can_be_decided_again(
    desk: Any,
    reassigned: Callable[..., Event[TaskAssigned]],
    kafka_settings: KafkaSettings,
) -> None:
    budi = desk.token("polres", "budi")
    first = await desk.assign("polres")
    task_id = first.payload.task_id
    await desk.wait_for_task(budi, task_id)
    await desk.client.post(f"/tasks/{task_id}/claim", headers=budi)
    asked = await desk.client.post(
        f"/tasks/{task_id}/decision",
        headers=budi,
        json={"decision": "needs_information", "questions": ["Untuk instansi mana SKCK ini?"]},
    )
    paused = await desk.listed(budi, task_id)

    again = await desk.assign("polres", event=reassigned(first, {"message": "Untuk PT Maju Jaya"}))
    await desk.wait_for_state(budi, task_id, "open")
    shown = await desk.client.get(f"/tasks/{task_id}", headers=budi)
    await desk.client.post(f"/tasks/{task_id}/claim", headers=budi)
    approved = await desk.client.post(f"/tasks/{task_id}/decision", headers=budi, json={"decision": "approved"})
    decisions = await wait_for_events(
        kafka_settings, Topic.AGENCY_DECISIONS.name_for("polres"), first.subject, "task.decided", 2
    )

    assert asked.status_code == 202
    assert paused is not None
    assert (paused["state"], paused["decision"]) == ("decision_sent", "needs_information")
    assert shown.json()["answers"] == {"message": "Untuk PT Maju Jaya"}
    assert approved.status_code == 202
    assert [d.payload.decision for d in decisions] == [Decision.NEEDS_INFORMATION, Decision.APPROVED]
    assert [d.id for d in decisions] == [decision_event_id(first.id), decision_event_id(again.id)]


async def test_a_document_is_served_only_to_an_officer_whose_agency_holds_a_task_referencing_it(
    desk: Any,
    store_document: Callable[[bytes], str],
    kafka_settings: KafkaSettings,
) -> None:
    content = f"%PDF-1.4 KTP {uuid.uuid4()}".encode()
    sha256 = store_document(content)
    police, registry = desk.token("polres", "budi"), desk.token("disdukcapil", "rina")
    task = await desk.assign("polres", documents=(DocumentRef(name="ktp", sha256=sha256),))
    await desk.wait_for_task(police, task.payload.task_id)

    served = await desk.client.get(f"/documents/{sha256}", headers=police)
    refused = await desk.client.get(f"/documents/{sha256}", headers=registry)
    anonymous = await desk.client.get(f"/documents/{sha256}")
    malformed = await desk.client.get("/documents/not-a-hash", headers=police)
    listed = await desk.client.get(f"/tasks/{task.payload.task_id}", headers=police)
    records = await access_records(kafka_settings, task.subject, 3)

    assert served.status_code == 200
    assert served.content == content
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["content-disposition"] == 'inline; filename="ktp.pdf"'
    assert served.headers["cache-control"] == "private, no-store"
    assert refused.status_code == 404
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.content != content
    assert anonymous.status_code == 401
    assert malformed.status_code == 422
    assert listed.json()["documents"] == [{"name": "ktp", "sha256": sha256, "url": f"/documents/{sha256}"}]
    assert [(r.principal, r.outcome, r.resource) for r in records if r.outcome == "denied"] == [
        ("officer:disdukcapil:rina", "denied", f"document/{sha256}")
    ]  # recorded against the application the document belongs to, so it is on that application's audit timeline
    assert ("officer:polres:budi", "granted", f"document/{sha256}") in [
        (r.principal, r.outcome, r.resource) for r in records
    ]


async def test_a_refused_document_read_is_recorded_against_every_application_referencing_it_or_the_document_alone(
    desk: Any, store_document: Callable[[bytes], str], kafka_settings: KafkaSettings
) -> None:
    shared = store_document(f"%PDF-1.4 KK {uuid.uuid4()}".encode())
    unreferenced = store_document(f"%PDF-1.4 KTP {uuid.uuid4()}".encode())
    police, immigration = desk.token("polres", "budi"), desk.token("imigrasi", "dewi")
    first = await desk.assign("polres", documents=(DocumentRef(name="kk", sha256=shared),))
    second = await desk.assign("polres", documents=(DocumentRef(name="kk", sha256=shared),))
    for task in (first, second):
        await desk.wait_for_task(police, task.payload.task_id)

    refused = await desk.client.get(f"/documents/{shared}", headers=immigration)
    unknown = await desk.client.get(f"/documents/{unreferenced}", headers=immigration)
    on_first, on_second = [await access_records(kafka_settings, task.subject, 1) for task in (first, second)]
    on_document = await access_records(kafka_settings, unreferenced, 1)

    assert (refused.status_code, unknown.status_code) == (404, 404)
    assert refused.json()["detail"] == unknown.json()["detail"]  # which documents exist is not told
    for records in (on_first, on_second):
        assert [(r.principal, r.action, r.outcome, r.resource) for r in records] == [
            ("officer:imigrasi:dewi", "read", "denied", f"document/{shared}")
        ]
    assert [(r.subject_id, r.outcome) for r in on_document] == [(unreferenced, "denied")]


async def test_a_token_without_the_officer_role_is_refused_and_recorded_against_the_application_asked_for(
    desk: Any, store_document: Callable[[bytes], str], kafka_settings: KafkaSettings
) -> None:
    sha256 = store_document(f"%PDF-1.4 KTP {uuid.uuid4()}".encode())
    police = desk.token("polres", "budi")
    auditor = {"Authorization": f"Bearer {desk.issuer.issue('ani', {Role.AUDITOR}, None)}"}
    task = await desk.assign("polres", documents=(DocumentRef(name="ktp", sha256=sha256),))
    task_id = task.payload.task_id
    await desk.wait_for_task(police, task_id)

    answers = [
        await desk.client.get(f"/tasks/{task_id}", headers=auditor),
        await desk.client.post(f"/tasks/{task_id}/claim", headers=auditor),
        await desk.client.post(f"/tasks/{task_id}/decision", headers=auditor, json={"decision": "approved"}),
        await desk.client.get(f"/documents/{sha256}", headers=auditor),
        await desk.client.get("/tasks", headers=auditor),
    ]
    records = await access_records(kafka_settings, task.subject, 4)
    listing = await access_records(kafka_settings, "tasks", 1)

    assert [answer.status_code for answer in answers] == [403] * 5
    assert all(answer.headers["content-type"] == "application/problem+json" for answer in answers)
    assert answers[0].json()["detail"] == "This needs the officer role; your token grants auditor."
    assert [(r.principal, r.action, r.outcome, r.resource) for r in records] == [
        ("auditor:ani", "read", "denied", f"task/{task_id}"),
        ("auditor:ani", "claim", "denied", f"task/{task_id}"),
        ("auditor:ani", "decide", "denied", f"task/{task_id}"),
        ("auditor:ani", "read", "denied", f"document/{sha256}"),
    ]
    assert ("auditor:ani", "list", "denied") in [(r.principal, r.action, r.outcome) for r in listing]
    assert task_id in await desk.pool(police)  # nothing changed


async def test_a_document_stored_before_sealing_is_still_served_and_one_the_desk_cannot_open_is_an_error(
    desk: Any, store_document: Callable[..., str]
) -> None:
    legacy = f"%PDF-1.4 KK {uuid.uuid4()}".encode()
    foreign = f"%PDF-1.4 KTP {uuid.uuid4()}".encode()
    damaged = f"%PDF-1.4 KTP {uuid.uuid4()}".encode()
    legacy_sha256 = store_document(legacy, sealed_with=None)
    unknown_cipher = DocumentCipher.from_spec(f"k9:{base64.b64encode(os.urandom(32)).decode()}")
    foreign_sha256 = store_document(foreign, sealed_with=unknown_cipher)
    damaged_sha256 = store_document(damaged)
    damaged_path = desk.app.state.agency.settings.documents_dir / damaged_sha256[:2] / damaged_sha256
    damaged_path.write_bytes(damaged_path.read_bytes()[:-1] + b"x")
    police = desk.token("polres", "budi")
    task = await desk.assign(
        "polres",
        documents=(
            DocumentRef(name="ktp", sha256=legacy_sha256),
            DocumentRef(name="ktp", sha256=foreign_sha256),
            DocumentRef(name="ktp", sha256=damaged_sha256),
        ),
    )
    await desk.wait_for_task(police, task.payload.task_id)

    served = await desk.client.get(f"/documents/{legacy_sha256}", headers=police)
    unknown_key = await desk.client.get(f"/documents/{foreign_sha256}", headers=police)
    tampered = await desk.client.get(f"/documents/{damaged_sha256}", headers=police)

    assert (served.status_code, served.content) == (200, legacy)
    assert unknown_key.status_code == 500
    assert unknown_key.json()["type"].endswith("/document-key-missing")
    assert "AGENCY_DOCUMENT_KEYS" in unknown_key.json()["detail"]
    assert foreign not in unknown_key.content
    assert tampered.status_code == 500
    assert tampered.json()["type"].endswith("/document-damaged")


async def test_tasks_are_listed_with_due_dates_and_sla_state(desk: Any, kafka_settings: KafkaSettings) -> None:
    officer = desk.token("satlantas")
    now = datetime.now(UTC)
    late = await desk.assign("satlantas", service_code="sim-perpanjangan", due_at=now - timedelta(hours=1))
    soon = await desk.assign("satlantas", service_code="sim-perpanjangan", due_at=now + timedelta(minutes=30))
    later = await desk.assign("satlantas", service_code="sim-perpanjangan", due_at=now + timedelta(days=30))
    escalated = await desk.assign("satlantas", service_code="sim-perpanjangan", due_at=now + timedelta(days=31))
    breach = Event(
        payload=TaskSlaBreached(
            application_id=escalated.subject,
            task_id=escalated.payload.task_id,
            agency="satlantas",
            due_at=escalated.payload.due_at,
            breached_at=now,
            escalation_target="kasat-lantas",
        ),
        source="/satupintu/routing",
        subject=escalated.subject,
        actor="service:routing",
    )
    await desk.assign("satlantas", event=breach)
    await desk.wait_for_task(officer, escalated.payload.task_id)

    async def states() -> dict[str, str]:
        answer = await desk.client.get("/tasks", headers=officer)
        return {task["task_id"]: task["sla_state"] for task in answer.json()}

    found = await eventually(
        states, lambda seen: seen.get(escalated.payload.task_id) == "breached", what="routing's breach applied"
    )
    listed = (await desk.client.get("/tasks", headers=officer)).json()

    assert found[late.payload.task_id] == "breached"
    assert found[soon.payload.task_id] == "due_soon"
    assert found[later.payload.task_id] == "on_time"
    mine = [task["task_id"] for task in listed if task["task_id"] in found]
    assert mine[0] == late.payload.task_id  # by due date
    [row] = [task for task in listed if task["task_id"] == soon.payload.task_id]
    assert row["service_name"] == "Perpanjangan SIM"
    assert row["action"] == "Verifikasi dan cetak SIM"
    assert datetime.fromisoformat(row["due_at"]) == soon.payload.due_at


async def test_the_api_needs_an_officers_token(desk: Any) -> None:
    anonymous = await desk.client.get("/tasks")
    openapi = (await desk.client.get("/openapi.json")).json()

    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert {"/tasks", "/tasks/{task_id}", "/tasks/{task_id}/claim", "/tasks/{task_id}/decision"} <= set(
        openapi["paths"]
    )
    assert "/desk" not in openapi["paths"]
