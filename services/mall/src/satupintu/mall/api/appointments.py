"""``/appointments``: the slots of a bookable service, booking one (NIK, contact, then the one-time code sent to
it), cancelling it with the NIK, and checking in at the kiosk with the booking code. The citizens' writes spend the
per-address budget of the citizens' group, the check-in the kiosk's."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from satupintu.common.problems import documented_problems
from satupintu.mall.api.dependencies import mall
from satupintu.mall.api.limits import RATE_LIMITED, WriteGroup, limit
from satupintu.mall.api.queue import ticket_read
from satupintu.mall.factory import MallContext
from satupintu.mall.schemas import (
    AppointmentCancel,
    AppointmentCheckIn,
    AppointmentConfirm,
    AppointmentCreate,
    AppointmentPending,
    AppointmentRead,
    SlotRead,
    TicketRead,
)
from satupintu.mall.services.appointments import BookingRequest
from satupintu.mall.storage.tables import AppointmentRecord

router = APIRouter(prefix="/appointments", tags=["appointments"])
Context = Annotated[MallContext, Depends(mall)]
_PROBLEMS: dict[int | str, dict[str, object]] = {
    **RATE_LIMITED,
    409: {
        "description": "The slot is full, or the NIK already holds a booking of the service.",
        "content": {"application/problem+json": {}},
    },
    422: {
        "description": "Not a slot one may book (past, holiday, outside hours...), naming the field.",
        "content": {"application/problem+json": {}},
    },
}

_NO_BOOKING = documented_problems({404: "No booking has this code."})


def appointment_read(record: AppointmentRecord) -> AppointmentRead:
    """The JSON form of a booking (nothing personal)."""
    return AppointmentRead(
        appointment_id=record.appointment_id,
        booking_code=record.booking_code,
        state=record.state,
        service_code=record.service_code,
        agency=record.agency,
        starts_at=record.starts_at,
        ticket_id=record.ticket_id,
    )


@router.get("/services/{service_code}/slots", summary="A day's slots of a bookable service, with places free")
async def slots(service_code: str, context: Context, day: Annotated[date, Query()]) -> list[SlotRead]:
    """The slots of ``day`` not yet started, each with its places still free (0 when full)."""
    return [
        SlotRead(starts_at=slot.starts_at, free=slot.free)
        for slot in await context.appointments.slots(service_code, day)
    ]


@router.post(
    "",
    status_code=202,
    summary="Ask to book a slot: a one-time code goes to the contact",
    dependencies=[Depends(limit(WriteGroup.CITIZEN))],
    responses=_PROBLEMS,
)
async def request_booking(body: AppointmentCreate, context: Context) -> AppointmentPending:
    """Record the request and send a one-time code to the contact; confirming the code books the slot."""
    record = await context.appointments.request(
        BookingRequest(
            service_code=body.service_code,
            starts_at=body.starts_at,
            nik=body.nik,
            contact=body.contact,
            language=body.language,
        )
    )
    return AppointmentPending(
        appointment_id=record.appointment_id,
        state=record.state,
        service_code=record.service_code,
        starts_at=record.starts_at,
        code_expires_at=record.code_expires_at,
    )


@router.post(
    "/{appointment_id}/confirmation",
    status_code=201,
    summary="Confirm the one-time code: the slot is booked",
    dependencies=[Depends(limit(WriteGroup.CITIZEN))],
    responses=_PROBLEMS | _NO_BOOKING,
)
async def confirm_booking(appointment_id: str, body: AppointmentConfirm, context: Context) -> AppointmentRead:
    """Take a place in the slot and give the booking code (409 when the slot filled meanwhile)."""
    return appointment_read(await context.appointments.confirm(appointment_id, body.code))


@router.get("/{booking_code}", summary="A booking by its booking code", responses=_NO_BOOKING)
async def read_booking(booking_code: str, context: Context) -> AppointmentRead:
    """Where the booking stands."""
    return appointment_read(await context.appointments.find(booking_code))


@router.post(
    "/{booking_code}/cancellation",
    summary="Cancel a booking (with the NIK it was made with)",
    dependencies=[Depends(limit(WriteGroup.CITIZEN))],
    responses=RATE_LIMITED
    | _NO_BOOKING
    | documented_problems(
        {403: "The NIK is not the one the booking was made with.", 409: "The booking is not booked any more."}
    ),
)
async def cancel_booking(booking_code: str, body: AppointmentCancel, context: Context) -> AppointmentRead:
    """Cancel the booking and free its place."""
    return appointment_read(await context.appointments.cancel(booking_code, body.nik))


@router.post(
    "/check-in",
    status_code=201,
    summary="Check in at the kiosk with the booking code: a queue ticket served ahead of walk-ins",
    dependencies=[Depends(limit(WriteGroup.KIOSK))],
    responses=RATE_LIMITED
    | _NO_BOOKING
    | documented_problems({409: "The booking was used, cancelled or released, or is for another day."}),
)
async def check_in(body: AppointmentCheckIn, context: Context) -> TicketRead:
    """Today's booking becomes a queue ticket of its service, called before the walk-ins (404 unknown code, 409 used,
    cancelled, released or another day's)."""
    return ticket_read(context, await context.appointments.check_in(body.booking_code))
