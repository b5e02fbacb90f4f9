"""Routing's dead letters for operators on the real broker and database: ``GET /dlq`` lists what routing refused
with the reasons and never the values, ``POST /dlq/replay`` has routing process them again (applied once the cause
is gone, a duplicate the second time, dead-lettered again while it still fails, a trimmed one skipped), filters
select only what they should, everyone else is refused and the refusal recorded, and the operator page (operators
sign in through the real Keycloak, a token pasted anywhere signs nobody in) lists the reasons and replays a selection
through a form that needs its sign-in's CSRF token."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from fastapi import FastAPI

from satupintu.common.auth import Role, TokenIssuer, load_or_create_local_keys
from satupintu.common.settings import AuthSettings, DatabaseSettings, KafkaSettings
from satupintu.contract.applications import ApplicationInformationProvided
from satupintu.contract.base import Decision
from satupintu.contract.envelope import Event
from satupintu.contract.tasks import TaskAssigned
from satupintu.contract.topics import Topic, dead_letter_topic
from satupintu.devtools.localstack.keycloak import LocalKeycloak
from satupintu.devtools.testing.payments import payment_confirmed
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.sign_in import KeycloakAdmin, Person
from satupintu.devtools.testing.waiting import eventually
from satupintu.routing.config import RoutingSettings
from satupintu.routing.factory import SESSION_COOKIE
from satupintu.routing.main import create_app
from tests.conftest import running
from tests.support import decide, decision_event, events_on, produce, record_of, submitted_event, wait_for_events

pytestmark = pytest.mark.integration

APPLICATIONS = Topic.APPLICATIONS.name_for()
DLQ_MAX_MESSAGE_BYTES = 8192
"""The applications' dead-letter topic takes no larger record here, so a large refused event is trimmed."""
PROBLEM = "application/problem+json"
SECRET_ANSWER = "Jl. Kenanga Rahasia No. 9"
ASGI_ADDRESS = "http://service"  # where the tests' ASGI clients reach the service (satupintu.devtools.testing.apps)


@dataclass
class Routing:
    """The running routing service, an HTTP client to it and tokens for its callers."""

    app: FastAPI
    client: httpx.AsyncClient
    kafka: KafkaSettings
    issuer: TokenIssuer
    settings: RoutingSettings

    def bearer(self, role: Role, subject: str = "rina", agency: str | None = None) -> dict[str, str]:
        """The ``Authorization`` header of a member of staff."""
        return {"Authorization": f"Bearer {self.issuer.issue(subject, {role}, agency)}"}

    @property
    def operator(self) -> dict[str, str]:
        """An operator's ``Authorization`` header."""
        return self.bearer(Role.OPERATOR)

    def browser(self) -> httpx.AsyncClient:
        """A browser of its pages, with cookies of its own."""
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=ASGI_ADDRESS)


@pytest.fixture(scope="module")
async def routing(
    kafka_settings: KafkaSettings,
    database_settings: DatabaseSettings,
    tmp_path_factory: pytest.TempPathFactory,
    keycloak: LocalKeycloak,
) -> AsyncIterator[Routing]:
    """Routing running on this module's topics, its applications' dead-letter topic taking small records only, with
    a client of its own at Keycloak for the address the tests reach its pages at."""
    await service_database(database_settings, "routing")
    keys_dir = tmp_path_factory.mktemp("routing-keys")
    settings = RoutingSettings(
        kafka=kafka_settings,
        database=database_settings,
        auth=AuthSettings(keys_dir=keys_dir),
        sla_check_interval_seconds=3600,
        oidc=KeycloakAdmin(keycloak).register_web_client("routing", ASGI_ADDRESS),
    )
    app = create_app(settings)
    private_pem, _ = load_or_create_local_keys(keys_dir)
    async with running(app) as client:
        await _limit_dead_letter_size(kafka_settings, dead_letter_topic(APPLICATIONS))
        yield Routing(app, client, kafka_settings, TokenIssuer(AuthSettings(), private_key_pem=private_pem), settings)


async def _limit_dead_letter_size(kafka: KafkaSettings, logical_topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers)
    await admin.start()
    try:
        resource = ConfigResource(
            ConfigResourceType.TOPIC,
            kafka.topic_name(logical_topic),
            configs={"max.message.bytes": str(DLQ_MAX_MESSAGE_BYTES)},
        )
        await admin.alter_configs([resource])
    finally:
        await admin.close()


