"""Originals collected at the counter, on the real broker, database and local Keycloak: a `document.issued` whose
catalogue says the original is collected at the counter waits there, found by number or tracking code; a clerk
records the pickup, which publishes exactly one `document.collected` naming the clerk; a second attempt, a revoked
document, a document not collected at the counter and a nameless collector change nothing. The staff page does the
same through the sign-in."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from satupintu.common.auth import Role
from satupintu.contract.applications import ApplicationSubmitted
from satupintu.contract.documents import DocumentIssued, DocumentRevoked
from satupintu.contract.envelope import Event
from satupintu.devtools.localstack.keycloak import LocalKeycloak
from satupintu.devtools.testing.sign_in import KeycloakAdmin
from satupintu.devtools.testing.waiting import eventually
from tests.support import produce, record_of

from .conftest import APPLICATIONS, RunningMall
from .test_staff_pages import BASE_URL, browser, flash

pytestmark = pytest.mark.integration
WIB = ZoneInfo("Asia/Jakarta")
CLERK = "officer:dpmptsp:sari"


@pytest.fixture(scope="module")
def mall_settings(keycloak: LocalKeycloak) -> dict[str, Any]:
    """The mall signs staff in through a client of the local Keycloak registered for the tests' address."""
    return {"oidc": KeycloakAdmin(keycloak).register_web_client("mall", BASE_URL)}


def issued_event(
    submitted: Event[ApplicationSubmitted], number: str, *, at_counter: bool = True
) -> Event[DocumentIssued]:
    """A `document.issued` for the application, as the issuing agency's desk publishes it."""
    sha = hashlib.sha256(number.encode()).hexdigest()
    return submitted.caused(
        DocumentIssued(
            document_id=uuid.uuid4(),
            application_id=submitted.subject,
            agency="polres",
            service_code="skck",
            number=number,
            issued_at=datetime(2026, 8, 14, 9, 30, tzinfo=WIB),
            sha256=sha,
            size_bytes=1024,
            pdf={"name": "skck", "sha256": sha},
            holder_initials="R. K.",
            holder_nik_masked="************0002",
            officer="officer:polres:rina",
            collect_at_counter=at_counter,
        ),
        source="/satupintu/agency/desk",
        actor="officer:polres:rina",
    )


async def issue(mall: RunningMall, *events: Event[DocumentIssued]) -> None:
    """Publish the issues and wait until the last one waits at the counter (the ones before it are handled then)."""
    await produce(mall.kafka, APPLICATIONS, [record_of(event) for event in events])
    last = events[-1].payload

    async def at_counter() -> list[dict[str, Any]]:
        answer = await mall.client.get("/documents", params={"number": last.number}, headers=mall.officer("dpmptsp"))
        found: list[dict[str, Any]] = answer.json()
        return found

    await eventually(at_counter, what=f"{last.number} at the counter")


def serial() -> str:
    return uuid.uuid4().hex[:8].upper()


def pickup(name: str = "Rahmat Kurniawan", *, holder: bool = True) -> dict[str, Any]:
    return {"collected_by": name, "collected_by_holder": holder}


