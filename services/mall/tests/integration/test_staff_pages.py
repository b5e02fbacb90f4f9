"""The staff pages on the real broker, database and local Keycloak: a clerk signs in on Keycloak's login page, calls
visitors to a counter, marks them served or no-shows, and the now-calling display shows the calls; the complaint
desk lists open complaints by due date with the overdue ones marked, and answers one. Nobody signed in is sent to
the sign-in page; after signing out (here and at Keycloak) the pages send the clerk to sign in again. Forms without
the sign-in's CSRF token, other agencies' queues and complaints, and accounts without a staff role change nothing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from satupintu.devtools.localstack.keycloak import LocalKeycloak
from satupintu.devtools.testing.sign_in import KeycloakAdmin, Person

from .conftest import RunningMall

pytestmark = pytest.mark.integration
WIB = ZoneInfo("Asia/Jakarta")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
BASE_URL = "http://testserver"
"""Where the tests' clients reach the mall (in process); the test client Keycloak knows sends browsers back here."""


@pytest.fixture(scope="module")
def mall_settings(keycloak: LocalKeycloak) -> dict[str, Any]:
    """The mall signs staff in through a client of the local Keycloak registered for the tests' address."""
    return {"oidc": KeycloakAdmin(keycloak).register_web_client("mall", BASE_URL)}


@dataclass
class Browser:
    """A client that keeps the mall's cookies and the last page's CSRF token, and the person at it (who keeps
    Keycloak's cookies), as a browser would."""

    client: httpx.AsyncClient
    person: Person | None = None
    csrf: str = ""
    pages: list[httpx.Response] = field(default_factory=list)

    async def open(self, path: str) -> httpx.Response:
        page = await self.client.get(path)
        found = CSRF.search(page.text)
        if found:
            self.csrf = found.group(1)
        return page

    async def send(self, path: str, **fields: str) -> httpx.Response:
        return await self.client.post(path, data={"csrf_token": self.csrf, **fields})

    async def sign_in(self, username: str) -> httpx.Response:
        """Sign ``username`` (a local realm user) in on Keycloak's login page; the callback's answer."""
        self.person = Person.named(username)
        return await self.person.sign_in(self.client, "/staff")

    async def sign_out(self) -> httpx.Response:
        """Press "Keluar" on a staff page and follow the redirects through Keycloak's end-session endpoint back to
        the mall; the page the mall sends the browser to."""
        assert self.person is not None
        await self.open("/staff/counter")
        out = await self.send("/auth/logout")
        assert out.status_code == 303
        at_provider = await self.person.provider.get(out.headers["location"])
        assert at_provider.status_code == 302, at_provider.text[:500]
        back = httpx.URL(at_provider.headers["location"])
        assert f"{back.scheme}://{back.host}{back.path}" == f"{BASE_URL}/auth/signed-out"
        return await self.client.get(back.path)


@asynccontextmanager
async def browser(mall: RunningMall, address: str = "127.0.0.1") -> AsyncIterator[Browser]:
    transport = httpx.ASGITransport(app=mall.app, client=(address, 50123))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        opened = Browser(client)
        try:
            yield opened
        finally:
            if opened.person is not None:
                await opened.person.close()


async def take(mall: RunningMall, service_code: str) -> dict[str, Any]:
    answer = await mall.client.post("/queue/tickets", json={"service_code": service_code})
    assert answer.status_code == 201, answer.text
    ticket: dict[str, Any] = answer.json()
    return ticket


async def state_of(mall: RunningMall, ticket: dict[str, Any]) -> str:
    state: str = (await mall.client.get(f"/queue/tickets/{ticket['ticket_id']}")).json()["state"]
    return state


def flash(page: httpx.Response) -> str:
    found = re.search(r'id="flash"[^>]*>([^<]*)<', page.text)
    return found.group(1) if found else ""


