"""Appointments on the real broker and database: a booking confirmed with the one-time code sent to the contact,
checked in at the kiosk and called before the walk-ins; quotas that hold when citizens race for the last places;
one active booking per NIK and service; cancelling; the reminder the day before and the no-show release; and the
bookings refused (a full slot, a past one, a holiday, outside hours, a wrong code, a used booking code)."""

from __future__ import annotations

import asyncio
import secrets
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from satupintu.mall.services.appointments import AppointmentWatch

from .conftest import RunningMall

pytestmark = pytest.mark.integration
WIB = ZoneInfo("Asia/Jakarta")


@pytest.fixture(scope="module")
def mall_settings() -> dict[str, Any]:
    """The watch runs only when a test asks (``check_once``)."""
    return {"appointment_check_interval_seconds": 3600}


def new_nik() -> str:
    return "3171" + "".join(secrets.choice("0123456789") for _ in range(12))


async def ask(
    mall: RunningMall,
    starts_at: datetime,
    *,
    nik: str | None = None,
    service_code: str = "paspor",
    contact: str = "siti@example.id",
    language: str = "id",
) -> httpx.Response:
    return await mall.client.post(
        "/appointments",
        json={
            "service_code": service_code,
            "starts_at": starts_at.isoformat(),
            "nik": nik or new_nik(),
            "contact": contact,
            "language": language,
        },
    )


async def code_sent(mall: RunningMall, appointment_id: str) -> str:
    """The one-time code the mall sent for a booking (read from its ``appointment.code_issued``)."""
    issued = await mall.mall_events(appointment_id, "appointment.code_issued")
    code: str = issued[0].payload.code
    return code


async def pending(mall: RunningMall, starts_at: datetime, **kwargs: Any) -> tuple[str, str]:
    """A booking asked for and the code sent for it."""
    asked = await ask(mall, starts_at, **kwargs)
    assert asked.status_code == 202, asked.text
    appointment_id: str = asked.json()["appointment_id"]
    return appointment_id, await code_sent(mall, appointment_id)


async def confirm(mall: RunningMall, appointment_id: str, code: str) -> httpx.Response:
    return await mall.client.post(f"/appointments/{appointment_id}/confirmation", json={"code": code})


async def book(mall: RunningMall, starts_at: datetime, **kwargs: Any) -> dict[str, Any]:
    appointment_id, code = await pending(mall, starts_at, **kwargs)
    confirmed = await confirm(mall, appointment_id, code)
    assert confirmed.status_code == 201, confirmed.text
    booking: dict[str, Any] = confirmed.json()
    return booking


def problem_field(answer: httpx.Response) -> tuple[int, str, str]:
    assert answer.headers["content-type"].startswith("application/problem+json"), answer.text
    error = answer.json()["errors"][0]
    return answer.status_code, error["field"], error["code"]


