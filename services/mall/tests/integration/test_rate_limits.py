"""Limits on the public's writes, on the real broker and database: a client address that takes too many queue
numbers, or sends too many complaints, survey answers and consent requests, is answered 429 with ``Retry-After``
(problem+json on the API, a page on the pages), and the refused request records nothing; other addresses, staff
calls and reads go on; behind a trusted proxy each forwarded client has its own budget."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from satupintu.common.auth import Role

from .conftest import RunningMall

pytestmark = pytest.mark.integration
WIB = ZoneInfo("Asia/Jakarta")
PROXY = "192.0.2.1"
ELEMENTS = (
    "requirements",
    "procedure",
    "completion_time",
    "cost",
    "product",
    "competence",
    "behaviour",
    "complaints_handling",
    "facilities",
)


@pytest.fixture(scope="module")
def mall_settings() -> dict[str, Any]:
    return {
        "kiosk_rate_limit_per_minute": 1,
        "kiosk_rate_limit_burst": 2,
        "rate_limit_per_minute": 1,
        "rate_limit_burst": 3,
        "forwarded_allow_ips": PROXY,
    }


@asynccontextmanager
async def client_at(mall: RunningMall, address: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=mall.app, client=(address, 40321))
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        yield client


def assert_refused(answer: httpx.Response) -> int:
    """The answer is a 429 with a sensible ``Retry-After``; the seconds it says."""
    assert answer.status_code == 429, answer.text
    retry_after = int(answer.headers["retry-after"])
    assert 1 <= retry_after <= 60
    return retry_after


async def test_a_client_taking_too_many_numbers_is_refused_and_no_number_is_used_up(mall: RunningMall) -> None:
    mall.clock.now = datetime(2026, 10, 1, 8, 0, tzinfo=WIB)

    async with client_at(mall, "203.0.113.10") as kiosk:
        first = await kiosk.post("/queue/tickets", json={"service_code": "nib"})
        by_page = await kiosk.post("/kiosk", data={"service_code": "nib"})
        refused = await kiosk.post("/queue/tickets", json={"service_code": "nib"})
        refused_page = await kiosk.post("/kiosk?lang=en", data={"service_code": "nib"})
        still_reads = await kiosk.get("/kiosk")
        officer_calls = await kiosk.post(
            "/queue/services/nib/call", json={"counter": "Loket 1"}, headers=mall.officer("dpmptsp")
        )

    assert (first.status_code, first.json()["number"]) == (201, "NIB-001")
    assert by_page.status_code == 303
    assert_refused(refused)
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["type"].endswith("/rate-limited")
    assert problem["title"] == "Too Many Requests"
    assert f"retry after {refused.headers['retry-after']} seconds" in problem["detail"]
    assert_refused(refused_page)
    assert refused_page.headers["content-type"].startswith("text/html")
    assert "Too many forms were sent from this address" in refused_page.text
    assert still_reads.status_code == 200
    assert (officer_calls.status_code, officer_calls.json()["number"]) == (200, "NIB-001")  # staff are not limited

    async with client_at(mall, "203.0.113.11") as neighbour:
        next_number = await neighbour.post("/queue/tickets", json={"service_code": "nib"})
    assert next_number.json()["number"] == "NIB-003"  # the two refused requests issued nothing
    today = {row["service_code"]: row for row in (await mall.client.get("/queue/today")).json()}
    assert (today["nib"]["waiting"], today["nib"]["called"]) == (2, 1)


async def test_a_citizens_writes_share_one_budget_and_a_refused_complaint_is_not_filed(mall: RunningMall) -> None:
    mall.clock.now = datetime(2026, 10, 2, 9, 0, tzinfo=WIB)
    complaint = {"agency": "dinas-pupr", "category": "slow", "description": "Izin bangunan tidak ada kabarnya."}

    async with client_at(mall, "203.0.113.20") as citizen:
        filed = await citizen.post("/complaints", json=complaint)
        survey = await citizen.post("/surveys/no-such-link", json={"answers": dict.fromkeys(ELEMENTS, 4)})
        ledger = await citizen.post("/consents/lookup", json={"tracking_code": "SP-NONE-1", "nik": "3171015506900002"})
        refused = await citizen.post("/complaints", json=complaint | {"description": "Pengaduan yang kedua kali."})
        refused_form = await citizen.post("/complaint", data=complaint)
        refused_survey = await citizen.post("/survey/no-such-link", data={"requirements": "4"})
        refused_consent = await citizen.post("/consent/SP-NONE-1", data={"nik": "3171015506900002"})
        refused_withdrawal = await citizen.post(
            "/consents/withdrawals",
            json={"tracking_code": "SP-NONE-1", "nik": "3171015506900002", "agency": "polres", "fields": ["address"]},
        )
        kiosk_budget_is_its_own = await citizen.post("/queue/tickets", json={"service_code": "pbg"})

    assert (filed.status_code, filed.json()["reference"]) == (201, "ADU-20261002-0001")
    assert (survey.status_code, ledger.status_code) == (404, 422)  # refused by the mall, still spent the budget
    assert_refused(refused)
    assert refused.json()["type"].endswith("/rate-limited")
    for page in (refused_form, refused_survey, refused_consent):
        assert_refused(page)
        assert "Terlalu banyak formulir dikirim dari alamat ini" in page.text
    assert_refused(refused_withdrawal)
    assert kiosk_budget_is_its_own.status_code == 201

    desk = await mall.client.get("/complaints", params={"agency": "dinas-pupr"}, headers=mall.headers(Role.AUDITOR))
    assert [c["description"] for c in desk.json()] == ["Izin bangunan tidak ada kabarnya."]
    async with client_at(mall, "203.0.113.21") as neighbour:
        second = await neighbour.post("/complaints", json=complaint)
    assert second.json()["reference"] == "ADU-20261002-0002"  # no reference was used up by the refused ones


async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget(mall: RunningMall) -> None:
    mall.clock.now = datetime(2026, 10, 3, 8, 0, tzinfo=WIB)

    async def take(client: httpx.AsyncClient, forwarded_for: str) -> int:
        answer = await client.post(
            "/queue/tickets", json={"service_code": "npwp"}, headers={"X-Forwarded-For": forwarded_for}
        )
        return answer.status_code

    async with client_at(mall, PROXY) as proxy:
        one = [await take(proxy, "198.51.100.1") for _ in range(3)]
        another = [await take(proxy, "198.51.100.2") for _ in range(2)]
    async with client_at(mall, "203.0.113.30") as spoofer:  # not a trusted proxy: its own address counts
        spoofed = [await take(spoofer, f"198.51.100.{100 + attempt}") for attempt in range(3)]

    assert one == [201, 201, 429]
    assert another == [201, 201]
    assert spoofed == [201, 201, 429]


async def test_a_client_asking_for_too_many_booking_codes_is_refused_and_no_code_is_sent(mall: RunningMall) -> None:
    mall.clock.now = datetime(2026, 10, 1, 8, 0, tzinfo=WIB)
    body = {"service_code": "paspor", "starts_at": "2026-10-02T09:00:00+07:00", "contact": "siti@example.id"}

    async with client_at(mall, "203.0.113.40") as citizen:
        answers = [
            await citizen.post("/appointments", json={**body, "nik": f"317101550690{index:04d}"}) for index in range(4)
        ]
        by_page = await citizen.post("/book/paspor", data={**body, "nik": "3171015506909999"})
        slots = await citizen.get("/appointments/services/paspor/slots", params={"day": "2026-10-02"})

    assert [answer.status_code for answer in answers] == [202, 202, 202, 429]
    assert_refused(answers[3])
    assert answers[3].headers["content-type"] == "application/problem+json"
    assert_refused(by_page)
    assert by_page.headers["content-type"].startswith("text/html")
    assert slots.status_code == 200  # reads go on
