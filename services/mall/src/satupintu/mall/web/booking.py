"""Booking a visit: the page of a bookable service (a day, a time with its places left, NIK and contact), the
one-time code sent to the contact, the booking with its code and a way to cancel it; and the kiosk's check-in
with the booking code."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from satupintu.common.dates import long_date
from satupintu.common.web.uploads import read_text_form
from satupintu.mall.api.limits import WriteGroup, limit
from satupintu.mall.domain import (
    AlreadyBooked,
    AppointmentNotFound,
    AppointmentStateConflict,
    BookingCodeRefused,
    NotTheBooker,
    SlotFull,
    SlotNotBookable,
)
from satupintu.mall.schemas import AppointmentCreate
from satupintu.mall.services.appointments import BookingRequest
from satupintu.mall.web.rendering import page_context, render_notice, render_page, see_other, translator

router = APIRouter(tags=["pages"], include_in_schema=False)
_DAYS_SHOWN = 10


def _service_name(request: Request, service_code: str) -> str | None:
    context = page_context(request)
    service = context.catalogue.service(service_code)
    if service is None or service_code not in context.appointments.bookable:
        return None
    return service.name.in_language(translator(request).language)


async def _booking_form(
    request: Request,
    service_code: str,
    day: date | None,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    context = page_context(request)
    t = translator(request)
    name = _service_name(request, service_code) or service_code
    days = context.appointments.open_days(service_code)[:_DAYS_SHOWN]
    chosen = day if day in days else (days[0] if days else None)
    slots = []
    for slot in await context.appointments.slots(service_code, chosen) if chosen else []:
        slots.append(
            {
                "value": slot.starts_at.isoformat(),
                "time": t.clock(slot.starts_at),
                "free": slot.free,
                "id": f"slot-{t.clock(slot.starts_at).replace(':', '')}",
            }
        )
    return render_page(
        request,
        "book.html",
        title=t("book_title", service=name),
        status_code=status_code,
        service_code=service_code,
        days=[(d.isoformat(), long_date(d, t.language), d == chosen) for d in days],
        chosen=chosen.isoformat() if chosen else "",
        slots=slots,
        values=values,
        field_errors=errors,
        errors=[(f"#field-{name}", message) for name, message in errors.items()],
    )


@router.get("/book/{service_code}")
async def booking_page(service_code: str, request: Request) -> HTMLResponse:
    """The booking form of a bookable service (``?day=`` chooses the day shown)."""
    t = translator(request)
    if _service_name(request, service_code) is None:
        return render_notice(request, t("book_title", service=service_code), t("book_not_bookable"), 404)
    try:
        day = date.fromisoformat(request.query_params.get("day", ""))
    except ValueError:
        day = None
    return await _booking_form(request, service_code, day, values={}, errors={})


@router.post("/book/{service_code}", dependencies=[Depends(limit(WriteGroup.CITIZEN, page=True))])
async def ask_for_code(service_code: str, request: Request) -> Response:
    """Record the request and send the code, then ask for it; or the form again with its errors."""
    t = translator(request)
    if _service_name(request, service_code) is None:
        return render_notice(request, t("book_title", service=service_code), t("book_not_bookable"), 404)
    form = await read_text_form(request)
    values = {name: str(form.get(name) or "").strip() for name in ("starts_at", "nik", "contact", "day")}
    errors: dict[str, str] = {}
    body: AppointmentCreate | None = None
    try:
        body = AppointmentCreate.model_validate(
            {
                "service_code": service_code,
                "starts_at": values["starts_at"] or None,
                "nik": values["nik"],
                "contact": values["contact"],
                "language": "en" if t.language == "en" else "id",
            }
        )
    except ValidationError as invalid:
        for error in invalid.errors():
            name = str(error["loc"][0]) if error["loc"] else "starts_at"
            message = t("book_slot_missing") if name == "starts_at" else str(error["msg"]).removeprefix("Value error, ")
            errors.setdefault(name, message)
    status = 422
    if body is not None:
        try:
            record = await page_context(request).appointments.request(
                BookingRequest(body.service_code, body.starts_at, body.nik, body.contact, body.language)
            )
        except SlotNotBookable:
            errors["starts_at"] = t("book_slot_gone")
        except SlotFull:
            errors["starts_at"], status = t("book_full_now"), 409
        except AlreadyBooked:
            errors["nik"], status = t("book_already"), 409
        else:
            return see_other(request, f"/book/confirm/{record.appointment_id}")
    try:
        day = date.fromisoformat(values["day"])
    except ValueError:
        day = None
    return await _booking_form(request, service_code, day, values=values, errors=errors, status_code=status)


def _code_form(request: Request, appointment_id: str, error: str | None, status_code: int = 200) -> HTMLResponse:
    t = translator(request)
    minutes = int(page_context(request).appointments.settings.code_valid.total_seconds() // 60)
    return render_page(
        request,
        "book_code.html",
        title=t("book_code_title"),
        status_code=status_code,
        appointment_id=appointment_id,
        lead=t("book_code_lead", minutes=minutes),
        field_errors={"code": error} if error else {},
        errors=[("#field-code", error)] if error else [],
    )


@router.get("/book/confirm/{appointment_id}")
async def code_page(appointment_id: str, request: Request) -> HTMLResponse:
    """Where the citizen enters the code sent to their contact."""
    return _code_form(request, appointment_id, None)


@router.post("/book/confirm/{appointment_id}", dependencies=[Depends(limit(WriteGroup.CITIZEN, page=True))])
async def confirm_code(appointment_id: str, request: Request) -> Response:
    """Confirm the code: the booking is made and shown; or the form again."""
    t = translator(request)
    form = await read_text_form(request)
    code = str(form.get("code") or "").strip()
    try:
        record = await page_context(request).appointments.confirm(appointment_id, code)
    except (BookingCodeRefused, AppointmentNotFound, AppointmentStateConflict):
        return _code_form(request, appointment_id, t("book_code_refused"), 422)
    except SlotFull:
        return render_notice(request, t("book_code_title"), t("book_full_now"), 409)
    except AlreadyBooked:
        return render_notice(request, t("book_code_title"), t("book_already"), 409)
    return see_other(request, f"/book/booked/{record.booking_code}")


@router.get("/book/booked/{booking_code}")
async def booked_page(booking_code: str, request: Request) -> HTMLResponse:
    """The booking: its code, service, time and state, and the form to cancel it."""
    return await _booked(request, booking_code, None, None)


async def _booked(
    request: Request, booking_code: str, message: str | None, error: str | None, status_code: int = 200
) -> HTMLResponse:
    context = page_context(request)
    t = translator(request)
    try:
        record = await context.appointments.find(booking_code)
    except AppointmentNotFound:
        return render_notice(request, t("book_done_title"), t("not_found"), 404)
    service = context.catalogue.service(record.service_code)
    return render_page(
        request,
        "book_done.html",
        title=t("book_done_title"),
        status_code=status_code,
        record=record,
        service_name=service.name.in_language(t.language) if service else record.service_code,
        when=t.moment(record.starts_at),
        state_text=t(f"book_state_{record.state}"),
        hint=t("book_done_hint", minutes=int(context.appointments.settings.no_show_grace.total_seconds() // 60)),
        message=message,
        field_errors={"nik": error} if error else {},
        errors=[("#field-nik", error)] if error else [],
    )


@router.post("/book/booked/{booking_code}/cancel", dependencies=[Depends(limit(WriteGroup.CITIZEN, page=True))])
async def cancel(booking_code: str, request: Request) -> Response:
    """Cancel the booking with its NIK."""
    t = translator(request)
    form = await read_text_form(request)
    try:
        await page_context(request).appointments.cancel(booking_code, str(form.get("nik") or "").strip())
    except AppointmentNotFound:
        return render_notice(request, t("book_done_title"), t("not_found"), 404)
    except NotTheBooker:
        return await _booked(request, booking_code, None, t("book_cancel_refused"), 403)
    except AppointmentStateConflict:
        return await _booked(request, booking_code, None, None, 409)
    return await _booked(request, booking_code, t("book_cancelled"), None)


@router.post("/kiosk/check-in", dependencies=[Depends(limit(WriteGroup.KIOSK, page=True))])
async def check_in(request: Request) -> Response:
    """At the kiosk: the booking code becomes a queue ticket served ahead of walk-ins; its page follows."""
    t = translator(request)
    form = await read_text_form(request)
    code = str(form.get("booking_code") or "").strip().upper()
    try:
        view = await page_context(request).appointments.check_in(code)
    except AppointmentNotFound:
        return render_notice(request, t("kiosk_title"), t("kiosk_check_in_unknown"), 404)
    except AppointmentStateConflict:
        return render_notice(request, t("kiosk_title"), t("kiosk_check_in_refused"), 409)
    return see_other(request, f"/kiosk/tickets/{view.ticket.ticket_id}")