async def test_a_booking_confirmed_with_the_code_sent_checks_in_and_is_called_before_earlier_walk_ins(
    mall: RunningMall,
) -> None:
    mall.clock.now = datetime(2026, 8, 14, 10, 0, tzinfo=WIB)
    slot = datetime(2026, 8, 18, 9, 0, tzinfo=WIB)

    asked = await ask(mall, slot, contact="0812 3456 7890", language="en")
    assert asked.status_code == 202, asked.text
    assert asked.json()["state"] == "pending"
    issued = (await mall.mall_events(asked.json()["appointment_id"], "appointment.code_issued"))[0]
    assert (issued.payload.channel, issued.payload.recipient, issued.payload.language) == ("sms", "081234567890", "en")

    confirmed = await confirm(mall, asked.json()["appointment_id"], issued.payload.code)
    assert confirmed.status_code == 201, confirmed.text
    booking = confirmed.json()
    assert booking["state"] == "booked"
    assert booking["booking_code"].startswith("BK-")
    assert (await mall.client.get(f"/appointments/{booking['booking_code']}")).json()["state"] == "booked"
    slots = (await mall.client.get("/appointments/services/paspor/slots", params={"day": "2026-08-18"})).json()
    assert {"starts_at": slot.isoformat(), "free": 3} in [
        {"starts_at": datetime.fromisoformat(s["starts_at"]).astimezone(WIB).isoformat(), "free": s["free"]}
        for s in slots
    ]

    mall.clock.now = datetime(2026, 8, 18, 8, 40, tzinfo=WIB)
    walk_in = await mall.client.post("/queue/tickets", json={"service_code": "paspor"})
    assert walk_in.status_code == 201, walk_in.text
    checked_in = await mall.client.post("/appointments/check-in", json={"booking_code": booking["booking_code"]})
    assert checked_in.status_code == 201, checked_in.text
    ticket = checked_in.json()
    assert (ticket["service_code"], ticket["waiting_ahead"]) == ("paspor", 0)  # the walk-in waits behind it
    walk_in_now = (await mall.client.get(f"/queue/tickets/{walk_in.json()['ticket_id']}")).json()
    assert walk_in_now["waiting_ahead"] == 1

    again = await mall.client.post("/appointments/check-in", json={"booking_code": booking["booking_code"]})
    assert again.status_code == 409, again.text
    unknown = await mall.client.post("/appointments/check-in", json={"booking_code": "BK-ZZZZZZZZ"})
    assert unknown.status_code == 404, unknown.text

    called = await mall.client.post(
        "/queue/services/paspor/call", json={"counter": "Loket 5"}, headers=mall.officer("imigrasi")
    )
    assert called.status_code == 200, called.text
    assert called.json()["ticket_id"] == ticket["ticket_id"]
    then = await mall.client.post(
        "/queue/services/paspor/call", json={"counter": "Loket 5"}, headers=mall.officer("imigrasi")
    )
    assert then.json()["ticket_id"] == walk_in.json()["ticket_id"]
    checked = await mall.mall_events(booking["appointment_id"], "appointment.checked_in")
    assert checked[0].payload.ticket_id == ticket["ticket_id"]


async def test_citizens_racing_for_the_last_places_of_a_slot_never_overfill_it(mall: RunningMall) -> None:
    mall.clock.now = datetime(2026, 8, 14, 10, 0, tzinfo=WIB)
    last_place = datetime(2026, 8, 19, 10, 0, tzinfo=WIB)
    for _ in range(3):
        await book(mall, last_place)
    two = [await pending(mall, last_place) for _ in range(2)]

    answers = await asyncio.gather(*(confirm(mall, appointment_id, code) for appointment_id, code in two))

    assert sorted(answer.status_code for answer in answers) == [201, 409]
    refused = next(answer for answer in answers if answer.status_code == 409)
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["type"].endswith("slot-full")

    crowded = datetime(2026, 8, 19, 10, 30, tzinfo=WIB)
    racing = [await pending(mall, crowded) for _ in range(12)]
    answers = await asyncio.gather(*(confirm(mall, appointment_id, code) for appointment_id, code in racing))
    successes = sum(answer.status_code == 201 for answer in answers)
    refusals = sum(answer.status_code == 409 for answer in answers)
    print(
        f"concurrent booking of one slot (quota 4): attempts={len(answers)} successes={successes} refusals={refusals}"
    )
    assert (successes, refusals) == (4, 8)
    slots = (await mall.client.get("/appointments/services/paspor/slots", params={"day": "2026-08-19"})).json()
    free = {datetime.fromisoformat(s["starts_at"]): s["free"] for s in slots}
    assert (free[last_place], free[crowded]) == (0, 0)
    full = await ask(mall, crowded)
    assert full.status_code == 409, full.text


