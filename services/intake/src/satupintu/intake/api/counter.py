"""``/counter``: a clerk at a mall's counter submits an application for the citizen in front of them (decision 0036).

The clerk signs in (a bearer token with the officer role of one of the malls' agencies, ``counter_agencies``); the
citizen proves the contact their application gives by reading out the code sent to it; the application is the
citizen's, validated by the same use case as ``POST /applications``, with the channel ``counter``, the clerk as its
actor and the citizen's queue ticket. These paths are limited per clerk, not per address (the mall's address is
every clerk's).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, Security, UploadFile, status

from satupintu.common.auth import Principal, Role
from satupintu.common.limits import Quota
from satupintu.common.lockout import LockedOut, locked_problem
from satupintu.common.problems import Problem, documented_problems
from satupintu.intake.api import dependencies
from satupintu.intake.api.applications import accept
from satupintu.intake.api.documents import DocumentStored, store
from satupintu.intake.api.profile import parsed_body, request_body
from satupintu.intake.api.staff import admitting
from satupintu.intake.documents import DocumentService
from satupintu.intake.profiles import Contact
from satupintu.intake.schemas import (
    ApplicationAccepted,
    ApplicationCreate,
    ContactCodeRequest,
    ContactCodeSent,
    CounterApplicationCreate,
)
from satupintu.intake.services import ApplicationService, AtTheCounter

router = APIRouter(prefix="/counter", tags=["counter"])
PREFIX = "/counter/"
"""The paths the per-address rate limit leaves to the per-clerk one."""

_officer = admitting(frozenset({Role.OFFICER}), dependencies.profiles, "a mall agency's officer")


async def counter_clerk(request: Request, principal: Annotated[Principal, Security(_officer)]) -> Principal:
    """An officer of one of the malls' agencies, within their requests of the hour (429 past them); anyone else's
    refusal is recorded in the audit log."""
    settings = dependencies.context(request).settings
    if principal.agency not in settings.counter_agencies:
        why = f"This needs an officer of {', '.join(settings.counter_agencies)}; your agency is {principal.agency}."
        await dependencies.profiles(request).record_refusal(
            principal.actor(), f"{request.method} {request.url.path}", why
        )
        raise HTTPException(403, detail=why)
    quota = Quota("intake.counter-requests", settings.counter_requests_per_clerk_per_hour, timedelta(hours=1))
    taken = await dependencies.context(request).limiter.take(quota, principal.actor())
    if not taken.allowed:
        raise locked_problem(LockedOut(quota, taken.retry_after), "clerk")
    return principal


_STAFF = {
    401: "No valid bearer token.",
    403: "The token is not an officer's of one of the malls' agencies (the refusal is recorded).",
}


@router.post(
    "/contact-codes",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a one-time code to the contact the citizen at the counter gives (staff)",
    openapi_extra=request_body(ContactCodeRequest),
    responses=documented_problems(
        {
            **_STAFF,
            422: "Invalid body, or neither e-mail nor phone; `errors` names the field (problem+json).",
            429: "Too many codes for this NIK in the last hour, or too many requests of this clerk; see Retry-After.",
        }
    ),
)
async def send_contact_code(request: Request, clerk: Annotated[Principal, Depends(counter_clerk)]) -> ContactCodeSent:
    """Send a code to the e-mail address (else phone) the citizen gives; they read it out to the clerk, who
    submits it with the application."""
    body = await parsed_body(request, ContactCodeRequest)
    contact = Contact.given(body.email, body.phone)
    if contact is None:
        raise Problem(
            422,
            "validation-error",
            "Give the citizen's contact; see `errors`.",
            errors=[{"field": "email", "message": "give an e-mail address or a phone number", "code": "missing"}],
        )
    try:
        sent = await dependencies.profiles(request).send_contact_code(body.nik, contact, body.language)
    except LockedOut as locked:
        raise locked_problem(locked, "nik") from locked
    return ContactCodeSent(verification_id=sent.verification_id, expires_at=sent.expires_at)


@router.post(
    "/documents",
    status_code=status.HTTP_201_CREATED,
    summary="Upload a document the citizen at the counter brought (staff)",
    responses=documented_problems(
        {
            **_STAFF,
            413: "The file or the body is larger than the limit.",
            415: "The file's content is not PDF, JPEG or PNG, or not the type it was sent as.",
            422: "The file is empty, or the request has no multipart field `file`.",
            429: "Too many requests of this clerk, or too many bytes from this address this hour; see Retry-After.",
        }
    ),
)
async def upload_at_the_counter(
    file: UploadFile,
    service: Annotated[DocumentService, Depends(dependencies.document_service)],
    clerk: Annotated[Principal, Depends(counter_clerk)],
) -> DocumentStored:
    """As ``POST /documents``, for a clerk scanning or uploading the citizen's documents."""
    return await store(file, service)


@router.post(
    "/applications",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Submit an application for the citizen at the counter (staff)",
    openapi_extra=request_body(CounterApplicationCreate),
    responses=documented_problems(
        {
            **_STAFF,
            422: "Invalid fields, exactly as `POST /applications` answers, or a wrong, expired or used contact code "
            "(`contact_code/code`); `errors` names each field path (problem+json).",
            429: "Too many wrong codes for this NIK, or too many requests of this clerk; see Retry-After.",
        }
    ),
)
async def submit_at_the_counter(
    request: Request,
    response: Response,
    service: Annotated[ApplicationService, Depends(dependencies.application_service)],
    clerk: Annotated[Principal, Depends(counter_clerk)],
) -> ApplicationAccepted:
    """Validate the application as the citizen's, check the code proving its contact, store it with the channel
    `counter` and the clerk as actor, and announce it with the ticket for the mall to link."""

    def at_the_counter(body: ApplicationCreate) -> AtTheCounter:
        assert isinstance(body, CounterApplicationCreate)
        return AtTheCounter(
            clerk=clerk.actor(),
            verification_id=body.contact_code.verification_id,
            code=body.contact_code.code,
            ticket_id=body.ticket_id,
        )

    return await accept(
        request, response, service, CounterApplicationCreate, idempotency_key=None, counter=at_the_counter
    )
