"""A citizen's complaint: the form (about an application, or an agency), and the complaint's status page with the
desk's answer once given."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from satupintu.common.web.uploads import read_text_form
from satupintu.mall.api.limits import WriteGroup, limit
from satupintu.mall.domain import ApplicationNotKnown, ComplaintNotFound, UnknownAgency, UnknownComplaintCategory
from satupintu.mall.schemas import ComplaintCreate
from satupintu.mall.services.complaints import NewComplaint
from satupintu.mall.web.rendering import agency_name, page_context, render_notice, render_page, see_other, translator

router = APIRouter(tags=["pages"], include_in_schema=False)


def _complaint_form(
    request: Request, values: dict[str, str], errors: dict[str, str], status_code: int = 200
) -> HTMLResponse:
    context = page_context(request)
    t = translator(request)
    agencies = [(agency.code, agency.name.in_language(t.language)) for agency in context.catalogue.agencies]
    categories = [
        (
            category.code,
            t(
                "complaint_category_day" if category.sla_working_days == 1 else "complaint_category_days",
                label=category.label.in_language(t.language),
                days=category.sla_working_days,
            ),
        )
        for category in context.catalogue.complaint_categories
    ]
    return render_page(
        request,
        "complaint.html",
        title=t("complaint_title"),
        status_code=status_code,
        lead=t("complaint_lead"),
        values=values,
        field_errors=errors,
        errors=[(f"#field-{name}", message) for name, message in errors.items()],
        agencies=agencies,
        categories=categories,
    )


@router.get("/complaint")
async def complaint_page(request: Request) -> HTMLResponse:
    """The complaint form (``?tracking_code=`` fills in the application)."""
    return _complaint_form(request, {"tracking_code": request.query_params.get("tracking_code", "")}, {})


@router.post("/complaint", dependencies=[Depends(limit(WriteGroup.CITIZEN, page=True))])
async def submit_complaint(request: Request) -> Response:
    """File the complaint and show its status page, or the form again with its errors."""
    form = await read_text_form(request)
    values = {
        name: str(form.get(name) or "").strip()
        for name in ("tracking_code", "agency", "category", "description", "contact")
    }
    payload = {name: value for name, value in values.items() if value}
    errors: dict[str, str] = {}
    body: ComplaintCreate | None = None
    try:
        body = ComplaintCreate.model_validate(payload)
    except ValidationError as invalid:
        for error in invalid.errors():
            name = str(error["loc"][0]) if error["loc"] else "description"
            errors.setdefault(name, str(error["msg"]).removeprefix("Value error, "))
    if body is not None:
        try:
            record = await page_context(request).complaints.file(
                NewComplaint(
                    category=body.category,
                    description=body.description,
                    tracking_code=body.tracking_code,
                    agency=body.agency,
                    contact=body.contact,
                    language="en" if translator(request).language == "en" else "id",
                )
            )
        except ApplicationNotKnown:
            errors["tracking_code"] = translator(request)("complaint_tracking_unknown")
        except UnknownAgency:
            errors["agency"] = translator(request)("complaint_agency_missing")
        except UnknownComplaintCategory:
            errors["category"] = translator(request)("complaint_category_unknown")
        else:
            return see_other(request, f"/complaint/{record.complaint_id}")
    return _complaint_form(request, values, errors, status_code=422)


@router.get("/complaint/{complaint_id}")
async def complaint_status_page(complaint_id: str, request: Request) -> HTMLResponse:
    """Where the complaint is, and the desk's answer once given."""
    context = page_context(request)
    t = translator(request)
    try:
        record = await context.complaints.status(complaint_id)
    except ComplaintNotFound:
        return render_notice(request, t("complaint_title"), t("complaint_unknown"), 404)
    return render_page(
        request,
        "complaint_status.html",
        title=t("complaint_status_title", reference=record.reference),
        record=record,
        agency_name=agency_name(context, record.agency, t.language),
        due=t.moment(record.due_at),
        resolved=t.moment(record.resolved_at),
    )
