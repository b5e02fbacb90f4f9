"""``/issued-documents``: the documents your agency issued, and revoking one (its public verification page says
revoked at once). Another agency's document is answered 404, as if it did not exist."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from satupintu.agency.api.dependencies import desk_service, problem_of
from satupintu.agency.api.refusals import officer_to
from satupintu.agency.domain import DeskError
from satupintu.agency.schemas import IssuedDocumentRead, RevocationCreate
from satupintu.agency.services import DeskService
from satupintu.common.auth import Principal
from satupintu.common.problems import PROBLEM_MEDIA_TYPE

router = APIRouter(prefix="/issued-documents", tags=["issued documents"])

Lister = Annotated[Principal, Depends(officer_to("list"))]
Revoker = Annotated[Principal, Depends(officer_to("revoke"))]
Desk = Annotated[DeskService, Depends(desk_service)]


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_MEDIA_TYPE: {}}}


_AUTH: dict[int | str, dict[str, Any]] = {
    401: _problem("No valid bearer token."),
    403: _problem("The token is not an officer's (the refusal is recorded)."),
}


@router.get("", summary="The documents your agency issued, newest first", responses=_AUTH)
async def list_issued(officer: Lister, desk: Desk) -> list[IssuedDocumentRead]:
    """Your agency's latest 100 issued documents, with their numbers, dates and revocation."""
    return [IssuedDocumentRead.of(view) for view in await desk.issued_documents(officer)]


@router.post(
    "/{document_id}/revocation",
    summary="Revoke a document your agency issued",
    responses={
        **_AUTH,
        404: _problem("Your agency issued no such document (also for another agency's; the attempt is recorded)."),
        409: _problem("The document was already revoked."),
        422: _problem("No reason, or a reason over 1000 characters (`errors` names the field)."),
    },
)
async def revoke_issued(document_id: str, body: RevocationCreate, officer: Revoker, desk: Desk) -> IssuedDocumentRead:
    """Publish `document.revoked` with the reason: the public verification page shows "revoked" and the reason from
    now on. A document is revoked once."""
    try:
        return IssuedDocumentRead.of(await desk.revoke(officer, document_id, body.reason))
    except DeskError as error:
        raise problem_of(error) from error