async def test_a_pickup_is_recorded_once_and_published_once_with_the_clerk(mall: RunningMall) -> None:
    submitted = await mall.submit("skck")
    first, second = (issued_event(submitted, f"SKCK/POLRES/2026/{serial()}") for _ in range(2))
    await issue(mall, first, first, second)  # the first one redelivered
    clerk = mall.headers(Role.OFFICER, subject="sari", agency="dpmptsp")
    document_id, number = str(first.payload.document_id), first.payload.number

    waiting = (await mall.client.get("/documents", headers=clerk)).json()
    assert [row["number"] for row in waiting].count(number) == 1
    by_code = (
        await mall.client.get("/documents", params={"tracking_code": submitted.payload.tracking_code}, headers=clerk)
    ).json()
    assert sorted(row["number"] for row in by_code) == sorted([number, second.payload.number])
    assert {row["state"] for row in by_code} == {"waiting"}

    mall.clock.now = datetime(2026, 8, 20, 10, 15, tzinfo=WIB)
    recorded = await mall.client.post(f"/documents/{document_id}/pickup", json=pickup(holder=False), headers=clerk)
    again = await mall.client.post(f"/documents/{document_id}/pickup", json=pickup("Orang Lain"), headers=clerk)
    # The other document's pickup, published after the refused attempt: once it is on the topic, so is everything
    # the refused attempt could have published.
    other = await mall.client.post(
        f"/documents/{second.payload.document_id}/pickup", json=pickup(), headers=mall.officer("dpmptsp", "dewi")
    )

    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["state"] == "collected"
    assert (recorded.json()["handed_over_by"], recorded.json()["tracking_code"]) == (
        CLERK,
        submitted.payload.tracking_code,
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    problem = again.json()
    assert problem["type"].endswith("/document-collected")
    assert problem["handed_over_by"] == CLERK
    assert datetime.fromisoformat(problem["collected_at"]) == mall.clock.now
    assert number in problem["detail"]
    assert CLERK in problem["detail"]
    assert other.status_code == 201, other.text

    collected = await mall.mall_events(submitted.subject, "document.collected", count=2)
    assert [event.payload.number for event in collected] == [number, second.payload.number]
    first_pickup = collected[0]
    assert (first_pickup.payload.handed_over_by, first_pickup.actor) == (CLERK, CLERK)
    assert (first_pickup.payload.collected_by, first_pickup.payload.collected_by_holder) == ("Rahmat Kurniawan", False)
    assert first_pickup.payload.collected_at == mall.clock.now
    assert (first_pickup.payload.document_id, first_pickup.subject) == (first.payload.document_id, submitted.subject)
    assert collected[1].payload.handed_over_by == "officer:dpmptsp:dewi"

    still_waiting = (await mall.client.get("/documents", headers=clerk)).json()
    assert number not in [row["number"] for row in still_waiting]
    found = (await mall.client.get("/documents", params={"number": number}, headers=clerk)).json()
    assert [(row["state"], row["collected_by"]) for row in found] == [("collected", "Rahmat Kurniawan")]


async def test_a_revoked_document_is_not_handed_over(mall: RunningMall) -> None:
    submitted = await mall.submit("skck")
    issued = issued_event(submitted, f"SKCK/POLRES/2026/{serial()}")
    revoked = submitted.caused(
        DocumentRevoked(
            document_id=issued.payload.document_id,
            application_id=submitted.subject,
            agency="polres",
            reason="Data pemohon keliru.",
            revoked_at=datetime(2026, 8, 15, 8, 0, tzinfo=WIB),
        ),
        source="/satupintu/agency/desk",
        actor="officer:polres:rina",
    )
    await produce(mall.kafka, APPLICATIONS, [record_of(issued), record_of(revoked)])
    clerk = mall.officer("dpmptsp")

    async def state() -> str:
        found = (await mall.client.get("/documents", params={"number": issued.payload.number}, headers=clerk)).json()
        return str(found[0]["state"]) if found else "unknown"

    await eventually(state, lambda value: value == "revoked", what="the revocation at the counter")
    refused = await mall.client.post(f"/documents/{issued.payload.document_id}/pickup", json=pickup(), headers=clerk)

    assert refused.status_code == 409
    assert refused.json()["type"].endswith("/document-revoked")
    assert issued.payload.number not in [
        row["number"] for row in (await mall.client.get("/documents", headers=clerk)).json()
    ]


async def test_a_document_not_collected_at_the_counter_is_unknown_there(mall: RunningMall) -> None:
    submitted = await mall.submit("skck")
    online = issued_event(submitted, f"NIB/DPMPTSP/2026/{serial()}", at_counter=False)
    await issue(mall, online, issued_event(submitted, f"SKCK/POLRES/2026/{serial()}"))
    clerk = mall.officer("dpmptsp")

    refused = await mall.client.post(f"/documents/{online.payload.document_id}/pickup", json=pickup(), headers=clerk)
    unknown = await mall.client.post(f"/documents/{uuid.uuid4()}/pickup", json=pickup(), headers=clerk)
    malformed = await mall.client.post("/documents/not-an-id/pickup", json=pickup(), headers=clerk)

    assert [answer.status_code for answer in (refused, unknown, malformed)] == [404, 404, 404]
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await mall.client.get("/documents", params={"number": online.payload.number}, headers=clerk)).json() == []


