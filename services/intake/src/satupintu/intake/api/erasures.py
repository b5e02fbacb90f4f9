"""``/operator/erasures``: an operator erases a citizen's personal data on their request (UU PDP; decision 0019).
Data under a retention duty is refused with the rule named (409) and erased by the retention schedule when the duty
ends."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Security

from satupintu.common.auth import Principal, Role
from satupintu.common.problems import Problem, documented_problems
from satupintu.intake.api import dependencies
from satupintu.intake.api.profile import parsed_body, request_body
from satupintu.intake.api.staff import admitting
from satupintu.intake.erasure import ErasureDeferred, NothingToErase
from satupintu.intake.schemas import ErasureCreate, ErasureDone

router = APIRouter(tags=["erasure"])


operator = admitting(frozenset({Role.OPERATOR}), dependencies.erasures, "the operator")


@router.post(
    "/operator/erasures",
    summary="Erase a citizen's personal data on their request (operators)",
    openapi_extra=request_body(ErasureCreate),
    responses=documented_problems(
        {
            401: "No valid bearer token.",
            403: "The token is not an operator's (the refusal is recorded).",
            404: "Intake holds no personal data of this NIK (none was given, or it was erased already).",
            409: "A retention duty holds the data (`type` `.../retention-duty`): `detail` names the rule, `rule` "
            "repeats it, `erase_after` says from when it may be erased (null: once the open application closes), "
            "`erasure_id` names the request, which is kept and carried out then. Nothing was erased.",
            422: "Invalid NIK or reference; `errors` names the field.",
        }
    ),
)
async def erase(request: Request, by: Annotated[Principal, Security(operator)]) -> ErasureDone:
    """Destroy the citizen's key (a tombstone on every key topic it went to: each reader deletes its copy and what
    only it opened), empty intake's copies of their personal data and delete their documents; audited. Their
    sealed values anywhere then stay unreadable, and the audit log still verifies."""
    body = await parsed_body(request, ErasureCreate)
    try:
        erased = await dependencies.erasures(request).request(body.nik, body.reference, by.actor())
    except NothingToErase as nothing:
        raise Problem(404, "no-personal-data", "Intake holds no personal data of this NIK.") from nothing
    except ErasureDeferred as deferred:
        until = deferred.duty.until
        raise Problem(
            409,
            "retention-duty",
            f"Not erased yet: {deferred.duty.rule}. The request is kept and carried out when the duty ends.",
            extensions={
                "rule": deferred.duty.rule,
                "erase_after": until.isoformat() if until else None,
                "erasure_id": deferred.erasure_id,
            },
        ) from deferred
    return ErasureDone(
        erasure_id=erased.erasure_id,
        status="erased",
        erased_at=erased.erased_at,
        applications=erased.applications,
        readers=list(erased.readers),
        documents=erased.documents,
    )
