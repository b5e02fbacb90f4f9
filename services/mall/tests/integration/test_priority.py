"""Priority service on the real broker and database: priority tickets (the elderly, people with disabilities,
pregnant women, parents with small children) are called before earlier walk-ins, but after ``priority_ratio``
priority calls in a row the oldest walk-in goes next; a clerk gives a waiting ticket priority; the board reports the
median wait of both."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from .conftest import RunningMall

pytestmark = pytest.mark.integration
WIB = ZoneInfo("Asia/Jakarta")
SERVICE = "akta-kelahiran"
AGENCY = "disdukcapil"


@pytest.fixture(scope="module")
def mall_settings() -> dict[str, Any]:
    """Two priority calls in a row, then a walk-in."""
    return {"priority_ratio": 2}


async def take(mall: RunningMall, *, priority: bool = False) -> dict[str, Any]:
    answer = await mall.client.post("/queue/tickets", json={"service_code": SERVICE, "priority": priority})
    assert answer.status_code == 201, answer.text
    ticket: dict[str, Any] = answer.json()
    return ticket


async def call(mall: RunningMall) -> str:
    called = await mall.client.post(
        f"/queue/services/{SERVICE}/call", json={"counter": "Loket 4"}, headers=mall.officer(AGENCY)
    )
    assert called.status_code == 200, called.text
    number: str = called.json()["number"]
    return number


async def test_a_priority_ticket_is_called_before_an_earlier_walk_in(mall: RunningMall) -> None:
    mall.clock.now = datetime(2026, 11, 2, 8, 0, tzinfo=WIB)
    walk_in = await take(mall)
    later_walk_in = await take(mall)
    elderly = await take(mall, priority=True)

    # The priority ticket has nobody ahead of it; the walk-ins count it ahead of them.
    assert (elderly["number"], elderly["priority"], elderly["waiting_ahead"]) == ("AK-003", True, 0)
    later_now = (await mall.client.get(f"/queue/tickets/{later_walk_in['ticket_id']}")).json()
    assert later_now["waiting_ahead"] == 2

    assert [await call(mall), await call(mall), await call(mall)] == ["AK-003", "AK-001", "AK-002"]
    issued = await mall.mall_events(elderly["ticket_id"], "ticket.issued")
    assert issued[0].payload.priority is True
    assert (await mall.mall_events(walk_in["ticket_id"], "ticket.issued"))[0].payload.priority is False


async def test_after_the_ratio_of_priority_calls_in_a_row_the_oldest_walk_in_goes_next(mall: RunningMall) -> None:
    start = datetime(2026, 11, 3, 8, 0, tzinfo=WIB)
    mall.clock.now = start
    await take(mall)  # AK-001, a walk-in
    await take(mall)  # AK-002, a walk-in
    for _ in range(4):
        await take(mall, priority=True)  # AK-003 .. AK-006

    called = []
    for minutes in (5, 10, 15, 20, 25, 30):
        mall.clock.now = start + timedelta(minutes=minutes)
        called.append(await call(mall))

    # Ratio 2: two priority calls, then the oldest walk-in; then priority again; once no walk-in waits, priority
    # tickets keep going.
    assert called == ["AK-003", "AK-004", "AK-001", "AK-005", "AK-006", "AK-002"]

    performance = (await mall.client.get("/performance")).json()
    row = next(row for row in performance["queue"] if row["service_code"] == SERVICE)
    # Priority waited 5, 10, 20, 25 minutes (median 15); walk-ins 15 and 30 (median 22.5).
    assert (row["priority_median_wait_minutes"], row["regular_median_wait_minutes"]) == (15.0, 22.5)
    assert row["priority_waiting"] == 0

    board = await mall.client.get("/board")
    assert board.status_code == 200
    assert 'id="priority-waits"' in board.text
    assert ">15.0<" in board.text
    assert ">22.5<" in board.text


async def test_a_clerk_gives_a_waiting_ticket_priority_and_it_is_called_first(mall: RunningMall) -> None:
    mall.clock.now = datetime(2026, 11, 4, 8, 0, tzinfo=WIB)
    await take(mall)  # AK-001
    pregnant = await take(mall)  # AK-002: the clerk sees she is pregnant

    other_agency = await mall.client.post(
        f"/queue/tickets/{pregnant['ticket_id']}/priority", headers=mall.officer("imigrasi")
    )
    assert other_agency.status_code == 403, other_agency.text
    marked = await mall.client.post(f"/queue/tickets/{pregnant['ticket_id']}/priority", headers=mall.officer(AGENCY))
    assert marked.status_code == 200, marked.text
    assert (marked.json()["priority"], marked.json()["waiting_ahead"]) == (True, 0)

    assert await call(mall) == "AK-002"
    again = await mall.client.post(f"/queue/tickets/{pregnant['ticket_id']}/priority", headers=mall.officer(AGENCY))
    assert again.status_code == 409, again.text
    assert await call(mall) == "AK-001"


async def test_the_kiosk_page_takes_a_priority_number(mall: RunningMall) -> None:
    mall.clock.now = datetime(2026, 11, 5, 8, 0, tzinfo=WIB)
    kiosk = await mall.client.get("/kiosk")
    assert "Prioritas: lansia, penyandang disabilitas, ibu hamil, orang tua dengan anak kecil" in kiosk.text
    assert f'id="take-priority-{SERVICE}"' in kiosk.text

    taken = await mall.client.post("/kiosk", data={"service_code": SERVICE, "priority": "1"})
    assert taken.status_code == 303
    page = await mall.client.get(taken.headers["location"])
    assert 'id="ticket-priority"' in page.text


async def checked_in_with_a_booking(mall: RunningMall) -> dict[str, Any]:
    """A visitor who booked checking in at the kiosk, as the check-in does it (a ticket marked booked)."""
    context = mall.app.state.mall
    async with context.runtime.sessions() as session, session.begin():
        view = await context.queue.issue_in(session, SERVICE, booked=True)
    return {"number": view.ticket.number, "ticket_id": view.ticket.ticket_id, "waiting_ahead": view.waiting_ahead}


async def test_priority_goes_before_a_booking_and_a_booking_before_earlier_walk_ins(mall: RunningMall) -> None:
    mall.clock.now = datetime(2026, 11, 9, 8, 0, tzinfo=WIB)
    walk_in = await take(mall)  # AK-001
    booked = await checked_in_with_a_booking(mall)  # AK-002
    elderly = await take(mall, priority=True)  # AK-003

    assert (booked["number"], booked["waiting_ahead"]) == ("AK-002", 0)
    assert elderly["waiting_ahead"] == 0
    walk_in_now = (await mall.client.get(f"/queue/tickets/{walk_in['ticket_id']}")).json()
    booked_now = (await mall.client.get(f"/queue/tickets/{booked['ticket_id']}")).json()
    assert (walk_in_now["waiting_ahead"], booked_now["waiting_ahead"]) == (2, 1)

    assert [await call(mall), await call(mall), await call(mall)] == ["AK-003", "AK-002", "AK-001"]
