"""The staff pages on the real broker and database: an officer signs in with a staff token, calls visitors to a
counter, marks them served or no-shows, and the now-calling display shows the calls; the complaint desk lists open
complaints by due date with the overdue ones marked, and answers one. Forms without the session's CSRF token, other
agencies' queues and complaints, and expired tokens change nothing."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from satupintu.common.auth import Role
from satupintu.devtools.testing.waiting import eventually

from .conftest import RunningMall

pytestmark = pytest.mark.integration
WIB = ZoneInfo("Asia/Jakarta")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def mall_settings() -> dict[str, Any]:
    # No leeway on a token's expiry, so a session can be seen ending with its token within the test.
    return {"auth": {"leeway_seconds": 0}}


@dataclass
class Browser:
    """A client that keeps the session cookie and the last page's CSRF token, as a browser would."""

    client: httpx.AsyncClient
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

    async def sign_in(self, token: str) -> httpx.Response:
        await self.open("/staff/login")
        return await self.send("/staff/login", token=token)


@asynccontextmanager
async def browser(mall: RunningMall, address: str = "127.0.0.1") -> AsyncIterator[Browser]:
    transport = httpx.ASGITransport(app=mall.app, client=(address, 50123))
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        yield Browser(client)


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


async def test_an_officer_calls_visitors_to_a_counter_and_the_display_shows_the_calls(mall: RunningMall) -> None:
    mall.clock.now = datetime(2026, 9, 1, 8, 0, tzinfo=WIB)
    first, second, third = [await take(mall, "paspor") for _ in range(3)]
    await take(mall, "skck")

    async with browser(mall) as officer:
        signed_in = await officer.sign_in(mall.token(Role.OFFICER, subject="wati", agency="imigrasi"))
        assert (signed_in.status_code, signed_in.headers["location"]) == (303, "/staff/counter")
        counter = await officer.open("/staff/counter")
        assert counter.status_code == 200
        assert "Masuk sebagai wati (Kantor Imigrasi" in counter.text
        assert re.search(r'data-service="paspor">.*?queue__waiting">3<', counter.text, re.S)
        assert 'data-service="skck"' not in counter.text  # polres serves it, not this officer's agency
        assert counter.headers["cache-control"] == "no-store"

        nameless = await officer.send("/staff/counter/call", service_code="paspor", counter=" ")
        assert flash(await officer.open(nameless.headers["location"])) == "Isi nama loket Anda lebih dulu."
        assert await state_of(mall, first) == "waiting"

        mall.clock.now += timedelta(minutes=4)
        await officer.send("/staff/counter/call", service_code="paspor", counter="Loket 5")
        after_call = await officer.open("/staff/counter")
        assert flash(after_call) == "PASPOR-001 dipanggil ke Loket 5."
        assert 'data-ticket="PASPOR-001" class="mine"' in after_call.text
        assert 'name="counter" value="Loket 5"' in after_call.text  # remembered for the next call
        called = (await mall.mall_events(first["ticket_id"], "ticket.called"))[0]
        assert (called.payload.counter, called.payload.waited_seconds, called.actor) == (
            "Loket 5",
            240,
            "officer:imigrasi:wati",
        )

        mall.clock.now += timedelta(minutes=6)
        await officer.send(f"/staff/counter/tickets/{first['ticket_id']}/served")
        assert flash(await officer.open("/staff/counter")) == "PASPOR-001 selesai dilayani."
        mall.clock.now += timedelta(minutes=1)
        await officer.send("/staff/counter/call", service_code="paspor", counter="Loket 5")
        await officer.open("/staff/counter")
        await officer.send(f"/staff/counter/tickets/{second['ticket_id']}/no-show")
        assert flash(await officer.open("/staff/counter")) == "PASPOR-002 ditandai tidak hadir."
        mall.clock.now += timedelta(minutes=3)
        await officer.send("/staff/counter/call", service_code="paspor", counter="Loket 5")
        await officer.open("/staff/counter")
        linked = await officer.send(f"/staff/counter/tickets/{third['ticket_id']}/link", tracking_code="SP-LOKET-77")
        assert (
            flash(await officer.open(linked.headers["location"])) == "PASPOR-003 ditautkan ke permohonan SP-LOKET-77."
        )

    assert [await state_of(mall, ticket) for ticket in (first, second, third)] == ["served", "no_show", "called"]
    served = (await mall.mall_events(first["ticket_id"], "ticket.served"))[0]
    assert served.payload.service_seconds == 360
    assert (await mall.mall_events(second["ticket_id"], "ticket.no_show"))[0].actor == "officer:imigrasi:wati"

    display = await mall.client.get("/display")
    assert display.status_code == 200
    assert '<meta http-equiv="refresh" content="5">' in display.text
    assert 'id="calling-number">PASPOR-003<' in display.text
    assert 'id="calling-counter">Silakan ke Loket 5<' in display.text
    assert re.findall(r'<tr data-number="([^"]+)">', display.text) == ["PASPOR-002", "PASPOR-001"]
    assert "SP-LOKET-77" not in display.text  # the visitor's application is theirs, not the waiting room's
    english = await mall.client.get("/display?lang=en&agency=imigrasi")
    assert 'id="calling-counter">Please go to Loket 5<' in english.text
    elsewhere = await mall.client.get("/display?agency=polres")
    assert 'id="calling-none"' in elsewhere.text
    assert (await mall.client.get("/display?agency=nowhere")).status_code == 404