async def test_a_clerk_not_signed_in_is_sent_to_the_sign_in_page_which_leads_to_the_provider(
    mall: RunningMall,
) -> None:
    async with browser(mall) as clerk:
        for page in ("/staff", "/staff/counter", "/staff/complaints"):
            sent = await clerk.client.get(page)
            assert (sent.status_code, sent.headers["location"]) == (303, "/staff/login"), page
        unsigned = await clerk.client.post("/staff/counter/call", data={"service_code": "nib", "counter": "X"})
        assert unsigned.headers["location"] == "/staff/login"

        sign_in_page = await clerk.client.get("/staff/login")
        assert sign_in_page.status_code == 200
        assert 'id="sign-in" href="/auth/login?next=%2Fstaff"' in sign_in_page.text
        assert "<textarea" not in sign_in_page.text  # no token to paste
        assert 'href="/auth/login?next=%2Fstaff%3Flang%3Den"' in (await clerk.client.get("/staff/login?lang=en")).text
        to_provider = await clerk.client.get("/auth/login", params={"next": "/staff"})
        assert to_provider.status_code == 303
        assert to_provider.headers["location"].startswith(f"{mall.settings.oidc.issuer}/protocol/openid-connect/auth")

        back = await clerk.sign_in("clerk-mall")
        assert (back.status_code, back.headers["location"]) == (303, "/staff")
        assert (await clerk.client.get("/staff")).headers["location"] == "/staff/counter"
        counter = await clerk.open("/staff/counter")
        assert counter.status_code == 200
        assert "Masuk sebagai clerk-mall (Dinas Penanaman Modal" in counter.text
        cookie = clerk.client.cookies["mall_staff_session"]
        assert "." not in cookie  # an opaque id, no token
        assert len(cookie) >= 40


async def test_after_the_clerk_signs_out_the_staff_pages_send_them_to_sign_in_again(mall: RunningMall) -> None:
    async with browser(mall) as clerk:
        await clerk.sign_in("clerk-mall")
        counter = await clerk.open("/staff/counter")
        assert counter.status_code == 200
        assert 'action="/auth/logout"' in counter.text
        provider = httpx.URL(str(mall.settings.oidc.issuer))
        # The sign-out form's redirect goes on to the provider: the page's policy lets it (and nowhere else).
        assert (
            f"form-action 'self' {provider.scheme}://{provider.netloc.decode()};"
            in (counter.headers["content-security-policy"])
        )

        without_token = await clerk.client.post("/auth/logout", data={"csrf_token": "forged"})
        assert without_token.headers["location"] == "/staff/login"
        assert (await clerk.client.get("/staff/counter")).status_code == 200  # still signed in

        signed_out = await clerk.sign_out()
        assert signed_out.headers["location"] == "/staff/login?signed_out=1"
        page = await clerk.client.get(signed_out.headers["location"])
        assert 'id="signed-out"' in page.text
        assert "Anda sudah keluar." in page.text
        assert "mall_staff_session" not in clerk.client.cookies
        again = await clerk.client.get("/staff/counter")
        assert (again.status_code, again.headers["location"]) == (303, "/staff/login")

        assert clerk.person is not None
        start = await clerk.client.get("/auth/login", params={"next": "/staff"})
        at_provider = await clerk.person.provider.get(start.headers["location"])
        assert at_provider.status_code == 200  # Keycloak's login form: the session there ended too
        assert 'id="kc-form-login"' in at_provider.text


async def test_an_account_without_a_staff_role_signs_nobody_in(mall: RunningMall) -> None:
    async with browser(mall) as citizen:
        refused = await citizen.sign_in("citizen")
        assert refused.status_code == 403
        assert "mall_staff_session" not in citizen.client.cookies
        assert (await citizen.client.get("/staff/counter")).headers["location"] == "/staff/login"


async def test_a_clerk_gives_the_visitor_in_front_of_them_priority_by_number(mall: RunningMall) -> None:
    mall.clock.now = datetime(2026, 9, 3, 8, 0, tzinfo=WIB)
    first, second = [await take(mall, "nib") for _ in range(2)]

    async with browser(mall) as clerk:
        await clerk.sign_in("clerk-mall")
        counter = await clerk.open("/staff/counter")
        assert 'id="priority-form"' in counter.text
        unknown = await clerk.send("/staff/counter/priority", number="NIB-999")
        assert flash(await clerk.open(unknown.headers["location"])) == "Tiket tidak ditemukan."
        marked = await clerk.send("/staff/counter/priority", number=" nib-002 ")
        page = await clerk.open(marked.headers["location"])
        assert flash(page) == "NIB-002 kini antrean prioritas."
        assert re.search(r'data-service="nib">.*?queue__priority">1<', page.text, re.S)

        await clerk.send("/staff/counter/call", service_code="nib", counter="Loket 5")
        assert flash(await clerk.open("/staff/counter")) == "NIB-002 dipanggil ke Loket 5."
        again = await clerk.send("/staff/counter/priority", number="NIB-002")
        assert flash(await clerk.open(again.headers["location"])) == "NIB-002 tidak sedang menunggu."

    assert [await state_of(mall, ticket) for ticket in (first, second)] == ["waiting", "called"]