async def assigned(routing: Routing, service_code: str = "skck") -> Event[TaskAssigned]:
    """A new application, submitted; its first task once routing assigned it."""
    submitted = submitted_event(service_code)
    await produce(routing.kafka, APPLICATIONS, [record_of(submitted), record_of(payment_confirmed(submitted.subject))])
    [assignment] = await wait_for_events(
        routing.kafka, Topic.AGENCY_TASKS.name_for("polres"), submitted.subject, "task.assigned"
    )
    return assignment


async def answer_unasked(routing: Routing, assignment: Event[TaskAssigned]) -> Event[ApplicationInformationProvided]:
    """Answers to a question the agency has not asked (yet): routing refuses them, so they are dead-lettered."""
    answer = assignment.caused(
        ApplicationInformationProvided(
            application_id=assignment.subject,
            task_id=assignment.payload.task_id,
            agency="polres",
            answers={"address": SECRET_ANSWER},
            provided_at=datetime.now(UTC),
        ),
        source="/satupintu/intake",
        actor="citizen",
    )
    await produce(routing.kafka, APPLICATIONS, [record_of(answer)])
    return answer


async def listed(routing: Routing, count: int = 1, **query: Any) -> list[dict[str, Any]]:
    """``GET /dlq`` as an operator, until at least ``count`` dead letters are there; they, newest first."""

    async def dead_letters() -> list[dict[str, Any]]:
        answer = await routing.client.get("/dlq", params=query, headers=routing.operator)
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()["dead_letters"]
        return found

    return await eventually(dead_letters, lambda found: len(found) >= count, what=f"{count} dead letters {query}")


async def replay(routing: Routing, **body: Any) -> dict[str, Any]:
    """``POST /dlq/replay`` as an operator; the report."""
    answer = await routing.client.post("/dlq/replay", json=body, headers=routing.operator)
    assert answer.status_code == 200, answer.text
    report: dict[str, Any] = answer.json()
    return report


async def access_recorded(routing: Routing, resource_prefix: str) -> list[dict[str, Any]]:
    """The ``access.recorded`` events about routing's dead letters whose resource starts with ``resource_prefix``."""
    events = await events_on(routing.kafka, Topic.ACCESS.name_for(), "dead-letters:routing")
    return [
        event.payload.model_dump(mode="json") | {"source": event.source}
        for event in events
        if event.payload.resource.startswith(resource_prefix)
    ]


async def test_an_answer_refused_is_listed_with_its_reason_not_its_value_and_applied_when_replayed_once_asked(
    routing: Routing,
) -> None:
    assignment = await assigned(routing)
    answer = await answer_unasked(routing, assignment)
    task_id = assignment.payload.task_id

    [letter] = await listed(routing, ce_id=answer.id)
    answer_json = (await routing.client.get("/dlq", params={"ce_id": answer.id}, headers=routing.operator)).text
    # the cause goes away: the agency asks, so an answer is now awaited
    await decide(routing.kafka, decision_event(assignment, Decision.NEEDS_INFORMATION, questions=("Alamat?",)))
    await wait_for_events(routing.kafka, APPLICATIONS, assignment.subject, "application.information_requested")
    first = await replay(routing, ce_id=[answer.id])
    reassigned = await wait_for_events(
        routing.kafka, Topic.AGENCY_TASKS.name_for("polres"), assignment.subject, "task.assigned", 2
    )
    second = await replay(routing, ce_id=[answer.id])

    assert letter["reason"] == f"task {task_id} is assigned, not waiting for information"
    assert (letter["consumer"], letter["topic"], letter["ce_type"]) == (
        "routing",
        APPLICATIONS,
        "application.information_provided",
    )
    assert (letter["key"], letter["subject"], letter["trimmed"]) == (assignment.subject, assignment.subject, False)
    assert letter["position"]["topic"] == "applications.dlq"
    assert letter["value_bytes"] > 0
    assert "value" not in letter
    assert SECRET_ANSWER not in answer_json
    assert [result["outcome"] for result in first["results"]] == ["applied"]
    assert first["totals"]["applied"] == 1
    assert reassigned[1].payload.answers == {"address": SECRET_ANSWER}
    assert [(result["outcome"], result["detail"]) for result in second["results"]] == [("duplicate", None)]
    assert await listed(routing, ce_id=answer.id) == [letter], "the dead-letter topic keeps its records"


