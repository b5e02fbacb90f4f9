"""The auditors' pages on the real broker, database and Keycloak: an auditor signs in through the provider's login
form and reads the trail, each read recorded as ``access.recorded`` with them as the actor, and signs out through the
provider; a token in the URL signs nobody in, an officer who signs in is refused with no session, and an operator
signed in for the dead-letter page is refused the trail (recorded)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from satupintu.audit.factory import SESSION_COOKIE
from satupintu.common.auth import Role
from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.contract.topics import Topic
from satupintu.devtools.localstack.keycloak import LocalKeycloak
from satupintu.devtools.testing.sign_in import KeycloakAdmin, Person
from satupintu.devtools.testing.waiting import eventually
from tests.conftest import running
from tests.support import produce, record_of, submitted_event

from .conftest import RunningAudit, access_records, start_audit

pytestmark = pytest.mark.integration

APPLICATIONS = Topic.APPLICATIONS.name_for()
ASGI_ADDRESS = "http://service"  # where the tests' ASGI client reaches the service (satupintu.devtools.testing.apps)


@pytest.fixture(scope="module")
async def audit(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, keycloak: LocalKeycloak
) -> AsyncIterator[RunningAudit]:
    """The audit service with a client of its own at Keycloak for the address the tests reach it at."""
    oidc = KeycloakAdmin(keycloak).register_web_client("audit", ASGI_ADDRESS)
    app, settings = await start_audit(kafka_settings, database_settings, oidc=oidc)
    async with running(app) as client:
        yield RunningAudit(app, client, settings)


async def sessions_of(audit: RunningAudit, username: str) -> int:
    """How many sign-in sessions the service keeps for ``username``."""
    async with audit.service.connect() as connection:
        query = text("SELECT count(*) FROM sign_in_sessions WHERE username = :username")
        count: int = (await connection.execute(query, {"username": username})).scalar_one()
        return count


def csrf_of(page: str) -> str:
    """The sign-out form's CSRF token on a page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match[1]


async def test_an_auditor_signs_in_through_the_provider_reads_the_trail_as_themselves_and_signs_out(
    audit: RunningAudit,
) -> None:
    audit.client.cookies.clear()
    event = submitted_event()
    await produce(audit.kafka, APPLICATIONS, [record_of(event)])
    await audit.wait_for_rows("ce_id = :id", id=event.id)
    auditor = Person.named("auditor")
    timeline_path = f"/audit/ui/applications/{event.subject}"

    refused = await audit.client.get(timeline_path)
    back = await auditor.sign_in(audit.client, timeline_path)
    timeline = await audit.client.get(timeline_path)
    search = await audit.client.get("/audit/ui", params={"application_id": event.subject})

    assert refused.status_code == 401
    assert "/auth/login?next=%2Faudit%2Fui%2Fapplications%2F" in refused.text
    assert (back.status_code, back.headers["location"]) == (303, timeline_path)
    cookie = audit.client.cookies[SESSION_COOKIE]
    assert "." not in cookie  # an opaque id, no token
    assert "auditor" not in cookie
    assert timeline.status_code == 200, timeline.text
    assert timeline.headers["cache-control"] == "no-store"  # audit entries stay out of caches
    assert "frame-ancestors 'none'" in timeline.headers["content-security-policy"]
    assert "application.submitted" in timeline.text
    assert "auditor:auditor" in timeline.text  # who is signed in, beside the sign-out button
    assert search.status_code == 200
    assert event.subject in search.text
    assert event.payload.applicant.nik not in search.text
    recorded = await eventually(
        lambda: access_records(audit, f"GET {timeline_path}"), what="the page read recorded on the access topic"
    )
    assert [(item["principal"], item["outcome"], item["subject_id"]) for item in recorded] == [
        ("auditor:auditor", "granted", event.subject)
    ]
    logged = await audit.wait_for_rows("subject = :id AND type = 'access.recorded'", 2, id=event.subject)
    assert {row.actor for row in logged} == {"auditor:auditor"}

    out = await audit.client.post("/auth/logout", data={"csrf_token": csrf_of(search.text)})
    at_provider = await auditor.provider.get(out.headers["location"])  # RP-initiated logout at Keycloak
    signed_out = await audit.client.get("/auth/signed-out")
    landing = await audit.client.get(signed_out.headers["location"])
    after = await audit.client.get("/audit/ui")

    assert out.status_code == 303
    assert out.headers["location"].startswith(f"{audit.settings.oidc.issuer}/")
    assert at_provider.headers["location"] == f"{ASGI_ADDRESS}/auth/signed-out"
    assert signed_out.headers["location"] == "/audit/ui/login?signed_out=1"
    assert "You are signed out" in landing.text
    assert after.status_code == 401
    assert await sessions_of(audit, "auditor") == 0
    await auditor.close()


async def test_a_token_in_the_url_signs_nobody_in(audit: RunningAudit) -> None:
    audit.client.cookies.clear()
    token = audit.token(Role.AUDITOR, subject="url-token")
    assert (await audit.client.get("/audit/events", headers={"Authorization": f"Bearer {token}"})).status_code == 200

    login = await audit.client.get("/audit/ui/login", params={"token": token, "next": "/audit/ui"})
    page = await audit.client.get("/audit/ui", params={"token": token})

    assert login.status_code == 200  # the sign-in page, as without the token
    assert "set-cookie" not in login.headers
    assert 'name="token"' not in login.text
    assert "/auth/login?next=%2Faudit%2Fui" in login.text
    assert page.status_code == 401
    assert "application.submitted" not in page.text
    assert not audit.client.cookies
    assert await sessions_of(audit, "url-token") == 0


async def test_an_officer_who_signs_in_to_the_audit_pages_is_refused_and_has_no_session(audit: RunningAudit) -> None:
    audit.client.cookies.clear()
    officer = Person.named("officer-polres")

    back = await officer.sign_in(audit.client, "/audit/ui")
    page = await audit.client.get("/audit/ui")

    assert back.status_code == 403
    assert "This account may not use these pages" in back.text
    assert SESSION_COOKIE not in audit.client.cookies
    assert page.status_code == 401
    assert await sessions_of(audit, "officer-polres") == 0
    await officer.close()


async def test_an_operator_signed_in_for_the_dead_letter_page_is_refused_the_trail_and_the_refusal_recorded(
    audit: RunningAudit,
) -> None:
    audit.client.cookies.clear()
    operator = Person.named("operator")

    back = await operator.sign_in(audit.client, "/operator/dead-letters")
    dead_letters = await audit.client.get("/operator/dead-letters")
    trail = await audit.client.get("/audit/ui", params={"application_id": "a-refused-operator"})
    login = await audit.client.get("/audit/ui/login")
    recorded = await eventually(
        lambda: access_records(audit, "GET /audit/ui?application_id=a-refused-operator"),
        what="the operator's refusal on the access topic",
    )
    await operator.close()

    assert (back.status_code, back.headers["location"]) == (303, "/operator/dead-letters")
    assert dead_letters.status_code == 200
    assert trail.status_code == 403
    assert "auditor role" in trail.text
    assert login.status_code == 200  # the sign-in page, not on to the trail
    assert [(item["principal"], item["outcome"], item["subject_id"]) for item in recorded] == [
        ("operator:operator", "denied", "a-refused-operator")
    ]