async def test_a_clerk_calls_visitors_to_a_counter_and_the_display_shows_the_calls(mall: RunningMall) -> None:
    mall.clock.now = datetime(2026, 9, 1, 8, 0, tzinfo=WIB)
    first, second, third = [await take(mall, "nib") for _ in range(3)]
    await take(mall, "skck")

    async with browser(mall) as clerk:
        await clerk.sign_in("clerk-mall")
        counter = await clerk.open("/staff/counter")
        assert counter.status_code == 200
        assert "Masuk sebagai clerk-mall (Dinas Penanaman Modal" in counter.text
        assert re.search(r'data-service="nib">.*?queue__waiting">3<', counter.text, re.S)
        assert 'data-service="skck"' not in counter.text  # polres serves it, not this clerk's agency
        assert counter.headers["cache-control"] == "no-store"

        nameless = await clerk.send("/staff/counter/call", service_code="nib", counter=" ")
        assert flash(await clerk.open(nameless.headers["location"])) == "Isi nama loket Anda lebih dulu."
        assert await state_of(mall, first) == "waiting"

        mall.clock.now += timedelta(minutes=4)
        await clerk.send("/staff/counter/call", service_code="nib", counter="Loket 5")
        after_call = await clerk.open("/staff/counter")
        assert flash(after_call) == "NIB-001 dipanggil ke Loket 5."
        assert 'data-ticket="NIB-001" class="mine"' in after_call.text
        assert 'name="counter" value="Loket 5"' in after_call.text  # remembered for the next call
        called = (await mall.mall_events(first["ticket_id"], "ticket.called"))[0]
        assert (called.payload.counter, called.payload.waited_seconds, called.actor) == (
            "Loket 5",
            240,
            "officer:dpmptsp:clerk-mall",
        )

        mall.clock.now += timedelta(minutes=6)
        await clerk.send(f"/staff/counter/tickets/{first['ticket_id']}/served")
        assert flash(await clerk.open("/staff/counter")) == "NIB-001 selesai dilayani."
        mall.clock.now += timedelta(minutes=1)
        await clerk.send("/staff/counter/call", service_code="nib", counter="Loket 5")
        await clerk.open("/staff/counter")
        await clerk.send(f"/staff/counter/tickets/{second['ticket_id']}/no-show")
        assert flash(await clerk.open("/staff/counter")) == "NIB-002 ditandai tidak hadir."
        mall.clock.now += timedelta(minutes=3)
        await clerk.send("/staff/counter/call", service_code="nib", counter="Loket 5")
        await clerk.open("/staff/counter")
        linked = await clerk.send(f"/staff/counter/tickets/{third['ticket_id']}/link", tracking_code="SP-LOKET-77")
        assert flash(await clerk.open(linked.headers["location"])) == "NIB-003 ditautkan ke permohonan SP-LOKET-77."

    assert [await state_of(mall, ticket) for ticket in (first, second, third)] == ["served", "no_show", "called"]
    served = (await mall.mall_events(first["ticket_id"], "ticket.served"))[0]
    assert served.payload.service_seconds == 360
    assert (await mall.mall_events(second["ticket_id"], "ticket.no_show"))[0].actor == "officer:dpmptsp:clerk-mall"

    display = await mall.client.get("/display")
    assert display.status_code == 200
    assert '<meta http-equiv="refresh" content="5">' in display.text
    assert 'id="calling-number">NIB-003<' in display.text
    assert 'id="calling-counter">Silakan ke Loket 5<' in display.text
    assert re.findall(r'<tr data-number="([^"]+)"', display.text) == ["NIB-002", "NIB-001"]
    assert "SP-LOKET-77" not in display.text  # the visitor's application is theirs, not the waiting room's
    english = await mall.client.get("/display?lang=en&agency=dpmptsp")
    assert 'id="calling-counter">Please go to Loket 5<' in english.text
    elsewhere = await mall.client.get("/display?agency=polres")
    assert 'id="calling-none"' in elsewhere.text
    assert (await mall.client.get("/display?agency=nowhere")).status_code == 404


async def test_forms_without_the_sign_ins_token_or_for_another_agencys_queue_change_nothing(mall: RunningMall) -> None:
    mall.clock.now = datetime(2026, 9, 2, 8, 0, tzinfo=WIB)
    ticket = await take(mall, "skck")

    async with browser(mall) as polres:
        await polres.sign_in("officer-polres")
        await polres.open("/staff/counter")
        forged = await polres.client.post(
            "/staff/counter/call", data={"service_code": "skck", "counter": "Loket 1", "csrf_token": "forged"}
        )
        by_get = await polres.client.get("/staff/counter/call", params={"service_code": "skck", "counter": "Loket 1"})
        assert forged.status_code == 403
        assert "Formulir kedaluwarsa atau tidak sah" in forged.text
        assert by_get.status_code == 405
        assert await state_of(mall, ticket) == "waiting"

    async with browser(mall) as clerk:
        await clerk.sign_in("clerk-mall")
        await clerk.open("/staff/counter")
        refused = await clerk.send("/staff/counter/call", service_code="skck", counter="Loket 9")
        assert flash(await clerk.open(refused.headers["location"])) == "Antrean ini dilayani instansi lain."
        assert await state_of(mall, ticket) == "waiting"

    async with browser(mall) as auditor:
        await auditor.sign_in("auditor")
        assert (await auditor.client.get("/staff")).headers["location"] == "/staff/complaints"
        assert (await auditor.client.get("/staff?lang=en")).headers["location"] == "/staff/complaints?lang=en"
        refused_page = await auditor.open("/staff/counter")
        assert refused_page.status_code == 403
        assert "hanya untuk petugas instansi dan operator" in refused_page.text