async def test_a_decision_that_still_fails_is_dead_lettered_again_with_its_reason_and_replayed_once_per_record(
    routing: Routing,
) -> None:
    assignment = await assigned(routing)
    unknown = decision_event(assignment, Decision.APPROVED)
    unknown = Event(
        payload=unknown.payload.model_copy(update={"task_id": "no-such-task"}),
        source=unknown.source,
        subject=unknown.subject,
        actor=unknown.actor,
    )
    await decide(routing.kafka, unknown)
    await listed(routing, ce_id=unknown.id)

    again = await replay(routing, ce_id=[unknown.id])
    letters = await listed(routing, 2, ce_id=unknown.id)
    once = await replay(routing, ce_id=[unknown.id])
    reason = f"unknown task no-such-task for application {assignment.subject}"

    assert [(result["outcome"], result["detail"]) for result in again["results"]] == [("dead_lettered", reason)]
    assert [letter["reason"] for letter in letters] == [reason, reason]
    assert letters[0]["timestamp"] >= letters[1]["timestamp"], "newest first"
    assert [result["outcome"] for result in once["results"]] == ["dead_lettered", "skipped"]
    assert once["results"][1]["detail"] == f"the same record as {_position(letters[1])}, replayed once"


def _position(letter: dict[str, Any]) -> str:
    position = letter["position"]
    return f"{position['topic']}:{position['partition']}:{position['offset']}"


async def test_a_trimmed_dead_letter_is_listed_but_skipped_by_a_replay(routing: Routing) -> None:
    too_large = submitted_event("no-such-service", data={"notes": "x" * (4 * DLQ_MAX_MESSAGE_BYTES)})
    await produce(routing.kafka, APPLICATIONS, [record_of(too_large)])

    [letter] = await listed(routing, ce_id=too_large.id)
    report = await replay(routing, ce_id=[too_large.id])

    assert letter["trimmed"] is True
    assert letter["value_bytes"] > 4 * DLQ_MAX_MESSAGE_BYTES
    assert letter["reason"] == "unknown service 'no-such-service'"
    [result] = report["results"]
    assert result["outcome"] == "skipped"
    assert result["detail"].startswith("trimmed: its value")
    assert report["totals"] | {"skipped": 0} == dict.fromkeys(report["totals"], 0)


async def test_filters_select_only_the_dead_letters_they_name(routing: Routing) -> None:
    assignment = await assigned(routing)
    answer = await answer_unasked(routing, assignment)
    stray = decision_event(assignment, Decision.APPROVED, agency="dlh")  # dlh decides polres's task
    await decide(routing.kafka, stray)
    both = [answer.id, stray.id]
    await listed(routing, 2, ce_id=both)
    before = datetime.now(UTC) - timedelta(hours=1)

    by_type = await listed(routing, ce_id=both, event_type="task.decided")
    by_topic = await listed(routing, ce_id=both, topic=APPLICATIONS)
    by_reason = await listed(routing, ce_id=both, reason="NOT WAITING")
    by_consumer = await listed(routing, 2, ce_id=both, consumer="routing", since=before.isoformat())
    later = await routing.client.get(
        "/dlq",
        params={"ce_id": both, "since": (datetime.now(UTC) + timedelta(hours=1)).isoformat()},
        headers=routing.operator,
    )
    dry = await replay(routing, ce_id=both, event_type=["task.decided"], dry_run=True)
    by_position = await replay(routing, positions=[by_type[0]["position"]], dry_run=True)
    unknown_consumer = await routing.client.get("/dlq", params={"consumer": "mall"}, headers=routing.operator)
    everything = await routing.client.post("/dlq/replay", json={}, headers=routing.operator)
    backwards = await routing.client.get(
        "/dlq", params={"since": "2026-08-02T00:00:00Z", "until": "2026-08-01T00:00:00Z"}, headers=routing.operator
    )

    assert [letter["ce_id"] for letter in by_type] == [stray.id]
    assert [letter["ce_id"] for letter in by_topic] == [answer.id]
    assert [letter["ce_id"] for letter in by_reason] == [answer.id]
    assert {letter["ce_id"] for letter in by_consumer} == set(both)
    assert later.json()["dead_letters"] == []
    assert [(result["ce_id"], result["outcome"]) for result in dry["results"]] == [(stray.id, "would_replay")]
    assert [(result["ce_id"], result["outcome"]) for result in by_position["results"]] == [(stray.id, "would_replay")]
    for refused, field in ((unknown_consumer, "consumer"), (everything, "all"), (backwards, "until")):
        assert (refused.status_code, refused.headers["content-type"]) == (422, PROBLEM), refused.text
        assert [error["field"] for error in refused.json()["errors"]] == [field]