async def test_a_pickup_needs_the_collectors_name_and_a_clerk(mall: RunningMall) -> None:
    submitted = await mall.submit("skck")
    issued = issued_event(submitted, f"SKCK/POLRES/2026/{serial()}")
    await issue(mall, issued)
    address = f"/documents/{issued.payload.document_id}/pickup"
    clerk = mall.officer("dpmptsp")

    nameless = await mall.client.post(address, json=pickup("   "), headers=clerk)
    too_long = await mall.client.post(address, json=pickup("A" * 121), headers=clerk)
    missing = await mall.client.post(address, json={"collected_by_holder": True}, headers=clerk)
    auditor = await mall.client.post(address, json=pickup(), headers=mall.headers(Role.AUDITOR))
    nobody = await mall.client.post(address, json=pickup())

    for answer in (nameless, too_long, missing):
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert [error["field"] for error in answer.json()["errors"]] == ["collected_by"]
    assert (auditor.status_code, nobody.status_code) == (403, 401)
    found = (await mall.client.get("/documents", params={"number": issued.payload.number}, headers=clerk)).json()
    assert found[0]["state"] == "waiting"


async def test_a_clerk_records_a_pickup_on_the_staff_page_once(mall: RunningMall) -> None:
    submitted = await mall.submit("skck")
    issued = issued_event(submitted, f"SKCK/POLRES/2026/{serial()}")
    await issue(mall, issued)
    number, document_id = issued.payload.number, str(issued.payload.document_id)

    async with browser(mall) as clerk:
        await clerk.sign_in("clerk-mall")
        listing = await clerk.open("/staff/documents")
        assert listing.status_code == 200
        assert re.search(rf'data-number="{re.escape(number)}" data-state="waiting"', listing.text)
        assert "Kepolisian" in listing.text
        english = await clerk.open("/staff/documents?lang=en")
        assert "documents waiting to be collected" in english.text

        search = await clerk.open(f"/staff/documents?q={submitted.payload.tracking_code}")
        assert f'href="/staff/documents/{document_id}"' in search.text
        item = await clerk.open(f"/staff/documents/{document_id}")
        assert 'id="record-pickup"' in item.text

        forged = await clerk.client.post(
            f"/staff/documents/{document_id}/pickup", data={"collected_by": "Rahmat", "csrf_token": "forged"}
        )
        assert forged.status_code == 403
        nameless = await clerk.send(f"/staff/documents/{document_id}/pickup", collected_by=" ", **{"as": "holder"})
        assert nameless.status_code == 422
        assert 'id="collected_by-error"' in nameless.text

        mall.clock.now += timedelta(minutes=1)
        done = await clerk.send(
            f"/staff/documents/{document_id}/pickup", collected_by="Rahmat Kurniawan", **{"as": "representative"}
        )
        assert (done.status_code, done.headers["location"]) == (303, "/staff/documents")
        assert flash(await clerk.open("/staff/documents")) == f"Dokumen {number} diserahkan kepada Rahmat Kurniawan."
        twice = await clerk.send(f"/staff/documents/{document_id}/pickup", collected_by="Rahmat Kurniawan")
        shown = await clerk.open(twice.headers["location"])
        assert "sudah diserahkan" in flash(shown)
        assert "officer:dpmptsp:clerk-mall" in flash(shown)
        assert 'id="document-collected"' in shown.text
        assert "Rahmat Kurniawan, kuasa (dengan surat kuasa)" in shown.text

    collected = await mall.mall_events(submitted.subject, "document.collected")
    assert len(collected) == 1
    assert (collected[0].payload.handed_over_by, collected[0].payload.collected_by_holder) == (
        "officer:dpmptsp:clerk-mall",
        False,
    )

    async with browser(mall) as auditor:
        await auditor.sign_in("auditor")
        page = await auditor.open(f"/staff/documents/{document_id}")
        assert page.status_code == 200
        refused = await auditor.send(f"/staff/documents/{document_id}/pickup", collected_by="Siapa Saja")
        assert refused.status_code == 403