async def test_forms_without_the_sessions_token_or_for_another_agencys_queue_change_nothing(mall: RunningMall) -> None:
    mall.clock.now = datetime(2026, 9, 2, 8, 0, tzinfo=WIB)
    ticket = await take(mall, "skck")

    async with browser(mall) as stranger:
        assert (await stranger.client.get("/staff")).headers["location"] == "/staff/login"
        assert (await stranger.client.get("/staff/counter")).headers["location"] == "/staff/login"
        unsigned = await stranger.client.post("/staff/counter/call", data={"service_code": "skck", "counter": "X"})
        assert unsigned.headers["location"] == "/staff/login"
        no_csrf_login = await stranger.client.post("/staff/login", data={"token": mall.token(Role.OPERATOR)})
        assert no_csrf_login.status_code == 403

    async with browser(mall) as polres:
        await polres.sign_in(mall.token(Role.OFFICER, agency="polres"))
        await polres.open("/staff/counter")
        forged = await polres.client.post(
            "/staff/counter/call", data={"service_code": "skck", "counter": "Loket 1", "csrf_token": "forged"}
        )
        by_get = await polres.client.get("/staff/counter/call", params={"service_code": "skck", "counter": "Loket 1"})
        assert forged.status_code == 403
        assert "Formulir kedaluwarsa atau tidak sah" in forged.text
        assert by_get.status_code == 405
        assert await state_of(mall, ticket) == "waiting"

    async with browser(mall) as satlantas:
        await satlantas.sign_in(mall.token(Role.OFFICER, agency="satlantas"))
        await satlantas.open("/staff/counter")
        refused = await satlantas.send("/staff/counter/call", service_code="skck", counter="Loket 9")
        assert flash(await satlantas.open(refused.headers["location"])) == "Antrean ini dilayani instansi lain."
        assert await state_of(mall, ticket) == "waiting"

    async with browser(mall) as auditor:
        landing = await auditor.sign_in(mall.token(Role.AUDITOR, subject="ani"))
        assert landing.headers["location"] == "/staff/complaints"
        assert (await auditor.client.get("/staff?lang=en")).headers["location"] == "/staff/complaints?lang=en"
        refused_page = await auditor.open("/staff/counter")
        assert refused_page.status_code == 403
        assert "hanya untuk petugas instansi dan operator" in refused_page.text