async def test_only_operators_get_in_and_every_use_and_refusal_is_recorded_on_the_access_topic(
    routing: Routing,
) -> None:
    officer = routing.bearer(Role.OFFICER, subject="budi", agency="polres")
    auditor = routing.bearer(Role.AUDITOR, subject="andi")

    anonymous = await routing.client.get("/dlq")
    refused_list = await routing.client.get("/dlq", params={"consumer": "routing"}, headers=officer)
    refused_replay = await routing.client.post("/dlq/replay", json={"all": True}, headers=auditor)
    granted = await routing.client.get("/dlq", params={"limit": 1}, headers=routing.operator)
    dry_all = await routing.client.post("/dlq/replay", json={"all": True, "dry_run": True}, headers=routing.operator)
    recorded = await eventually(
        lambda: access_recorded(routing, ""),
        lambda found: (
            {(entry["principal"], entry["action"], entry["outcome"]) for entry in found}
            >= {
                ("officer:polres:budi", "read", "denied"),
                ("auditor:andi", "replay", "denied"),
                ("operator:rina", "read", "granted"),
                ("operator:rina", "replay", "granted"),
            }
        ),
        what="the refusals and the uses on the access topic",
    )

    assert (anonymous.status_code, anonymous.headers["content-type"]) == (401, PROBLEM)
    for refused in (refused_list, refused_replay):
        assert (refused.status_code, refused.headers["content-type"]) == (403, PROBLEM)
        assert "operator role" in refused.json()["detail"]
    assert granted.status_code == 200
    assert dry_all.status_code == 200
    assert dry_all.json()["dry_run"] is True
    denied = next(entry for entry in recorded if entry["principal"] == "officer:polres:budi")
    assert denied["resource"] == "GET /dlq?consumer=routing"
    assert denied["reason"].startswith("This needs the operator role")
    assert denied["source"] == "/satupintu/routing"
    assert {entry["resource"] for entry in recorded if entry["action"] == "replay"} == {"POST /dlq/replay"}


