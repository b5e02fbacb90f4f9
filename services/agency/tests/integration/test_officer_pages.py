"""The desk's pages over HTTP with officers signed in through the real local Keycloak: no passwords of the desk's own,
a cookie that holds only an opaque id, CSRF on every form, claiming and deciding through the same use cases, the
officer's agency from their token, another agency's task refused and recorded, signing out; an operator signs in to
the desk's dead-letter page and is no officer on the desk, an officer is refused the dead-letter page (recorded).
(A decision routing refused, shown on the pages, is in ``tests/e2e/test_desk_and_routing.py``: it runs routing.)"""

from __future__ import annotations

from typing import Any

import pytest

from satupintu.agency.web.desk import DECISION_SENT_TEXT
from satupintu.common.settings import KafkaSettings
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.sign_in import Person
from satupintu.devtools.testing.waiting import eventually
from tests.desk import csrf_of, row_of, sign_in_officer
from tests.support import events_on, wait_for_events

pytestmark = pytest.mark.integration


async def test_an_officer_signs_in_through_the_provider_claims_and_decides_through_the_pages(
    officer_desk: Any, kafka_settings: KafkaSettings
) -> None:
    desk = officer_desk
    task = await desk.assign("polres", fields={"purpose": "Melamar kerja", "address": "Jl. Kenari 3"})
    await desk.wait_for_task(desk.token("polres"), task.payload.task_id)
    client = desk.client
    page = f"/desk/tasks/{task.payload.task_id}"

    before = await client.get("/desk")
    sign_in_page = await client.get("/login")
    old_form = await client.post("/login", data={"username": "officer-polres", "password": "local-officer-polres"})
    signed_in = await sign_in_officer(desk, "officer-polres")
    cookie = signed_in.headers["set-cookie"]
    listing = await client.get("/desk")
    detail = await client.get(page)
    forged = await client.post(f"{page}/claim", data={"csrf_token": "forged"})
    claimed = await client.post(f"{page}/claim", data={"csrf_token": csrf_of(detail)})
    held = await client.get(page)
    incomplete = await client.post(f"{page}/decision", data={"csrf_token": csrf_of(held), "decision": "rejected"})
    decided = await client.post(
        f"{page}/decision",
        data={"csrf_token": csrf_of(held), "decision": "approved", "outputs": "skck_number = SKCK/2026/11/9"},
    )
    after = await client.get("/desk")
    [decision] = await wait_for_events(
        kafka_settings, Topic.AGENCY_DECISIONS.name_for("polres"), task.subject, "task.decided"
    )

    assert (before.status_code, before.headers["location"]) == (303, "/login")
    assert "/auth/login?next=%2Fdesk" in sign_in_page.text
    assert 'type="password"' not in sign_in_page.text  # the desk asks for no password
    assert old_form.status_code == 405  # the desk's own password form is gone
    assert (signed_in.status_code, signed_in.headers["location"]) == (303, "/desk")
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    assert "officer" not in cookie.split(";", 1)[0]  # an opaque id, no token
    assert listing.status_code == 200
    assert task.payload.task_id in listing.text
    assert "Surat Keterangan Catatan Kepolisian" in listing.text
    assert "Budi Santoso" in listing.text
    assert listing.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in listing.headers["content-security-policy"]
    assert "Jl. Kenari 3" in detail.text
    assert "Ambil tugas" in detail.text
    assert forged.status_code == 403
    assert (claimed.status_code, claimed.headers["location"]) == (303, page)
    assert "Kirim keputusan" in held.text
    assert incomplete.status_code == 422
    assert "Penolakan perlu alasan" in incomplete.text
    assert (decided.status_code, decided.headers["location"]) == (303, "/desk")
    assert "Keputusan terkirim: Disetujui." in after.text
    assert f'{DECISION_SENT_TEXT}</span><br><span class="muted">Disetujui</span>' in row_of(after, task.payload.task_id)
    assert decision.actor == "officer:polres:officer-polres"
    assert decision.payload.outputs == {"skck_number": "SKCK/2026/11/9"}


async def test_another_agencys_task_page_is_refused_and_recorded_and_signing_out_ends_the_session(
    officer_desk: Any, kafka_settings: KafkaSettings
) -> None:
    desk = officer_desk
    foreign = await desk.assign("imigrasi", service_code="paspor", fields={"mother_name": "Sri"})
    await desk.wait_for_task(desk.token("imigrasi"), foreign.payload.task_id)
    await sign_in_officer(desk, "officer-polres")

    refused = await desk.client.get(f"/desk/tasks/{foreign.payload.task_id}")
    [record] = await wait_for_events(kafka_settings, Topic.ACCESS.name_for(), foreign.subject, "access.recorded")
    listing = await desk.client.get("/desk")
    forged_out = await desk.client.post("/auth/logout", data={"csrf_token": "forged"})
    still_in = await desk.client.get("/desk")
    signed_out = await desk.client.post("/auth/logout", data={"csrf_token": csrf_of(listing)})
    after = await desk.client.get("/desk")

    assert refused.status_code == 404
    assert "Sri" not in refused.text
    assert (record.payload.outcome, record.payload.principal) == ("denied", "officer:polres:officer-polres")
    assert forged_out.status_code == 303
    assert still_in.status_code == 200
    assert signed_out.status_code == 303
    assert "/protocol/openid-connect/logout?" in signed_out.headers["location"]  # on to the provider
    assert "id_token_hint=" in signed_out.headers["location"]
    assert (after.status_code, after.headers["location"]) == (303, "/login")


async def test_an_auditor_cannot_open_the_desk(officer_desk: Any) -> None:
    answer = await sign_in_officer(officer_desk, "auditor")

    assert answer.status_code == 403
    assert "tidak berhak" in answer.text
    assert (await officer_desk.client.get("/desk")).status_code == 303


async def test_an_operator_signs_in_to_the_dead_letter_page_and_is_no_officer_at_the_desk(officer_desk: Any) -> None:
    desk = officer_desk
    operator = Person.named("operator")

    back = await operator.sign_in(desk.client, "/operator/dead-letters")
    dead_letters = await desk.client.get("/operator/dead-letters")
    tasks_page = await desk.client.get("/desk")
    tasks_api = await desk.client.get("/tasks")
    await operator.close()

    assert (back.status_code, back.headers["location"]) == (303, "/operator/dead-letters")
    assert dead_letters.status_code == 200
    assert "operator:operator" in dead_letters.text
    assert (tasks_page.status_code, tasks_page.headers["location"]) == (303, "/login")
    assert tasks_api.status_code == 401  # the session is an operator's, not an officer's


async def test_an_officer_signed_in_at_the_desk_is_refused_the_dead_letter_page_and_the_refusal_recorded(
    officer_desk: Any, kafka_settings: KafkaSettings
) -> None:
    desk = officer_desk
    await sign_in_officer(desk, "officer-polres")

    refused = await desk.client.get("/operator/dead-letters", params={"lang": "en"})
    recorded = await eventually(
        lambda: events_on(kafka_settings, Topic.ACCESS.name_for(), "dead-letters:agency"),
        lambda found: any(event.payload.principal == "officer:polres:officer-polres" for event in found),
        what="the refusal on the access topic",
    )

    assert refused.status_code == 403
    assert "not an operator" in refused.text
    denied = [event.payload for event in recorded if event.payload.principal == "officer:polres:officer-polres"]
    assert {(entry.action, entry.outcome, entry.resource) for entry in denied} == {
        ("read", "denied", "GET /operator/dead-letters?lang=en")
    }
