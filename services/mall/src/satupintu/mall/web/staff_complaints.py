"""The agencies' complaint desk: open complaints by due date, the overdue ones marked, and answering one (its
agency's officers and operators; auditors read every desk)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from satupintu.common.auth import Principal, Role
from satupintu.common.web.csrf import CsrfField
from satupintu.mall.domain import (
    ComplaintClosed,
    ComplaintNotFound,
    ComplaintState,
    ComplaintTakenUp,
    NotYourCounter,
)
from satupintu.mall.factory import MallContext
from satupintu.mall.i18n import Translator
from satupintu.mall.schemas import ComplaintResolve
from satupintu.mall.services.complaints import Complaint
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


def _category(context: MallContext, value: str, language: str) -> str:
    category = context.catalogue.complaint_category(value)
    return category.label.in_language(language) if category else value


def _complaint_row(context: MallContext, record: Complaint, t: Translator) -> dict[str, Any]:
    service = context.catalogue.service(record.service_code) if record.service_code else None
    return {
        "complaint_id": record.complaint_id,
        "reference": record.reference,
        "agency": agency_name(context, record.agency, t.language),
        "category": _category(context, record.category, t.language),
        "tracking_code": record.tracking_code or "",
        "service": service.name.in_language(t.language) if service else "",
        "filed": t.moment(record.filed_at),
        "due": t.moment(record.due_at),
        "open": ComplaintState(record.state).awaits_answer,
        "in_progress": record.state == ComplaintState.IN_PROGRESS,
        "overdue": ComplaintState(record.state).awaits_answer and record.due_at < context.complaints.now(),
    }


@router.get("/complaints")
async def complaint_desk(request: Request) -> Response:
    """Open complaints by due date, the overdue ones marked: an officer's agency's desk; every desk (or one, with
    ``?agency=``) for auditors and operators."""
    found = await staff(request, DESK_ROLES)
    if isinstance(found, Response):
        return found
    principal, context, t = found, page_context(request), translator(request)
    every_desk = bool(principal.roles & {Role.AUDITOR, Role.OPERATOR})
    asked = request.query_params.get("agency") or None
    agency = asked if every_desk and asked and context.catalogue.agency(asked) else None
    records = await context.complaints.listing(
        principal, agency=agency, state=None, overdue=False, awaiting_answer=True
    )
    rows = [_complaint_row(context, record, t) for record in records]
    return render_staff_page(
        request,
        "staff_complaints.html",
        title=t("complaint_desk_title"),
        principal=principal,
        rows=rows,
        summary=t("complaint_desk_summary", open=len(rows), overdue=sum(row["overdue"] for row in rows)),
        every_desk=every_desk,
        agency=agency or "",
        agencies=[(a.code, a.name.in_language(t.language)) for a in context.catalogue.agencies],
    )


async def _complaint_page(
    request: Request,
    principal: Principal,
    complaint_id: str,
    *,
    response: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    context, t = page_context(request), translator(request)
    try:
        record = await context.complaints.get(complaint_id, principal)
    except ComplaintNotFound:
        return render_notice(request, t("complaint_desk_title"), t("complaint_unknown"), 404)
    except NotYourCounter:
        return render_notice(request, t("staff_forbidden_title"), t("complaint_not_yours"), 403)
    row = _complaint_row(context, record, t)
    may_answer = row["open"] and (
        Role.OPERATOR in principal.roles or (Role.OFFICER in principal.roles and principal.agency == record.agency)
    )
    return render_staff_page(
        request,
        "staff_complaint.html",
        title=t("complaint_status_title", reference=record.reference),
        principal=principal,
        status_code=status_code,
        row=row,
        record=record,
        resolved=t("complaint_answered_by", who=record.resolved_by or "", at=t.moment(record.resolved_at)),
        may_answer=may_answer,
        response=response,
        error=error,
    )


@router.get("/complaints/{complaint_id}")
async def complaint_item(request: Request, complaint_id: str) -> Response:
    """One complaint in full, and the form that answers it (for its agency's officers and operators)."""
    found = await staff(request, DESK_ROLES)
    if isinstance(found, Response):
        return found
    return await _complaint_page(request, found, complaint_id)


@router.post("/complaints/{complaint_id}/resolve")
async def resolve(
    request: Request,
    complaint_id: str,
    response: Annotated[str, Form(max_length=4000)] = "",
    csrf_token: CsrfField = "",
) -> Response:
    """Answer and close the complaint; back to the desk, or the complaint again with what to fix."""
    found = await staff_form(request, COUNTER_ROLES, csrf_token, forbidden="complaint_read_only")
    if isinstance(found, Response):
        return found
    context, t = page_context(request), translator(request)
    try:
        answer = ComplaintResolve(response=response).response
    except ValidationError:
        return await _complaint_page(
            request, found, complaint_id, response=response, error=t("complaint_answer_short"), status_code=422
        )
    try:
        record = await context.complaints.resolve(complaint_id, answer, found)
    except (ComplaintNotFound, NotYourCounter):
        return await _complaint_page(request, found, complaint_id)  # says it is unknown, or another agency's
    except ComplaintClosed as closed:
        flash(request, "error", t("complaint_closed_flash", reference=str(closed)))
        return staff_redirect(request, f"/staff/complaints/{complaint_id}")
    flash(request, "ok", t("complaint_answered_flash", reference=record.reference))
    return staff_redirect(request, "/staff/complaints")


@router.post("/complaints/{complaint_id}/take-up")
async def take_up(request: Request, complaint_id: str, csrf_token: CsrfField = "") -> Response:
    """Take the complaint up (in progress; the complainant is told); back to the complaint."""
    found = await staff_form(request, COUNTER_ROLES, csrf_token, forbidden="complaint_read_only")
    if isinstance(found, Response):
        return found
    context, t = page_context(request), translator(request)
    try:
        record = await context.complaints.take_up(complaint_id, found)
    except (ComplaintNotFound, NotYourCounter):
        return await _complaint_page(request, found, complaint_id)  # says it is unknown, or another agency's
    except ComplaintClosed as closed:
        flash(request, "error", t("complaint_closed_flash", reference=str(closed)))
    except ComplaintTakenUp as taken:
        flash(request, "error", t("complaint_taken_up_already_flash", reference=str(taken)))
    else:
        flash(request, "ok", t("complaint_taken_up_flash", reference=record.reference))
    return staff_redirect(request, f"/staff/complaints/{complaint_id}")