async def test_the_complaint_desk_lists_open_complaints_by_due_date_marks_the_overdue_and_answers_one(
    mall: RunningMall,
) -> None:
    mall.clock.now = datetime(2026, 9, 7, 9, 0, tzinfo=WIB)

    async def file(agency: str, description: str) -> dict[str, Any]:
        answer = await mall.client.post(
            "/complaints",
            json={"agency": agency, "category": "slow", "description": description, "contact": "0812-3456-7890"},
        )
        assert answer.status_code == 201, answer.text
        complaint: dict[str, Any] = answer.json()
        return complaint

    late = await file("dpmptsp", "NIB saya belum terbit sejak dua minggu.")
    mall.clock.now += timedelta(days=10)
    recent = await file("dpmptsp", "Petugas meminta fotokopi yang tidak ada di syarat.")
    elsewhere = await file("bpn", "Antrean cek sertifikat sangat lama.")

    async with browser(mall) as clerk:
        await clerk.sign_in("clerk-mall")
        desk = await clerk.open("/staff/complaints")
        assert desk.status_code == 200
        references = re.findall(r'<tr data-reference="([^"]+)" class="([^"]+)">', desk.text)
        assert references == [(late["reference"], "overdue"), (recent["reference"], "on-time")]
        assert elsewhere["reference"] not in desk.text
        assert 'id="desk-summary">2 pengaduan terbuka, 1 lewat tenggat.<' in desk.text
        assert "Lewat tenggat" in desk.text

        item = await clerk.open(f"/staff/complaints/{late['complaint_id']}")
        assert "NIB saya belum terbit sejak dua minggu." in item.text
        assert "0812-3456-7890" in item.text
        too_short = await clerk.send(f"/staff/complaints/{late['complaint_id']}/resolve", response="ok")
        assert too_short.status_code == 422
        assert "Tulis jawaban minimal 5 karakter" in too_short.text
        answered = await clerk.send(
            f"/staff/complaints/{late['complaint_id']}/resolve",
            response="Mohon maaf atas keterlambatan; NIB Anda sudah terbit hari ini.",
        )
        assert answered.headers["location"] == "/staff/complaints"
        after = await clerk.open("/staff/complaints")
        assert flash(after) == f"Pengaduan {late['reference']} dijawab dan ditutup."
        assert re.findall(r'<tr data-reference="([^"]+)"', after.text) == [recent["reference"]]
        other_desk = await clerk.open(f"/staff/complaints/{elsewhere['complaint_id']}")
        assert other_desk.status_code == 403

    status = (await mall.client.get(f"/complaints/{late['complaint_id']}/status")).json()
    assert (status["state"], status["response"]) == (
        "resolved",
        "Mohon maaf atas keterlambatan; NIB Anda sudah terbit hari ini.",
    )
    resolved = (await mall.mall_events(late["complaint_id"], "complaint.resolved"))[0]
    assert (resolved.payload.within_sla, resolved.actor) == (False, "officer:dpmptsp:clerk-mall")

    async with browser(mall) as auditor:
        await auditor.sign_in("auditor")
        every_desk = await auditor.open("/staff/complaints")
        assert recent["reference"] in every_desk.text
        assert elsewhere["reference"] in every_desk.text
        one_desk = await auditor.open("/staff/complaints?agency=bpn")
        assert elsewhere["reference"] in one_desk.text
        assert recent["reference"] not in one_desk.text
        read_only = await auditor.open(f"/staff/complaints/{recent['complaint_id']}")
        assert 'id="read-only"' in read_only.text
        assert 'name="response"' not in read_only.text
        refused = await auditor.send(f"/staff/complaints/{recent['complaint_id']}/resolve", response="Saya jawab saja.")
        assert refused.status_code == 403
    still_open = (await mall.client.get(f"/complaints/{recent['complaint_id']}/status")).json()
    assert still_open["state"] == "open"