async def test_an_operator_signs_in_through_the_provider_and_replays_a_selection_only_with_the_csrf_token(
    routing: Routing,
) -> None:
    assignment = await assigned(routing)
    answer = await answer_unasked(routing, assignment)
    [letter] = await listed(routing, ce_id=answer.id)
    await decide(routing.kafka, decision_event(assignment, Decision.NEEDS_INFORMATION, questions=("Alamat?",)))
    await wait_for_events(routing.kafka, APPLICATIONS, assignment.subject, "application.information_requested")
    page = routing.browser()
    operator = Person.named("operator")

    unsigned = await page.get("/operator/dead-letters", params={"ce_id": answer.id})
    sign_in_page = await page.get("/operator/sign-in")
    back = await operator.sign_in(page, f"/operator/dead-letters?ce_id={answer.id}")
    cookie, cookie_names = page.cookies[SESSION_COOKIE], {kept.name for kept in page.cookies.jar}
    listing = await page.get("/operator/dead-letters", params={"ce_id": answer.id, "lang": "en"})
    csrf = _hidden(listing.text, "csrf_token")
    position = _position(letter)
    without_token = await page.post("/operator/dead-letters/replay", data={"position": position})
    wrong_token = await page.post("/operator/dead-letters/replay", data={"position": position, "csrf_token": "x"})
    replayed = await page.post("/operator/dead-letters/replay?lang=en", data={"position": position, "csrf_token": csrf})
    signed_out = await page.post("/auth/logout", data={"csrf_token": csrf})
    at_provider = await operator.provider.get(signed_out.headers["location"])  # RP-initiated logout at Keycloak
    landing = await page.get("/auth/signed-out")
    after = await page.get("/operator/dead-letters")
    recorded = await eventually(
        lambda: access_recorded(routing, "GET /operator/dead-letters"),
        lambda found: any(entry["principal"] == "operator:operator" for entry in found),
        what="the operator's read of the page on the access topic",
    )

    assert (unsigned.status_code, unsigned.headers["location"]) == (303, "/operator/sign-in")
    assert sign_in_page.status_code == 200
    assert 'href="/auth/login?next=%2Foperator%2Fdead-letters"' in sign_in_page.text
    assert "Masuk / Sign in" in sign_in_page.text
    assert "<form" not in sign_in_page.text  # no token to paste
    assert (back.status_code, back.headers["location"]) == (303, f"/operator/dead-letters?ce_id={answer.id}")
    assert "." not in cookie  # an opaque id, no token
    assert "satupintu_operator" not in cookie_names
    assert listing.status_code == 200
    assert "Signed in as operator:operator" in listing.text
    assert f"task {assignment.payload.task_id} is assigned, not waiting for information" in listing.text
    assert SECRET_ANSWER not in listing.text
    assert f'value="{position}"' in listing.text
    assert 'action="/auth/logout"' in listing.text
    issuer = httpx.URL(str(routing.settings.oidc.issuer))
    assert (
        f"form-action 'self' {issuer.scheme}://{issuer.netloc.decode()}" in listing.headers["content-security-policy"]
    )
    assert without_token.status_code == 403
    assert wrong_token.status_code == 403
    assert replayed.status_code == 200
    assert re.search(r'outcome--applied">applied<', replayed.text), "the refused posts changed nothing"
    assert signed_out.status_code == 303
    assert signed_out.headers["location"].startswith(f"{routing.settings.oidc.issuer}/")
    assert at_provider.headers["location"] == f"{ASGI_ADDRESS}/auth/signed-out"
    assert landing.headers["location"] == "/operator/sign-in?signed_out=1"
    assert "You are signed out" in (await page.get(f"{landing.headers['location']}&lang=en")).text
    assert (after.status_code, after.headers["location"]) == (303, "/operator/sign-in")
    assert {entry["outcome"] for entry in recorded if entry["principal"] == "operator:operator"} == {"granted"}
    await operator.close()
    await page.aclose()


async def test_a_token_pasted_into_the_old_sign_in_form_or_cookie_signs_nobody_in(routing: Routing) -> None:
    page = routing.browser()
    token = routing.issuer.issue("rina", {Role.OPERATOR})

    posted = await page.post("/operator/sign-in", data={"token": token, "csrf_token": "x"})
    listing = await page.get("/operator/dead-letters")
    with_old_cookie = await page.get("/operator/dead-letters", headers={"Cookie": f"satupintu_operator={token}"})
    with_bearer = await page.get("/operator/dead-letters", headers={"Authorization": f"Bearer {token}"})
    replay_with_bearer = await page.post(
        "/operator/dead-letters/replay",
        data={"position": "applications.dlq:0:0"},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert posted.status_code == 405  # there is no sign-in form any more
    assert "set-cookie" not in posted.headers
    assert not page.cookies
    for refused in (listing, with_old_cookie, with_bearer, replay_with_bearer):
        assert (refused.status_code, refused.headers["location"]) == (303, "/operator/sign-in")
    await page.aclose()


async def test_an_officer_who_signs_in_to_the_dead_letter_page_is_refused_with_no_session(routing: Routing) -> None:
    page = routing.browser()
    officer = Person.named("officer-polres")

    back = await officer.sign_in(page, "/operator/dead-letters")
    listing = await page.get("/operator/dead-letters")

    assert back.status_code == 403
    assert "This account may not use these pages" in back.text
    assert SESSION_COOKIE not in page.cookies
    assert (listing.status_code, listing.headers["location"]) == (303, "/operator/sign-in")
    await officer.close()
    await page.aclose()


def _hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert found, f"no {name} in the page"
    return found.group(1)
