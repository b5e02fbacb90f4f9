"""The auditors' API on the real broker and database: only the auditor role gets in, every query is published as
``access.recorded`` (and so lands in the log itself), searches filter and page with a cursor; the pages read no
bearer token (auditors sign in to them through the provider: test_pages.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from satupintu.common.auth import Role, TokenIssuer, load_or_create_local_keys
from satupintu.common.settings import AuthSettings
from satupintu.contract.applications import ApplicationStageStarted, StageTask
from satupintu.contract.base import Decision
from satupintu.contract.envelope import Event
from satupintu.contract.tasks import TaskAssigned
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.waiting import eventually
from tests.support import decision_event, produce, record_of, submitted_event

from .conftest import RunningAudit, access_records

pytestmark = pytest.mark.integration

APPLICATIONS = Topic.APPLICATIONS.name_for()


async def test_requests_without_the_auditor_role_are_refused(audit: RunningAudit) -> None:
    private_pem, _ = load_or_create_local_keys(audit.settings.auth.keys_dir)
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).timestamp()
    expired = TokenIssuer(AuthSettings(), private_key_pem=private_pem, clock=lambda: an_hour_ago).issue(
        "andi", {Role.AUDITOR}, ttl=60
    )
    operator = audit.token(Role.OPERATOR, subject="rina-refused")
    officer = audit.token(Role.OFFICER, subject="budi", agency="polres")
    paths = ["/audit/events", "/audit/verify", "/audit/export", "/audit/checkpoints/latest", "/audit/ui"]

    answers = {
        (path, who): await audit.client.get(path, headers=headers)
        for path in paths
        for who, headers in {
            "nobody": {},
            "expired": {"Authorization": f"Bearer {expired}"},
            "forged": {"Authorization": "Bearer not.a.token"},
            "operator": {"Authorization": f"Bearer {operator}"},
            "officer": {"Authorization": f"Bearer {officer}"},
        }.items()
    }

    for (path, who), answer in answers.items():
        pages = path.startswith("/audit/ui")
        expected = 403 if who in {"operator", "officer"} and not pages else 401
        assert answer.status_code == expected, (path, who, answer.text)
        if pages:  # a page reads no token at all: whoever sends one gets the sign-in page
            assert "/auth/login?next=%2Faudit%2Fui" in answer.text
        else:
            assert answer.headers["content-type"] == "application/problem+json"
    assert answers[("/audit/events", "operator")].json()["type"].endswith("/forbidden")
    denied = await eventually(
        lambda: access_records(audit, "GET /audit/events"),
        lambda found: any(item["principal"] == "operator:rina-refused" for item in found),
        what="the refusal recorded",
    )
    refusal = next(item for item in denied if item["principal"] == "operator:rina-refused")
    assert refusal["outcome"] == "denied"


async def test_a_refused_look_at_an_applications_timeline_is_on_that_timeline(audit: RunningAudit) -> None:
    event = submitted_event()
    await produce(audit.kafka, APPLICATIONS, [record_of(event)])
    await audit.wait_for_rows("ce_id = :id", id=event.id)
    officer = {"Authorization": f"Bearer {audit.token(Role.OFFICER, subject='curious', agency='polres')}"}

    refused = await audit.client.get(f"/audit/applications/{event.subject}", headers=officer)
    searched = await audit.client.get("/audit/events", params={"application_id": event.subject}, headers=officer)
    recorded = await audit.wait_for_rows("subject = :id AND type = 'access.recorded'", 2, id=event.subject)
    timeline = await audit.client.get(f"/audit/applications/{event.subject}", headers=audit.auditor())

    assert (refused.status_code, searched.status_code) == (403, 403)
    assert [(row.actor, row.payload["outcome"], row.payload["resource"]) for row in recorded] == [
        ("officer:polres:curious", "denied", f"GET /audit/applications/{event.subject}"),
        ("officer:polres:curious", "denied", f"GET /audit/events?application_id={event.subject}"),
    ]
    assert [(entry["type"], entry["actor"]) for entry in timeline.json()["entries"]][:3] == [
        ("application.submitted", event.actor),
        ("access.recorded", "officer:polres:curious"),
        ("access.recorded", "officer:polres:curious"),
    ]


async def test_an_auditor_query_is_published_as_access_recorded_and_logged(audit: RunningAudit) -> None:
    event = submitted_event()
    await produce(audit.kafka, APPLICATIONS, [record_of(event)])
    await audit.wait_for_rows("ce_id = :id", id=event.id)

    answer = await audit.client.get(f"/audit/applications/{event.subject}", headers=audit.auditor("siti-auditor"))

    assert answer.status_code == 200, answer.text
    recorded = await eventually(
        lambda: access_records(audit, f"GET /audit/applications/{event.subject}"),
        what="access.recorded on the access topic",
    )
    [access] = recorded
    assert access["principal"] == "auditor:siti-auditor"
    assert access["outcome"] == "granted"
    assert access["action"] == "read"
    assert access["subject_id"] == access["key"] == event.subject
    [logged] = await audit.wait_for_rows("ce_id = :id", id=access["ce_id"])
    assert logged.type == "access.recorded"
    assert logged.subject == event.subject
    timeline = await audit.client.get(f"/audit/applications/{event.subject}", headers=audit.auditor())
    assert [entry["type"] for entry in timeline.json()["entries"]] == ["application.submitted", "access.recorded"]


async def test_personal_values_are_never_recorded_in_the_clear(audit: RunningAudit) -> None:
    nik = "3171015506900099"
    answer = await audit.client.get("/audit/events", params={"personal": nik}, headers=audit.auditor("nik-search"))

    assert answer.status_code == 200
    recorded = await eventually(
        lambda: access_records(audit, "GET /audit/events?personal="),
        lambda found: any(item["principal"] == "auditor:nik-search" for item in found),
        what="the search recorded",
    )
    assert all(nik not in str(item) for item in recorded)


async def test_search_filters_and_pages_with_a_cursor(audit: RunningAudit) -> None:
    submitted = submitted_event()
    application_id = submitted.subject
    stage = submitted.caused(
        ApplicationStageStarted(
            application_id=application_id,
            stage_index=0,
            stage_name="verifikasi",
            stage_count=1,
            tasks=(StageTask(task_id="t-1", agency="polres", due_at=datetime.now(UTC)),),
            started_at=datetime.now(UTC),
        ),
        source="/satupintu/routing",
        actor="service:routing",
    )
    assignment: Event[Any] = submitted.caused(
        TaskAssigned(
            application_id=application_id,
            task_id="t-1",
            agency="polres",
            service_code="skck",
            stage_index=0,
            due_at=datetime.now(UTC),
            fields={"purpose": "Melamar pekerjaan"},
            assigned_at=datetime.now(UTC),
        ),
        source="/satupintu/routing",
        actor="service:routing",
    )
    decided = decision_event(assignment, Decision.APPROVED, outputs={"skck_number": "SKCK/1"})
    await produce(audit.kafka, APPLICATIONS, [record_of(submitted), record_of(stage)])
    await produce(audit.kafka, Topic.AGENCY_TASKS.name_for("polres"), [record_of(assignment)])
    await produce(audit.kafka, Topic.AGENCY_DECISIONS.name_for("polres"), [record_of(decided)])
    await audit.wait_for_rows("application_id = :id", 4, id=application_id)

    async def search(**params: str | int) -> Any:
        answer = await audit.client.get("/audit/events", params=params, headers=audit.auditor())
        assert answer.status_code == 200, answer.text
        return answer.json()

    everything = await search(application_id=application_id)
    pages, cursor = [], None
    while True:
        page = await search(application_id=application_id, limit=3, **({"cursor": cursor} if cursor else {}))
        pages.append([item["ce_id"] for item in page["items"]])
        # each query is itself recorded about the application, so later pages also hold access.recorded entries
        cursor = page["next_cursor"]
        if cursor is None:
            break
    by_agency = await search(application_id=application_id, agency="polres")
    by_type = await search(application_id=application_id, type="task.decided")
    by_actor = await search(application_id=application_id, actor="officer:polres:tester")
    in_future = await search(application_id=application_id, since=(datetime.now(UTC) + timedelta(days=1)).isoformat())
    bad_cursor = await audit.client.get("/audit/events", params={"cursor": "nonsense"}, headers=audit.auditor())
    bad_range = await audit.client.get(
        "/audit/events",
        params={"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        headers=audit.auditor(),
    )

    ids = [item["ce_id"] for item in everything["items"]]
    assert set(ids) >= {submitted.id, stage.id, assignment.id, decided.id}
    paged = [ce_id for page in pages for ce_id in page]
    assert paged[: len(ids)] == ids
    assert len(paged) == len(set(paged))
    assert len(pages[0]) == 3
    assert {item["ce_id"] for item in by_agency["items"]} == {assignment.id, decided.id}
    assert [item["ce_id"] for item in by_type["items"]] == [decided.id]
    assert [item["ce_id"] for item in by_actor["items"]] == [decided.id]
    assert in_future["items"] == []
    assert bad_cursor.status_code == 422
    assert bad_cursor.json()["errors"][0]["field"] == "cursor"
    assert bad_range.status_code == 422
    assert bad_range.json()["errors"][0]["field"] == "since"
