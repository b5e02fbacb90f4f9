"""Originals collected at the counter: the documents waiting for their holders, a search by number or tracking code,
and the form that records a pickup (officers and operators; auditors read)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from satupintu.common.auth import Principal
from satupintu.common.web.csrf import CsrfField
from satupintu.mall.domain import DocumentAlreadyCollected, DocumentNotAtCounter, DocumentWasRevoked
from satupintu.mall.factory import MallContext
from satupintu.mall.i18n import Translator
from satupintu.mall.schemas import PickupCreate
from satupintu.mall.services.pickups import Pickup, WaitingDocument
from satupintu.mall.web.rendering import agency_name, page_context, render_notice, translator
from satupintu.mall.web.staff_session import (
    COUNTER_ROLES,
    DESK_ROLES,
    flash,
    render_staff_page,
    staff,
    staff_form,
    staff_redirect,
)

router = APIRouter(prefix="/staff", include_in_schema=False)
HOLDER, REPRESENTATIVE = "holder", "representative"


def _row(context: MallContext, document: WaitingDocument, t: Translator) -> dict[str, Any]:
    service = context.catalogue.service(document.service_code)
    return {
        "document_id": document.document_id,
        "number": document.number,
        "tracking_code": document.tracking_code or "",
        "service": service.name.in_language(t.language) if service else document.service_code,
        "agency": agency_name(context, document.agency, t.language),
        "issued": t.moment(document.issued_at),
        "state": document.state,
        "state_label": t(f"pickup_state_{document.state}"),
    }


@router.get("/documents")
async def documents(request: Request) -> Response:
    """The documents waiting for their holders, oldest first; with ``?q=``, the documents with that number or of
    the application with that tracking code, in any state."""
    found = await staff(request, DESK_ROLES)
    if isinstance(found, Response):
        return found
    context, t = page_context(request), translator(request)
    query = (request.query_params.get("q") or "").strip()[:100]
    if query:
        records = await context.pickups.find(number=query) or await context.pickups.find(tracking_code=query)
    else:
        records = await context.pickups.waiting()
    rows = [_row(context, record, t) for record in records]
    return render_staff_page(
        request,
        "staff_documents.html",
        title=t("pickup_title"),
        principal=found,
        rows=rows,
        q=query,
        summary=t("pickup_found", query=query) if query else t("pickup_waiting", count=len(rows)),
    )


async def _document_page(
    request: Request,
    principal: Principal,
    document_id: str,
    *,
    values: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    context, t = page_context(request), translator(request)
    record = next(iter(await context.pickups.find(document_id=document_id)), None)
    if record is None:
        return render_notice(request, t("pickup_title"), t("pickup_unknown"), 404)
    return render_staff_page(
        request,
        "staff_document.html",
        title=t("pickup_document_title", number=record.number),
        principal=principal,
        status_code=status_code,
        row=_row(context, record, t),
        record=record,
        collected=t(
            "pickup_collected_by",
            at=t.moment(record.collected_at),
            clerk=record.handed_over_by or "",
            who=record.collected_by or "",
            as_whom=t("pickup_holder" if record.collected_by_holder else "pickup_representative"),
        ),
        revoked=t("pickup_revoked_at", at=t.moment(record.revoked_at), reason=record.revocation_reason or ""),
        may_record=record.state == "waiting" and bool(principal.roles & COUNTER_ROLES),
        values=values or {"collected_by": "", "as": HOLDER},
        error=error,
    )


@router.get("/documents/{document_id}")
async def document_item(request: Request, document_id: str) -> Response:
    """One document at the counter: waiting (and the pickup form), collected (when, by whom, to whom) or revoked."""
    found = await staff(request, DESK_ROLES)
    if isinstance(found, Response):
        return found
    return await _document_page(request, found, document_id)


@router.post("/documents/{document_id}/pickup")
async def record_pickup(
    request: Request,
    document_id: str,
    collected_by: Annotated[str, Form(max_length=1000)] = "",
    as_whom: Annotated[str, Form(alias="as", max_length=20)] = HOLDER,
    csrf_token: CsrfField = "",
) -> Response:
    """Record the pickup; back to the list with what was done, or the document again with what to fix."""
    found = await staff_form(request, COUNTER_ROLES, csrf_token, forbidden="pickup_read_only")
    if isinstance(found, Response):
        return found
    context, t = page_context(request), translator(request)
    try:
        body = PickupCreate(collected_by=collected_by, collected_by_holder=as_whom != REPRESENTATIVE)
    except ValidationError:
        values = {"collected_by": collected_by, "as": as_whom}
        error = t("pickup_name_missing")
        return await _document_page(request, found, document_id, values=values, error=error, status_code=422)
    try:
        record = await context.pickups.record(
            document_id, Pickup(collected_by=body.collected_by, collected_by_holder=body.collected_by_holder), found
        )
    except DocumentNotAtCounter:
        return await _document_page(request, found, document_id)  # says it is unknown
    except DocumentAlreadyCollected as collected:
        at, clerk = t.moment(collected.collected_at), collected.handed_over_by
        flash(request, "error", t("pickup_already_flash", number=collected.number, at=at, clerk=clerk))
        return staff_redirect(request, f"/staff/documents/{document_id}")
    except DocumentWasRevoked as revoked:
        flash(request, "error", t("pickup_revoked_flash", number=revoked.number))
        return staff_redirect(request, f"/staff/documents/{document_id}")
    flash(request, "ok", t("pickup_recorded_flash", number=record.number, who=record.collected_by or ""))
    return staff_redirect(request, "/staff/documents")
