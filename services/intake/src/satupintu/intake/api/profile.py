"""``/profile``: one-time codes to the contact on file (so data given before can be reused), confirming a code (so
a contact given is proven), and a counter clerk's reset of the contact on file (decisions 0007, 0018). No answer
says whether a NIK has a profile."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Request, Security, status
from pydantic import BaseModel, ValidationError

from satupintu.common.auth import Principal, Role
from satupintu.common.lockout import LockedOut, locked_problem
from satupintu.common.problems import Problem, documented_problems, field_path
from satupintu.common.requests import JSON_BODY_PROBLEMS, read_json_body
from satupintu.intake.api import dependencies
from satupintu.intake.api.staff import admitting
from satupintu.intake.profiles import Contact, OneTimeCodeRefused
from satupintu.intake.schemas import (
    ContactResetCreate,
    ContactResetDone,
    VerificationConfirm,
    VerificationConfirmed,
    VerificationRequest,
    VerificationSent,
)

router = APIRouter(tags=["profile"])
CLERK_ROLES = frozenset({Role.OFFICER, Role.OPERATOR})
M = TypeVar("M", bound=BaseModel)


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI request body of an endpoint that reads ``model`` itself (:func:`parsed_body`)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


async def parsed_body(request: Request, model: type[M]) -> M:
    """The JSON body as ``model`` (bounded in size); 422 problem+json naming each invalid field."""
    raw, _ = await read_json_body(request, dependencies.max_body_bytes(request))
    try:
        return model.model_validate_json(raw)
    except ValidationError as invalid:
        raise Problem(
            422,
            "validation-error",
            "The request is not valid; see `errors` for each field.",
            errors=[{"field": field_path(e["loc"]), "message": e["msg"], "code": e["type"]} for e in invalid.errors()],
        ) from invalid


@router.post(
    "/profile/verification",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a one-time code to the contact on file",
    openapi_extra=request_body(VerificationRequest),
    responses=JSON_BODY_PROBLEMS
    | documented_problems(
        {
            422: "Invalid NIK or language; `errors` names each field (problem+json).",
            429: "Too many codes for this NIK in the last hour (or requests from this client); see Retry-After. "
            "Nothing was recorded or sent.",
        }
    ),
)
async def request_verification(request: Request) -> VerificationSent:
    """Record a code and send it to the contact on file (e-mail first, else phone), verified or not; a NIK without
    a profile gets the same answer, and its code goes nowhere."""
    body = await parsed_body(request, VerificationRequest)
    try:
        sent = await dependencies.profiles(request).send_code(body.nik, body.language)
    except LockedOut as locked:
        raise locked_problem(locked, "nik") from locked
    return VerificationSent(verification_id=sent.verification_id, expires_at=sent.expires_at)


@router.post(
    "/profile/verification/confirm",
    summary="Confirm a one-time code: prove the contact it was sent to",
    openapi_extra=request_body(VerificationConfirm),
    responses=JSON_BODY_PROBLEMS
    | documented_problems(
        {
            422: "The code is wrong, expired or used (the same answer whatever the NIK), or the body is invalid; "
            "`errors` names the field (problem+json).",
            429: "Too many wrong codes for this NIK; see Retry-After. Nothing was checked.",
        }
    ),
)
async def confirm_verification(request: Request) -> VerificationConfirmed:
    """A right code proves the contact it went to: when that is the contact on file, the profile is verified and
    its data may be reused (with the citizen's grants in the consent ledger)."""
    body = await parsed_body(request, VerificationConfirm)
    try:
        await dependencies.profiles(request).confirm(body.verification_id, body.code)
    except LockedOut as locked:
        raise locked_problem(locked, "code") from locked
    except OneTimeCodeRefused as refused:
        raise Problem(
            422,
            "validation-error",
            "The code was not accepted; see `errors`.",
            errors=[{"field": "code", "message": str(refused), "code": "invalid_code"}],
        ) from refused
    return VerificationConfirmed(status="confirmed")


counter_clerk = admitting(CLERK_ROLES, dependencies.profiles, "the officer or operator")


@router.post(
    "/profile/contact-reset",
    summary="Reset the contact on file, at the counter (staff)",
    openapi_extra=request_body(ContactResetCreate),
    responses=JSON_BODY_PROBLEMS
    | documented_problems(
        {
            401: "No valid bearer token.",
            403: "The token is neither an officer's nor an operator's (the refusal is recorded).",
            422: "Invalid body, `ktp_seen` not true, or neither e-mail nor phone; `errors` names the field.",
        }
    ),
)
async def reset_contact(request: Request, clerk: Annotated[Principal, Security(counter_clerk)]) -> ContactResetDone:
    """Replace the contact on file with the one the citizen gives at the counter, after the clerk saw their KTP:
    the profile counts as verified, the reset is recorded in the audit log under the clerk's name, and the old
    contact (if any) and the new one are told. Answers the same whether the NIK had a profile."""
    body = await parsed_body(request, ContactResetCreate)
    contact = Contact.given(body.email, body.phone)
    if contact is None:
        raise Problem(
            422,
            "validation-error",
            "Give the new contact; see `errors`.",
            errors=[{"field": "email", "message": "give an e-mail address or a phone number", "code": "missing"}],
        )
    reset_id = await dependencies.profiles(request).reset_contact(
        body.nik,
        contact,
        language=body.language,
        clerk=clerk.actor(),
        resource=f"{request.method} {request.url.path}",
    )
    return ContactResetDone(reset_id=reset_id, status="reset")