async def test_a_session_ends_with_its_token_and_with_signing_out(mall: RunningMall) -> None:
    async with browser(mall) as visitor:
        expired = mall.token(Role.OPERATOR, ttl=60, issued_at=time.time() - 3600)
        refused = await visitor.sign_in(expired)
        assert refused.status_code == 401
        assert "Token tidak sah atau sudah kedaluwarsa." in refused.text
        assert (await visitor.sign_in("not-a-token")).status_code == 401

    async with browser(mall) as operator:
        await operator.sign_in(mall.token(Role.OPERATOR, ttl=2))
        assert (await operator.open("/staff/counter")).status_code == 200

        async def counter_page() -> httpx.Response:
            return await operator.client.get("/staff/counter")

        ended = await eventually(
            counter_page, lambda page: page.status_code == 303, interval=0.2, what="the token's expiry"
        )
        assert ended.headers["location"] == "/staff/login"

    async with browser(mall) as operator:
        await operator.sign_in(mall.token(Role.OPERATOR))
        await operator.open("/staff/counter")
        signed_out = await operator.send("/staff/logout")
        assert signed_out.headers["location"] == "/staff/login"
        assert (await operator.client.get("/staff/counter")).headers["location"] == "/staff/login"


async def test_sign_in_attempts_are_limited_per_address(mall: RunningMall) -> None:
    async with browser(mall, address="198.51.100.20") as guesser:
        answers = [(await guesser.sign_in(f"guess-{attempt}")).status_code for attempt in range(11)]
        assert answers == [401] * 10 + [429]
        last = await guesser.sign_in(mall.token(Role.OPERATOR))
        assert last.status_code == 429
        assert int(last.headers["retry-after"]) >= 1
        assert "Terlalu banyak percobaan masuk" in last.text
    async with browser(mall, address="198.51.100.21") as colleague:
        assert (await colleague.sign_in(mall.token(Role.OPERATOR))).status_code == 303


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

    late = await file("djp", "NPWP saya belum terbit sejak dua minggu.")
    mall.clock.now += timedelta(days=10)
    recent = await file("djp", "Petugas meminta fotokopi yang tidak ada di syarat.")
    elsewhere = await file("bpn", "Antrean cek sertifikat sangat lama.")

    async with browser(mall) as officer:
        await officer.sign_in(mall.token(Role.OFFICER, subject="joko", agency="djp"))
        desk = await officer.open("/staff/complaints")
        assert desk.status_code == 200
        references = re.findall(r'<tr data-reference="([^"]+)" class="([^"]+)">', desk.text)
        assert references == [(late["reference"], "overdue"), (recent["reference"], "on-time")]
        assert elsewhere["reference"] not in desk.text
        assert 'id="desk-summary">2 pengaduan terbuka, 1 lewat tenggat.<' in desk.text
        assert "Lewat tenggat" in desk.text

        item = await officer.open(f"/staff/complaints/{late['complaint_id']}")
        assert "NPWP saya belum terbit sejak dua minggu." in item.text
        assert "0812-3456-7890" in item.text
        too_short = await officer.send(f"/staff/complaints/{late['complaint_id']}/resolve", response="ok")
        assert too_short.status_code == 422
        assert "Tulis jawaban minimal 5 karakter" in too_short.text
        answered = await officer.send(
            f"/staff/complaints/{late['complaint_id']}/resolve",
            response="Mohon maaf atas keterlambatan; NPWP Anda sudah terbit hari ini.",
        )
        assert answered.headers["location"] == "/staff/complaints"
        after = await officer.open("/staff/complaints")
        assert flash(after) == f"Pengaduan {late['reference']} dijawab dan ditutup."
        assert re.findall(r'<tr data-reference="([^"]+)"', after.text) == [recent["reference"]]
        other_desk = await officer.open(f"/staff/complaints/{elsewhere['complaint_id']}")
        assert other_desk.status_code == 403

    status = (await mall.client.get(f"/complaints/{late['complaint_id']}/status")).json()
    assert (status["state"], status["response"]) == (
        "resolved",
        "Mohon maaf atas keterlambatan; NPWP Anda sudah terbit hari ini.",
    )
    resolved = (await mall.mall_events(late["complaint_id"], "complaint.resolved"))[0]
    assert (resolved.payload.within_sla, resolved.actor) == (False, "officer:djp:joko")

    async with browser(mall) as auditor:
        await auditor.sign_in(mall.token(Role.AUDITOR, subject="ani"))
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
