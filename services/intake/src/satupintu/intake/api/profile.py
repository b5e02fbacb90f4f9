"""``/profile/verification``: a one-time code to the contact on file, so data given before can be reused."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from pydantic import ValidationError

from satupintu.common.problems import Problem, field_path
from satupintu.common.requests import read_json_body
from satupintu.intake.profiles import ProfileService
from satupintu.intake.schemas import VerificationRequest, VerificationSent

router = APIRouter(tags=["profile"])

_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": VerificationRequest.model_json_schema(ref_template="#/components/schemas/{model}")
            }
        },
    }
}


@router.post(
    "/profile/verification",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a one-time code to the contact on file",
    openapi_extra=_BODY,
)
async def request_verification(request: Request) -> VerificationSent:
    """Send a code to the e-mail (or phone) the citizen gave before; the answer shows it masked."""
    raw, _ = await read_json_body(request, request.app.state.settings.max_body_bytes)
    try:
        body = VerificationRequest.model_validate_json(raw)
    except ValidationError as invalid:
        raise Problem(
            422,
            "validation-error",
            "The request is not valid; see `errors` for each field.",
            errors=[{"field": field_path(e["loc"]), "message": e["msg"], "code": e["type"]} for e in invalid.errors()],
        ) from invalid
    profiles: ProfileService = request.app.state.profile_service
    sent = await profiles.send_code(body.nik, body.language)
    return VerificationSent(sent_to=sent.sent_to, channel=sent.channel, expires_at=sent.expires_at)