async def test_a_nik_holds_one_active_booking_per_service_even_when_confirming_two_at_once(mall: RunningMall) -> None:
    mall.clock.now = datetime(2026, 8, 14, 10, 0, tzinfo=WIB)
    nik = new_nik()
    first = await pending(mall, datetime(2026, 8, 20, 8, 0, tzinfo=WIB), nik=nik)
    second = await pending(mall, datetime(2026, 8, 20, 8, 30, tzinfo=WIB), nik=nik)

    answers = await asyncio.gather(confirm(mall, *first), confirm(mall, *second))

    assert sorted(answer.status_code for answer in answers) == [201, 409]
    again = await ask(mall, datetime(2026, 8, 20, 9, 0, tzinfo=WIB), nik=nik)
    assert problem_field(again) == (409, "nik", "already_booked")
    other_service = await ask(mall, datetime(2026, 8, 20, 9, 0, tzinfo=WIB), nik=nik, service_code="sim-perpanjangan")
    assert other_service.status_code == 202, other_service.text
    slots = (await mall.client.get("/appointments/services/paspor/slots", params={"day": "2026-08-20"})).json()
    assert sum(4 - s["free"] for s in slots) == 1  # the refused confirmation gave its place back


async def test_a_booking_is_cancelled_with_its_nik_and_frees_its_place(mall: RunningMall) -> None:
    mall.clock.now = datetime(2026, 8, 14, 10, 0, tzinfo=WIB)
    nik, slot = new_nik(), datetime(2026, 8, 21, 8, 0, tzinfo=WIB)
    booking = await book(mall, slot, nik=nik)
    code = booking["booking_code"]

    wrong = await mall.client.post(f"/appointments/{code}/cancellation", json={"nik": new_nik()})
    assert problem_field(wrong) == (403, "nik", "mismatch")
    cancelled = await mall.client.post(f"/appointments/{code}/cancellation", json={"nik": nik})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "cancelled"
    again = await mall.client.post(f"/appointments/{code}/cancellation", json={"nik": nik})
    assert again.status_code == 409, again.text
    slots = (await mall.client.get("/appointments/services/paspor/slots", params={"day": "2026-08-21"})).json()
    assert {datetime.fromisoformat(s["starts_at"]): s["free"] for s in slots}[slot] == 4
    mall.clock.now = datetime(2026, 8, 21, 7, 50, tzinfo=WIB)
    refused = await mall.client.post("/appointments/check-in", json={"booking_code": code})
    assert refused.status_code == 409, refused.text
    assert (await book(mall, slot, nik=nik))["state"] == "booked"  # the NIK may book again


async def test_the_day_before_a_reminder_goes_out_and_a_booking_not_checked_in_is_released(mall: RunningMall) -> None:
    mall.clock.now = datetime(2026, 8, 24, 9, 0, tzinfo=WIB)
    slot = datetime(2026, 8, 27, 13, 0, tzinfo=WIB)
    booking = await book(mall, slot, contact="budi@example.id", language="en")
    found = await mall.client.get(f"/appointments/{booking['booking_code']}")
    assert found.status_code == 200
    watch: AppointmentWatch = mall.app.state.mall.appointment_watch

    mall.clock.now = datetime(2026, 8, 26, 12, 0, tzinfo=WIB)
    await watch.check_once()
    mall.clock.now = datetime(2026, 8, 26, 13, 5, tzinfo=WIB)
    await watch.check_once()
    await watch.check_once()

    appointment_id = booking["appointment_id"]
    reminders = await mall.mall_events(appointment_id, "appointment.reminder_due")
    assert len(reminders) == 1
    reminder = reminders[0].payload
    assert (reminder.recipient, reminder.language, reminder.booking_code) == (
        "budi@example.id",
        "en",
        booking["booking_code"],
    )

    mall.clock.now = slot + timedelta(minutes=14)
    await watch.check_once()
    assert (await mall.client.get(f"/appointments/{booking['booking_code']}")).json()["state"] == "booked"
    mall.clock.now = slot + timedelta(minutes=16)
    await watch.check_once()
    released = await mall.mall_events(appointment_id, "appointment.no_show")
    assert len(released) == 1
    assert (await mall.client.get(f"/appointments/{booking['booking_code']}")).json()["state"] == "no_show"
    late = await mall.client.post("/appointments/check-in", json={"booking_code": booking["booking_code"]})
    assert late.status_code == 409, late.text


