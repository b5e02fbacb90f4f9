"""Counter queue tickets on the real broker and database: numbers per service and day, a wait estimated from the
counters' live serving rate, officers calling, serving and marking no-shows, and a ticket linked to the
application submitted at the counter."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from satupintu.common.auth import Role

from .conftest import RunningMall

pytestmark = pytest.mark.integration
WIB = ZoneInfo("Asia/Jakarta")


async def take(mall: RunningMall, service_code: str) -> dict[str, object]:
    answer = await mall.client.post("/queue/tickets", json={"service_code": service_code})
    assert answer.status_code == 201, answer.text
    ticket: dict[str, object] = answer.json()
    return ticket


async def test_numbers_restart_daily_and_the_wait_follows_the_counters_serving_rate(mall: RunningMall) -> None:
    start = datetime(2026, 7, 29, 8, 0, tzinfo=WIB)
    mall.clock.now = start
    djp = mall.officer("djp")

    first, second, third = [await take(mall, "npwp") for _ in range(3)]

    assert [t["number"] for t in (first, second, third)] == ["NPWP-001", "NPWP-002", "NPWP-003"]
    assert [t["waiting_ahead"] for t in (first, second, third)] == [0, 1, 2]
    # Nobody served yet today: the default 10 minutes a visitor.
    assert [t["estimated_wait_minutes"] for t in (first, second, third)] == [0, 10, 20]

    mall.clock.now = start + timedelta(minutes=5)
    called = await mall.client.post("/queue/services/npwp/call", json={"counter": "Loket 2"}, headers=djp)
    assert called.status_code == 200, called.text
    assert (called.json()["number"], called.json()["state"], called.json()["counter"]) == (
        "NPWP-001",
        "called",
        "Loket 2",
    )

    mall.clock.now = start + timedelta(minutes=11)
    served = await mall.client.post(f"/queue/tickets/{first['ticket_id']}/served", headers=djp)
    assert served.status_code == 200, served.text
    assert served.json()["state"] == "served"

    # One counter open, serving a visitor in 6 minutes: NPWP-003 has one visitor ahead, so about 6 minutes.
    third_now = (await mall.client.get(f"/queue/tickets/{third['ticket_id']}")).json()
    assert (third_now["waiting_ahead"], third_now["estimated_wait_minutes"]) == (1, 6)
    fourth = await take(mall, "npwp")
    assert (fourth["number"], fourth["waiting_ahead"], fourth["estimated_wait_minutes"]) == ("NPWP-004", 2, 12)

    issued = await mall.mall_events(str(second["ticket_id"]), "ticket.issued")
    assert issued[0].payload.number == "NPWP-002"
    assert issued[0].payload.estimated_wait_minutes == 10
    called_event = (await mall.mall_events(str(first["ticket_id"]), "ticket.called"))[0]
    assert (called_event.payload.counter, called_event.payload.waited_seconds) == ("Loket 2", 300)
    assert called_event.actor == "officer:djp:budi"
    served_event = (await mall.mall_events(str(first["ticket_id"]), "ticket.served"))[0]
    assert served_event.payload.service_seconds == 360

    mall.clock.now = start + timedelta(days=1)
    tomorrow = await take(mall, "npwp")
    assert (tomorrow["number"], tomorrow["day"], tomorrow["waiting_ahead"]) == ("NPWP-001", "2026-07-30", 0)


async def test_a_called_visitor_who_does_not_come_is_a_no_show_and_only_called_tickets_can_be_finished(
    mall: RunningMall,
) -> None:
    mall.clock.now = datetime(2026, 7, 27, 9, 0, tzinfo=WIB)
    polres = mall.officer("polres")
    waiting = await take(mall, "skck")

    refused = await mall.client.post(f"/queue/tickets/{waiting['ticket_id']}/served", headers=polres)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/ticket-state")
    assert "waiting" in refused.json()["detail"]

    await mall.client.post("/queue/services/skck/call", json={"counter": "Loket 7"}, headers=polres)
    gone = await mall.client.post(f"/queue/tickets/{waiting['ticket_id']}/no-show", headers=polres)
    assert gone.status_code == 200
    assert gone.json()["state"] == "no_show"
    no_show = (await mall.mall_events(str(waiting["ticket_id"]), "ticket.no_show"))[0]
    assert no_show.payload.counter == "Loket 7"

    empty = await mall.client.post("/queue/services/skck/call", json={"counter": "Loket 7"}, headers=polres)
    assert (empty.status_code, empty.json()["type"].rsplit("/", 1)[1]) == (409, "queue-empty")


async def test_only_the_agency_serving_the_service_calls_its_queue(mall: RunningMall) -> None:
    mall.clock.now = datetime(2026, 7, 28, 9, 0, tzinfo=WIB)
    await take(mall, "paspor")

    anonymous = await mall.client.post("/queue/services/paspor/call", json={"counter": "Loket 1"})
    other_agency = await mall.client.post(
        "/queue/services/paspor/call", json={"counter": "Loket 1"}, headers=mall.officer("polres")
    )
    auditor = await mall.client.post(
        "/queue/services/paspor/call", json={"counter": "Loket 1"}, headers=mall.headers(Role.AUDITOR)
    )

    assert anonymous.status_code == 401
    assert other_agency.status_code == 403
    assert "imigrasi" in other_agency.json()["detail"]
    assert auditor.status_code == 403
    unknown = await mall.client.post("/queue/tickets", json={"service_code": "kartu-kuning"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "service_code"


async def test_a_ticket_linked_to_the_application_submitted_at_the_counter_leads_to_its_tracking_page(
    mall: RunningMall,
) -> None:
    mall.clock.now = datetime(2026, 7, 30, 10, 0, tzinfo=WIB)
    submitted = await mall.submit("sim-perpanjangan")
    satlantas = mall.officer("satlantas")
    ticket = await take(mall, "sim-perpanjangan")
    assert ticket["number"] == "SP-001"
    await mall.client.post("/queue/services/sim-perpanjangan/call", json={"counter": "Loket 4"}, headers=satlantas)

    linked = await mall.client.post(
        f"/queue/tickets/{ticket['ticket_id']}/link",
        json={"tracking_code": submitted.payload.tracking_code},
        headers=satlantas,
    )
    await mall.client.post(f"/queue/tickets/{ticket['ticket_id']}/served", headers=satlantas)

    assert linked.status_code == 200, linked.text
    shown = (await mall.client.get(f"/queue/tickets/{ticket['ticket_id']}")).json()
    assert shown["tracking_code"] == submitted.payload.tracking_code
    assert shown["track_url"] == f"https://satupintu.example.go.id/track/{submitted.payload.tracking_code}"
    event = (await mall.mall_events(str(ticket["ticket_id"]), "ticket.linked"))[0]
    assert (event.payload.tracking_code, event.payload.application_id) == (
        submitted.payload.tracking_code,
        submitted.subject,
    )
    served = (await mall.mall_events(str(ticket["ticket_id"]), "ticket.served"))[0]
    assert served.payload.tracking_code == submitted.payload.tracking_code
    page = await mall.client.get(f"/kiosk/tickets/{ticket['ticket_id']}")
    assert submitted.payload.tracking_code in page.text


async def test_the_kiosk_page_takes_a_number_and_shows_the_ticket_page(mall: RunningMall) -> None:
    mall.clock.now = datetime(2026, 7, 24, 8, 0, tzinfo=WIB)

    kiosk = await mall.client.get("/kiosk?lang=en")
    taken = await mall.client.post("/kiosk?lang=en", data={"service_code": "cek-sertifikat-tanah"})
    ticket = await mall.client.get(taken.headers["location"])

    assert kiosk.status_code == 200
    assert 'id="take-cek-sertifikat-tanah"' in kiosk.text
    assert taken.status_code == 303
    assert taken.headers["location"].endswith("?lang=en")
    assert 'id="ticket-number">CST-001<' in ticket.text
    assert "Waiting to be called" in ticket.text
    assert '<meta http-equiv="refresh" content="20">' in ticket.text
