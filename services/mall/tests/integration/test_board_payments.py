"""Fees and businesses on the performance board, on the real broker and database: submissions by persons and by
businesses, their bills paid (at the gateway and at the counter), expired and withdrawn, and routing's
cancellation become the board's business share, payment counts, rupiah received and days to payment per service
and per agency, as JSON and on the page; redelivered events count once; the survey index is given apart for
business applicants."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from satupintu.contract.applications import Business
from satupintu.devtools.testing.waiting import eventually

from .conftest import RunningMall

pytestmark = pytest.mark.integration
WIB = ZoneInfo("Asia/Jakarta")
# A period no other test of the session uses, so the land office's figures are this test's alone.
NOW = datetime(2027, 3, 26, 10, 0, tzinfo=WIB)
MONDAY = datetime(2027, 3, 1, 9, 0, tzinfo=WIB)
BILLED = MONDAY + timedelta(minutes=5)
SERVICE = "cek-sertifikat-tanah"  # the land office's (bpn) only service: PNBP Rp50.000
FEE = 50_000
COMPANY = Business(nib="8120001234567", npwp="sealed.v1.npwp", name="PT Maju Jaya")
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


def row_of(rows: list[dict[str, Any]], key: str, value: str) -> dict[str, Any]:
    return next(row for row in rows if row[key] == value)


async def test_fees_and_business_applications_fill_the_board_per_service_and_agency_counting_redeliveries_once(
    mall: RunningMall,
) -> None:
    mall.clock.now = NOW
    # Paid at the gateway 2 days (and 55 minutes) after billing, completed Thursday: 72 hours.
    paid_in_two_days = await mall.submit(SERVICE, MONDAY)
    # A business's, paid at the counter the same day: 0 days; still open.
    paid_same_day = await mall.submit(SERVICE, MONDAY, business=COMPANY)
    # A business's, its bill expired unpaid: routing cancels it a week later.
    expired = await mall.submit(SERVICE, MONDAY, business=COMPANY)
    # Billed, not yet paid; still open.
    outstanding = await mall.submit(SERVICE, MONDAY)
    # Paid 4 days after billing, completed Friday 15:00: 102 hours.
    paid_in_four_days = await mall.submit(SERVICE, MONDAY)
    # A business's, rejected Tuesday (24 hours): its unpaid bill is withdrawn.
    rejected = await mall.submit(SERVICE, MONDAY, business=COMPANY)

    first_bill = await mall.bill(paid_in_two_days, FEE, BILLED, "bpn")
    first_payment = await mall.pay(first_bill, BILLED + timedelta(days=2, minutes=55))
    # The same events again (the same ids, as after a producer's lost ack), before the completion that shows they
    # were consumed: they count once.
    await mall.redeliver(paid_in_two_days, first_bill, first_payment)
    await mall.complete(paid_in_two_days, MONDAY + timedelta(hours=72))

    await mall.pay(await mall.bill(paid_same_day, FEE, BILLED, "bpn"), MONDAY + timedelta(hours=6), "counter")

    expired_bill = await mall.bill(expired, FEE, BILLED, "bpn")
    expiry = await mall.expire(expired_bill, BILLED + timedelta(days=7))
    await mall.redeliver(expiry)
    await mall.cancel(expired, BILLED + timedelta(days=7, seconds=1))

    await mall.bill(outstanding, FEE, BILLED, "bpn")

    late_bill = await mall.bill(paid_in_four_days, FEE, BILLED, "bpn")
    await mall.pay(late_bill, BILLED + timedelta(days=4))
    # A second confirmation of a paid bill (a new event) changes neither the count nor the sum nor the days.
    await mall.pay(late_bill, BILLED + timedelta(days=6))
    await mall.complete(paid_in_four_days, MONDAY + timedelta(days=4, hours=6))

    withdrawn_bill = await mall.bill(rejected, FEE, BILLED, "bpn")
    await mall.reject(rejected, MONDAY + timedelta(hours=24), "bpn")
    await mall.withdraw(withdrawn_bill, MONDAY + timedelta(hours=24, minutes=1))

    async def board() -> dict[str, Any]:
        answer: dict[str, Any] = (await mall.client.get("/performance")).json()
        return answer

    def settled(figures: dict[str, Any]) -> bool:
        row = row_of(figures["services"], "service_code", SERVICE)
        payments = row["payments"]
        return (row["completed"], row["rejected"], row["cancelled"]) == (2, 1, 1) and (
            payments["paid"],
            payments["expired"],
            payments["cancelled"],
        ) == (3, 1, 1)

    filled = await eventually(board, settled, what="the board counts the land office's fees")

    for row in (
        row_of(filled["services"], "service_code", SERVICE),
        row_of(filled["agencies"], "agency", "bpn"),
    ):
        assert (row["received"], row["completed"], row["rejected"], row["cancelled"], row["open"]) == (6, 2, 1, 1, 2)
        assert (row["business_applications"], row["business_share_percent"]) == (3, 50.0)
        # Processing time of the decided ones only (72, 102 and 24 hours); the cancellation after 168 hours is not
        # one, nor is it on time or late: on time the three decided, late the two open past the standard.
        assert (row["median_hours"], row["p90_hours"]) == (72.0, 96.0)
        assert (row["on_time"], row["late"]) == (3, 2)
        assert row["payments"] == {
            "billed": 6,
            "paid": 3,
            "expired": 1,
            "cancelled": 1,
            "outstanding": 1,
            "received_rupiah": 150_000,
            # Whole days 2, 0 and 4: median 2; p90 at 0.9 x 2 = 1.8 between 2 and 4 -> 3.6.
            "paid_within_median_days": 2.0,
            "paid_within_p90_days": 3.6,
        }
    nib = row_of(filled["services"], "service_code", "nib")
    assert nib["payments"]["billed"] == 0
    assert nib["payments"]["paid_within_median_days"] is None

    page = await mall.client.get("/board")
    assert page.status_code == 200
    assert 'id="panel-fees"' in page.text
    fees_row = page.text.split(f'data-service="{SERVICE}"', 1)[1].split("</tr>", 1)[0]
    assert "3 (50.0%)" in fees_row
    assert "Rp150.000" in fees_row
    assert "2.0 / 3.6" in fees_row
    english = await mall.client.get("/board", params={"lang": "en"})
    assert "Fees and business applicants" in english.text


async def test_the_satisfaction_index_is_given_apart_for_business_applicants(mall: RunningMall) -> None:
    mall.clock.now = NOW + timedelta(days=1)
    day = (NOW + timedelta(days=1)).date().isoformat()
    service = "pbg"  # DPMPTSP's building approval accepts persons and businesses
    person = await mall.submit(service, MONDAY)
    company = await mall.submit(service, MONDAY, business=COMPANY)
    await mall.complete(person, MONDAY + timedelta(days=3))
    await mall.reject(company, MONDAY + timedelta(days=2), "dpmptsp")
    for submitted, score in ((person, 4), (company, 3)):
        token = await mall.survey_token(submitted.subject)
        answer = await mall.client.post(f"/surveys/{token}", json={"answers": dict.fromkeys(ELEMENTS, score)})
        assert answer.status_code == 201, answer.text

    both = await mall.client.get("/satisfaction", params={"service_code": service, "from": day, "to": day})
    businesses = await mall.client.get(
        "/satisfaction", params={"service_code": service, "from": day, "to": day, "applicant_kind": "business"}
    )

    assert both.status_code == 200, both.text
    index = both.json()
    assert (index["respondents"], index["person_respondents"], index["business_respondents"]) == (2, 1, 1)
    assert (index["converted"], index["person"]["converted"], index["business"]["converted"]) == (87.5, 100.0, 75.0)
    assert (businesses.json()["respondents"], businesses.json()["converted"]) == (1, 75.0)
    assert businesses.json()["person"] is None
    board = (await mall.client.get("/performance")).json()
    row = row_of(board["services"], "service_code", service)
    assert (row["business_satisfaction"]["respondents"], row["business_satisfaction"]["converted"]) == (1, 75.0)
