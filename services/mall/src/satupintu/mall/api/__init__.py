"""The mall's HTTP routers, and how its domain errors are answered (RFC 9457 problem+json, with the field path
where a field is at fault)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from satupintu.common.lockout import LockedOut, locked_problem
from satupintu.common.problems import problem_response
from satupintu.mall.domain import (
    AlreadyBooked,
    ApplicationNotKnown,
    AppointmentNotFound,
    AppointmentStateConflict,
    BookingCodeRefused,
    ComplaintClosed,
    ComplaintNotFound,
    ComplaintTakenUp,
    ConsentRefused,
    DocumentAlreadyCollected,
    DocumentNotAtCounter,
    DocumentWasRevoked,
    NotTheApplicant,
    NotTheBooker,
    NotYourCounter,
    QueueEmpty,
    ServiceNotBookable,
    SlotFull,
    SlotNotBookable,
    SurveyAlreadyAnswered,
    SurveyExpired,
    SurveyNotFound,
    TicketNotFound,
    TicketStateConflict,
    UnknownAgency,
    UnknownComplaintCategory,
    UnknownService,
)


def _field_error(field: str, message: str, code: str) -> list[dict[str, Any]]:
    return [{"field": field, "message": message, "code": code}]


_PROBLEMS: dict[type[Exception], Callable[[Exception], tuple[int, str, str, list[dict[str, Any]] | None]]] = {
    UnknownService: lambda e: (404, "unknown-service", f"There is no service {e}.", None),
    TicketNotFound: lambda e: (404, "not-found", f"There is no ticket {e}.", None),
    QueueEmpty: lambda e: (409, "queue-empty", f"Nobody is waiting for {e} today.", None),
    TicketStateConflict: lambda e: (409, "ticket-state", f"{str(e)[0].upper()}{str(e)[1:]}.", None),
    NotYourCounter: lambda e: (403, "forbidden", f"Not allowed: {e}.", None),
    SurveyNotFound: lambda e: (404, "not-found", "This survey link is not known.", None),
    SurveyExpired: lambda e: (410, "survey-expired", "This survey link has expired.", None),
    SurveyAlreadyAnswered: lambda e: (
        409,
        "survey-answered",
        "This application's survey was answered already; it can be answered once.",
        None,
    ),
    ComplaintNotFound: lambda e: (404, "not-found", f"There is no complaint {e}.", None),
    ComplaintClosed: lambda e: (409, "complaint-closed", f"Complaint {e} was answered already.", None),
    ComplaintTakenUp: lambda e: (409, "complaint-taken-up", f"Complaint {e} was taken up already.", None),
    UnknownComplaintCategory: lambda e: (
        422,
        "validation-error",
        "The complaint's category must be one of the catalogue's complaint categories.",
        _field_error("category", f"unknown complaint category {str(e)!r}", "category"),
    ),
    UnknownAgency: lambda e: (
        422,
        "validation-error",
        "The complaint must name an agency of the mall, or an application.",
        _field_error(
            "agency", f"unknown agency {str(e)!r}" if str(e) else "name an agency or a tracking code", "agency"
        ),
    ),
    ApplicationNotKnown: lambda e: (
        422,
        "validation-error",
        "The mall does not know that tracking code (an application just submitted may take a moment).",
        _field_error("tracking_code", f"unknown tracking code {e}", "unknown"),
    ),
    ConsentRefused: lambda e: (
        422,
        "validation-error",
        str(e),
        _field_error(e.field if isinstance(e, ConsentRefused) else "", str(e), "not_reusable"),
    ),
    DocumentNotAtCounter: lambda e: (
        404,
        "not-found",
        "No document waits at the counter under that id: unknown, or not collected at the counter.",
        None,
    ),
    DocumentWasRevoked: lambda e: (
        409,
        "document-revoked",
        f"{str(e)[0].upper()}{str(e)[1:]} by its issuing agency; its original is not handed over.",
        None,
    ),
    NotTheApplicant: lambda e: (
        403,
        "not-the-applicant",
        "The NIK is not the one the application was submitted with.",
        _field_error("nik", "not the applicant's NIK", "mismatch"),
    ),
    ServiceNotBookable: lambda e: (
        422,
        "validation-error",
        f"The service {e} takes no bookings.",
        _field_error("service_code", f"service {e} takes no bookings", "not_bookable"),
    ),
    SlotNotBookable: lambda e: (
        422,
        "validation-error",
        f"That slot cannot be booked: {e}.",
        _field_error(e.refusal.field, str(e), e.refusal.code) if isinstance(e, SlotNotBookable) else None,
    ),
    SlotFull: lambda e: (409, "slot-full", "Every place of that slot is taken; choose another slot.", None),
    AlreadyBooked: lambda e: (
        409,
        "already-booked",
        "This NIK already holds a booking of the service; cancel it before booking another.",
        _field_error("nik", "already holds a booking of the service", "already_booked"),
    ),
    AppointmentNotFound: lambda e: (404, "not-found", "There is no booking with that code.", None),
    AppointmentStateConflict: lambda e: (409, "appointment-state", f"{str(e)[0].upper()}{str(e)[1:]}.", None),
    BookingCodeRefused: lambda e: (
        422,
        "validation-error",
        "The one-time code is not correct or no longer valid; ask for a new one.",
        _field_error("code", "not correct or no longer valid", "refused"),
    ),
    NotTheBooker: lambda e: (
        403,
        "not-the-booker",
        "The NIK is not the one the booking was made with.",
        _field_error("nik", "not the NIK of the booking", "mismatch"),
    ),
}


def install_domain_problems(app: FastAPI) -> None:
    """Answer the mall's domain errors as problem+json (a lock on a tracking code's NIK checks: 429, Retry-After; a
    document handed over already: 409 with when and by whom)."""

    async def answer(request: Request, error: Exception) -> JSONResponse:
        status, problem_type, detail, errors = _PROBLEMS[type(error)](error)
        return problem_response(request, status, problem_type, detail, errors=errors)

    for error_type in _PROBLEMS:
        app.add_exception_handler(error_type, answer)

    async def collected(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, DocumentAlreadyCollected)
        return problem_response(
            request,
            409,
            "document-collected",
            f"{str(error)[0].upper()}{str(error)[1:]}; nothing was recorded.",
            extensions={"collected_at": error.collected_at.isoformat(), "handed_over_by": error.handed_over_by},
        )

    app.add_exception_handler(DocumentAlreadyCollected, collected)

    async def locked(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, LockedOut)
        problem = locked_problem(error, "nik")
        return problem_response(
            request,
            problem.status,
            problem.problem_type,
            problem.detail,
            errors=problem.errors,
            headers=problem.headers,
        )

    app.add_exception_handler(LockedOut, locked)
