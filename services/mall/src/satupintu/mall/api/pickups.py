"""``/documents``: the originals waiting at the counter for their holders, found by number or tracking code, and the
clerk's record of a pickup (``document.collected``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from satupintu.common.auth import Principal, Role, require_roles
from satupintu.mall.api.dependencies import mall
from satupintu.mall.factory import MallContext
from satupintu.mall.schemas import CounterDocumentRead, PickupCreate
from satupintu.mall.services.pickups import Pickup, WaitingDocument

router = APIRouter(prefix="/documents", tags=["pickups"])
Context = Annotated[MallContext, Depends(mall)]
Reader = Annotated[Principal, Depends(require_roles(Role.OFFICER, Role.AUDITOR, Role.OPERATOR))]
Clerk = Annotated[Principal, Depends(require_roles(Role.OFFICER, Role.OPERATOR))]

_PROBLEM: dict[str, object] = {"content": {"application/problem+json": {}}}
PICKUP_PROBLEMS: dict[int | str, dict[str, object]] = {
    404: {
        "description": "No document waits at the counter under that id (unknown, or not collected there).",
        **_PROBLEM,
    },
    409: {
        "description": "Handed over already (`collected_at` and `handed_over_by` say when and by whom), or revoked "
        "by its agency. Nothing was recorded, nothing published.",
        **_PROBLEM,
    },
    422: {"description": "The collector's name is missing or too long (`errors[].field` names it).", **_PROBLEM},
}


def document_read(document: WaitingDocument) -> CounterDocumentRead:
    """What the clerk sees of a document at the counter."""
    return CounterDocumentRead(
        document_id=document.document_id,
        number=document.number,
        application_id=document.application_id,
        tracking_code=document.tracking_code,
        service_code=document.service_code,
        agency=document.agency,
        issued_at=document.issued_at,
        valid_until=document.valid_until,
        state=document.state,
        collected_at=document.collected_at,
        handed_over_by=document.handed_over_by,
        collected_by=document.collected_by,
        collected_by_holder=document.collected_by_holder,
        revoked_at=document.revoked_at,
    )


@router.get("", summary="Documents at the counter: those waiting, or one found by number or tracking code")
async def list_documents(
    _: Reader,
    context: Context,
    number: Annotated[
        str | None, Query(max_length=100, description="The document's number: that document, in any state.")
    ] = None,
    tracking_code: Annotated[
        str | None, Query(max_length=64, description="An application's tracking code: its documents, in any state.")
    ] = None,
    agency: Annotated[
        str | None, Query(max_length=32, description="Only the waiting documents of this agency.")
    ] = None,
) -> list[CounterDocumentRead]:
    """Without `number` or `tracking_code`: the documents waiting for their holders, oldest first. With one: the
    documents it names, waiting, collected or revoked (an empty list: none waits at the counter under it)."""
    if number is not None or tracking_code is not None:
        found = await context.pickups.find(number=number, tracking_code=tracking_code)
    else:
        found = await context.pickups.waiting(agency)
    return [document_read(document) for document in found]


@router.post(
    "/{document_id}/pickup",
    status_code=201,
    summary="Record that the original was handed over",
    responses=PICKUP_PROBLEMS,
)
async def record_pickup(document_id: str, body: PickupCreate, clerk: Clerk, context: Context) -> CounterDocumentRead:
    """The signed-in clerk hands the original over to the holder or their representative: `document.collected`
    is published once, with the clerk as `handed_over_by`; a second attempt is refused (409)."""
    document = await context.pickups.record(
        document_id, Pickup(collected_by=body.collected_by, collected_by_holder=body.collected_by_holder), clerk
    )
    return document_read(document)