async def test_slots_that_cannot_be_booked_are_refused_naming_the_field_and_why(mall: RunningMall) -> None:
    mall.clock.now = datetime(2026, 8, 14, 10, 0, tzinfo=WIB)

    refusals = {
        "past": datetime(2026, 8, 14, 9, 0, tzinfo=WIB),
        "holiday": datetime(2026, 8, 17, 9, 0, tzinfo=WIB),  # Hari Kemerdekaan, a Monday
        "not_working_day": datetime(2026, 8, 15, 9, 0, tzinfo=WIB),  # a Saturday
        "outside_hours": datetime(2026, 8, 18, 12, 0, tzinfo=WIB),  # the lunch break
        "too_far": datetime(2026, 10, 13, 9, 0, tzinfo=WIB),
    }
    for why, starts_at in refusals.items():
        assert problem_field(await ask(mall, starts_at)) == (422, "starts_at", why), why
    off_boundary = await ask(mall, datetime(2026, 8, 18, 9, 10, tzinfo=WIB))
    assert problem_field(off_boundary) == (422, "starts_at", "outside_hours")
    not_bookable = await ask(mall, datetime(2026, 8, 18, 9, 0, tzinfo=WIB), service_code="npwp")
    assert problem_field(not_bookable) == (422, "service_code", "not_bookable")
    no_nik = await mall.client.post(
        "/appointments", json={"service_code": "paspor", "starts_at": "2026-08-18T09:00:00+07:00", "contact": "x"}
    )
    assert no_nik.status_code == 422

    appointment_id, code = await pending(mall, datetime(2026, 8, 18, 9, 0, tzinfo=WIB))
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert problem_field(await confirm(mall, appointment_id, wrong)) == (422, "code", "refused")
    used_up = await confirm(mall, appointment_id, code)
    assert problem_field(used_up) == (422, "code", "refused")  # five wrong tries: the right code no longer works

    expired_id, expired_code = await pending(mall, datetime(2026, 8, 18, 9, 0, tzinfo=WIB))
    mall.clock.now += timedelta(minutes=11)
    assert problem_field(await confirm(mall, expired_id, expired_code)) == (422, "code", "refused")


async def test_the_booking_pages_speak_indonesian_or_english_and_refuse_what_the_api_refuses(mall: RunningMall) -> None:
    mall.clock.now = datetime(2026, 8, 14, 10, 0, tzinfo=WIB)

    english = await mall.client.get("/book/sim-perpanjangan?lang=en&day=2026-08-18")
    assert english.status_code == 200
    assert "Book a visit: Driving Licence Renewal" in english.text
    assert 'value="2026-08-18T08:00:00+07:00"' in english.text
    not_bookable = await mall.client.get("/book/npwp")
    assert not_bookable.status_code == 404
    bad_nik = await mall.client.post(
        "/book/paspor",
        data={
            "starts_at": "2026-08-18T08:00:00+07:00",
            "nik": "123",
            "contact": "siti@example.id",
            "day": "2026-08-18",
        },
    )
    assert bad_nik.status_code == 422
    assert 'id="field-nik-error"' in bad_nik.text
    no_slot = await mall.client.post("/book/paspor", data={"nik": new_nik(), "contact": "siti@example.id"})
    assert no_slot.status_code == 422
    assert "Pilih jam kedatangan." in no_slot.text
    asked = await mall.client.post(
        "/book/paspor?lang=en",
        data={"starts_at": "2026-08-18T08:00:00+07:00", "nik": new_nik(), "contact": "siti@example.id"},
    )
    assert asked.status_code == 303
    assert asked.headers["location"].startswith("/book/confirm/")
    assert asked.headers["location"].endswith("?lang=en")
    appointment_id = asked.headers["location"].split("/")[-1].split("?")[0]
    issued = (await mall.mall_events(appointment_id, "appointment.code_issued"))[0]
    assert issued.payload.language == "en"
    unknown = await mall.client.post("/kiosk/check-in", data={"booking_code": "BK-ZZZZZZZZ"})
    assert unknown.status_code == 404
    assert "Kode booking tidak dikenal." in unknown.text
