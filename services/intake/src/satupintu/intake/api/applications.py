"""``/applications``: submitting an application."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response, status
from pydantic import ValidationError

from satupintu.common.lockout import LockedOut, locked_problem
from satupintu.common.problems import Problem, field_path
from satupintu.common.requests import read_json_body
from satupintu.intake.api import dependencies
from satupintu.intake.domain import IdempotencyKeyReused, InvalidApplication, request_fingerprint
from satupintu.intake.schemas import ApplicationAccepted, ApplicationCreate
from satupintu.intake.services import ApplicationService, AtTheCounter

router = APIRouter(tags=["applications"])


_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": ApplicationCreate.model_json_schema(ref_template="#/components/schemas/{model}")
            }
        },
    }
}


@router.post(
    "/applications",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Submit an application for a service of the catalogue",
    openapi_extra=_BODY,
    responses={
        400: {"description": "Malformed JSON or nesting too deep (problem+json)."},
        409: {"description": "The Idempotency-Key was used with another body (problem+json)."},
        413: {"description": "Body too large (problem+json)."},
        415: {"description": "Not application/json (problem+json)."},
        422: {"description": "Invalid fields; `errors` names each field path (problem+json)."},
        429: {
            "description": "Too many requests from this client, or too many wrong one-time codes for this NIK "
            "(`one_time_code`); see Retry-After (problem+json). Nothing was stored."
        },
    },
)
async def submit_application(
    request: Request,
    response: Response,
    service: Annotated[ApplicationService, Depends(dependencies.application_service)],
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", max_length=200, description="Repeat a request safely: same key, same answer."),
    ] = None,
) -> ApplicationAccepted:
    """Validate the application against the service's form and documents, store it, and announce it."""
    return await accept(request, response, service, ApplicationCreate, idempotency_key=idempotency_key)


async def accept(
    request: Request,
    response: Response,
    service: ApplicationService,
    model: type[ApplicationCreate],
    *,
    idempotency_key: str | None,
    counter: Callable[[ApplicationCreate], AtTheCounter] | None = None,
) -> ApplicationAccepted:
    """Read the body as ``model``, submit it (at the counter when ``counter`` says how, from the body), and answer
    as ``POST /applications`` does: the one path of the citizen's and the clerk's submissions."""
    raw, document = await read_json_body(request, dependencies.max_body_bytes(request))
    try:
        body = model.model_validate_json(raw)
    except ValidationError as invalid:
        raise Problem(
            422,
            "validation-error",
            "The application is not valid; see `errors` for each field.",
            errors=[
                {"field": field_path(error["loc"]), "message": error["msg"], "code": error["type"]}
                for error in invalid.errors()
            ],
        ) from invalid
    try:
        submission = await service.submit(
            body,
            idempotency_key=idempotency_key,
            fingerprint=request_fingerprint(document),
            counter=counter(body) if counter else None,
        )
    except InvalidApplication as invalid:
        raise Problem(
            422,
            "validation-error",
            "The application does not meet the service's requirements; see `errors` for each field.",
            errors=[error.as_dict() for error in invalid.errors],
        ) from invalid
    except LockedOut as locked:
        raise locked_problem(locked, "one_time_code") from locked
    except IdempotencyKeyReused as reused:
        raise Problem(
            409,
            "idempotency-key-reused",
            "This Idempotency-Key was already used with a different request body; use a new key for a new request.",
        ) from reused
    if submission.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return submission.accepted
