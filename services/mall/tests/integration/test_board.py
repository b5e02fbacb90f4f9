"""The performance board on the real broker and database: a run of lifecycle events for one service becomes its
counts, median and p90 processing time in working days and hours, SLA compliance, satisfaction and today's queue,
as JSON and as a page of SVG charts that reloads itself."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from satupintu.devtools.testing.waiting import eventually

from .conftest import RunningMall

pytestmark = pytest.mark.integration
WIB = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 7, 31, 10, 0, tzinfo=WIB)  # a Friday; no holiday in July 2026
MONDAY = datetime(2026, 7, 6, 9, 0, tzinfo=WIB)
ALL_FOURS = dict.fromkeys(
    (
        "requirements",
        "procedure",
        "completion_time",
        "cost",
        "product",
        "competence",
        "behaviour",
        "complaints_handling",
        "facilities",
    ),
    4,
)


def row_of(board: dict[str, Any], service_code: str) -> dict[str, Any]:
    return next(row for row in board["services"] if row["service_code"] == service_code)


async def test_a_run_of_lifecycle_events_fills_the_board_for_its_service_and_agency(mall: RunningMall) -> None:
    mall.clock.now = NOW
    # NIB's standard is 1 working day: submitted Monday 09:00, due at the end of Tuesday.
    on_the_day = await mall.submit("nib", MONDAY)  # done Monday 15:00: 0 working days, 6 hours, on time
    next_day = await mall.submit("nib", MONDAY)  # done Tuesday 11:00: 1 working day, 26 hours, on time
    two_days = await mall.submit("nib", MONDAY)  # done Wednesday 09:00: 2 working days, 48 hours, late
    refused = await mall.submit("nib", MONDAY)  # rejected Thursday 09:00: 3 working days, 72 hours, late
    breached = await mall.submit("nib", MONDAY)  # reported late, done Friday 09:00: 4 working days, 96 hours
    await mall.submit("nib", datetime(2026, 7, 27, 9, 0, tzinfo=WIB))  # open, due Tuesday 28th: late now
    await mall.submit("nib", datetime(2026, 7, 31, 8, 0, tzinfo=WIB))  # open, not yet due: neither
    await mall.complete(on_the_day, MONDAY + timedelta(hours=6))
    await mall.complete(next_day, MONDAY + timedelta(hours=26))
    await mall.complete(two_days, MONDAY + timedelta(hours=48))
    await mall.reject(refused, MONDAY + timedelta(hours=72), "dpmptsp")
    await mall.breach(breached, MONDAY + timedelta(days=1, hours=15), MONDAY + timedelta(days=2))
    await mall.complete(breached, MONDAY + timedelta(hours=96))
    token = await mall.survey_token(on_the_day.subject)
    await mall.client.post(f"/surveys/{token}", json={"answers": ALL_FOURS})
    for _ in range(2):
        await mall.client.post("/queue/tickets", json={"service_code": "nib"})
    await mall.client.post("/queue/services/nib/call", json={"counter": "Loket 1"}, headers=mall.officer("dpmptsp"))

    async def board() -> dict[str, Any]:
        answer: dict[str, Any] = (await mall.client.get("/performance")).json()
        return answer

    filled = await eventually(
        board,
        lambda b: (row_of(b, "nib")["completed"], row_of(b, "nib")["rejected"]) == (4, 1),
        what="the board counts NIB's run",
    )
    nib = row_of(filled, "nib")

    assert (nib["received"], nib["completed"], nib["rejected"], nib["open"]) == (7, 4, 1, 2)
    assert nib["standard_working_days"] == 1
    # Working days taken 0, 1, 2, 3, 4: median 2; p90 by linear interpolation at 0.9 x 4 = 3.6 -> 3 + 0.6 = 3.6.
    assert (nib["median_working_days"], nib["p90_working_days"]) == (2.0, 3.6)
    # Hours 6, 26, 48, 72, 96: median 48; p90 = 72 + 0.6 x 24 = 86.4.
    assert (nib["median_hours"], nib["p90_hours"]) == (48.0, 86.4)
    # On time: the first two. Late: the three finished after Tuesday and the open one past its due date.
    assert (nib["on_time"], nib["late"]) == (2, 4)
    assert nib["sla_compliance"] == pytest.approx(2 / 6)
    assert (nib["satisfaction"]["converted"], nib["satisfaction"]["grade"]) == (100.0, "A")
    dpmptsp = next(row for row in filled["agencies"] if row["agency"] == "dpmptsp")
    assert dpmptsp["received"] >= 7
    queue = next(row for row in filled["queue"] if row["service_code"] == "nib")
    assert (queue["waiting"], queue["called"]) == (1, 1)

    page = await mall.client.get("/board")
    assert page.status_code == 200
    assert '<meta http-equiv="refresh" content="15">' in page.text
    for chart in ("chart-flow", "chart-time", "chart-sla", "chart-skm", "chart-queue"):
        assert f'id="{chart}"' in page.text
    assert 'data-label="Nomor Induk Berusaha (NIB)"' in page.text
    assert "100.00 A" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    metrics = (await mall.client.get("/metrics")).text
    assert 'satupintu_queue_waiting{service_code="nib"} 1.0' in metrics
    assert 'satupintu_tickets_issued_total{service_code="nib"}' in metrics
    assert 'satupintu_surveys_answered_total{service_code="nib"} 1.0' in metrics
