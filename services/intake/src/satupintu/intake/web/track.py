"""Following an application: enter a tracking code, see the application's state, each agency's task and due date,
the outputs or the rejection reason, the documents issued for it (downloaded with the applicant's NIK) and their
collection at the counter, and what happened, in the citizen's language."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from satupintu.common.catalogue import Catalogue, ServiceDefinition
from satupintu.common.lockout import LockedOut
from satupintu.common.money import rupiah
from satupintu.common.web.uploads import read_text_form
from satupintu.intake.api.dependencies import context
from satupintu.intake.api.tracking import pdf_response
from satupintu.intake.domain import ApplicationNotFound, DocumentUnavailable
from satupintu.intake.i18n import Translator
from satupintu.intake.schemas import ApplicationStatus, BillStatus, TaskStatus
from satupintu.intake.web.fields import FormField, SummaryItem
from satupintu.intake.web.forms import compact
from satupintu.intake.web.rendering import agency_name, page, redirect, translator

router = APIRouter(tags=["pages"], include_in_schema=False)


def _normalized(tracking_code: str) -> str:
    return tracking_code.strip().upper()


async def application_status(request: Request, tracking_code: str) -> ApplicationStatus | None:
    """The status of the application ``tracking_code`` names (as typed: any case, spaces around); None if none."""
    try:
        return await context(request).tracking.status(_normalized(tracking_code))
    except ApplicationNotFound:
        return None


def unknown_code(request: Request, tracking_code: str) -> HTMLResponse:
    """The 404 notice for a tracking code no application has, linking to the tracking form."""
    t = translator(request)
    return page(
        request,
        "notice.html",
        title=t("unknown_code_title"),
        status_code=404,
        body=t("unknown_code_body", code=tracking_code),
        links=[("/track", t("track_title"))],
    )


@router.get("/track/{tracking_code}/confirmation")
async def confirmation(tracking_code: str, request: Request) -> HTMLResponse:
    """The tracking code of the application just sent, in large type, and where to follow it."""
    t = translator(request)
    status = await application_status(request, tracking_code)
    if status is None:
        return unknown_code(request, tracking_code)
    service = context(request).catalogue.service(status.service_code)
    return page(
        request,
        "confirmation.html",
        title=t("confirmation_title"),
        tracking_code=status.tracking_code,
        next_steps=t(
            "confirmation_next_body",
            service=service.name.in_language(t.language) if service else status.service_code,
            days=service.sla_working_days if service else "",
        ),
    )


@router.get("/track")
async def track(request: Request, code: str | None = None) -> Response:
    """Enter a tracking code; a known one leads to its status page."""
    t = translator(request)
    tracking_field = FormField(
        "code",
        t("track_code_label"),
        hint=t("track_code_hint"),
        value=code or "",
        autocomplete="off",
        spellcheck=False,
    )
    if code is None:
        return page(request, "track.html", title=t("track_title"), field=tracking_field)
    if not code.strip():
        tracking_field.error, status_code = t("error.tracking_code"), 422
    elif await application_status(request, code) is None:
        tracking_field.error, status_code = t("error.unknown_code"), 404
    else:
        return redirect(request, f"/track/{_normalized(code)}")
    return page(
        request,
        "track.html",
        title=t("track_title"),
        status_code=status_code,
        summary=[SummaryItem(tracking_field.error, f"#{tracking_field.id}")],
        field=tracking_field,
    )


def _applicant(status: ApplicationStatus, t: Translator) -> str:
    """Who applied, masked: the person, or the business and who represents it."""
    person = f"{status.applicant_initials} ({status.applicant_nik})"
    if status.business_name is None:
        return person
    return t("status_represented_by", business=status.business_name, representative=person)


def _action(service: ServiceDefinition | None, task: TaskStatus, language: str) -> str:
    if service is None or task.stage_index >= len(service.stages):
        return ""
    stage = service.stages[task.stage_index]
    return next((item.action.in_language(language) for item in stage.tasks if item.agency == task.agency), "")


def _timeline(status: ApplicationStatus, catalogue: Catalogue, t: Translator) -> list[dict[str, Any]]:
    """What happened, newest first, each said in the citizen's language."""
    entries: list[dict[str, Any]] = [
        {"at": t.moment(status.submitted_at), "text": t("event.application.submitted"), "lines": []}
    ]
    for item in status.timeline:
        detail = item.detail
        agency = agency_name(catalogue, item.agency, t.language)
        key = f"event.{item.kind}"
        lines: list[str] = []
        match item.kind:
            case "application.stage_started":
                names = [agency_name(catalogue, code, t.language) for code in detail.get("agencies", [])]
                text = t(
                    key,
                    number=int(detail.get("stage_index", 0)) + 1,
                    count=status.stage_count or "?",
                    agencies=", ".join(names),
                )
            case "application.task_updated":
                text = t(key, agency=agency, state=t.task_state(str(detail.get("state", ""))))
            case "application.information_requested":
                text, lines = t(key, agency=agency), [str(question) for question in detail.get("questions", [])]
            case "application.rejected":
                text = t(key, agency=agency)
                lines = [str(detail["reason"])] if detail.get("reason") else []
            case _ if t.has(key):
                text = t(key, agency=agency)
            case _:
                text = t("event.unknown")
        entries.append({"at": t.moment(item.at), "text": text, "lines": lines})
    return entries[::-1]


def _outputs(outputs: Mapping[str, Any], catalogue: Catalogue, language: str) -> list[dict[str, Any]]:
    shown: list[dict[str, Any]] = []
    for agency, produced in outputs.items():
        items = produced.items() if isinstance(produced, Mapping) else [("", produced)]
        shown.append(
            {
                "agency": agency_name(catalogue, agency, language),
                "items": [(str(key).replace("_", " ").capitalize(), str(value)) for key, value in items],
            }
        )
    return shown


@router.get("/track/{tracking_code}")
async def statuspage(tracking_code: str, request: Request, answered: str | None = None) -> HTMLResponse:
    """The application's state, each agency's task and due date, outputs or the rejection reason, and its history."""
    status = await application_status(request, tracking_code)
    if status is None:
        return unknown_code(request, tracking_code)
    return status_page(request, status, answered=answered is not None)


@router.post("/track/{tracking_code}/documents/{document_id}")
async def download(tracking_code: str, document_id: str, request: Request) -> Response:
    """An issued document's signed PDF, for the applicant's NIK typed on the status page; anything else is one
    "not found" page (a wrong NIK counting against the tracking code, as when answering an agency)."""
    t = translator(request)
    nik = compact((await read_text_form(request)).get("nik", ""))
    back = [(f"/track/{_normalized(tracking_code)}", t("back_to_status"))]
    try:
        if not nik:
            raise DocumentUnavailable(document_id)
        found = await context(request).downloads.by_tracking_code(
            _normalized(tracking_code), nik, document_id, "POST /track/{tracking_code}/documents/{document_id}"
        )
    except DocumentUnavailable:
        return page(
            request,
            "notice.html",
            title=t("download_refused_title"),
            status_code=404,
            body=t("download_refused_body"),
            links=back,
        )
    except LockedOut as locked:
        refused = page(
            request,
            "notice.html",
            title=t("download_refused_title"),
            status_code=429,
            body=t("error.locked", seconds=locked.retry_after_seconds),
            links=back,
        )
        refused.headers["Retry-After"] = str(locked.retry_after_seconds)
        return refused
    return pdf_response(found)


def _documents(
    status: ApplicationStatus, t: Translator, download_url: Callable[[str], str] | None
) -> list[dict[str, Any]]:
    """The documents issued for the application, as the page shows them; ``download_url`` gives a signed-in
    citizen's link to each PDF (None: the tracking page, where the applicant's NIK opens it)."""
    shown: list[dict[str, Any]] = []
    for document in status.documents:
        collection = ""
        if document.collected is not None:
            holder = "holder" if document.collected.by_holder else "representative"
            collection = t(f"document_collected_by_{holder}", date=t.date(document.collected.collected_at))
        elif document.collect_at_counter:
            collection = t("document_ready_for_collection")
        shown.append(
            {
                "id": document.document_id,
                "title": document.title.get(t.language) or document.title.get("id", ""),
                "number": document.number,
                "issued_at": t.date(document.issued_at),
                "valid_until": t.date(document.valid_until) if document.valid_until else t("document_no_expiry"),
                "state": document.status,
                "state_label": t(f"document_state.{document.status}"),
                "collection": collection,
                "download_url": download_url(document.document_id) if download_url else None,
            }
        )
    return shown


def _bill(bill: BillStatus | None, t: Translator) -> dict[str, Any] | None:
    """The application's fee as the page shows it: what, to whom, the billing code and deadline, and the QRIS code
    while it is to pay; the payment's date and reference once paid; when it expired or was withdrawn."""
    if bill is None:
        return None
    amount = rupiah(bill.amount, t.language)
    return {
        "state": bill.status,
        "state_label": t(f"bill_state.{bill.status}"),
        "amount": amount,
        "kind": t(f"bill_kind.{bill.kind}"),
        "agency": bill.agency_name.get(t.language) or bill.agency_name.get("id", bill.agency),
        "billing_code": bill.billing_code,
        "expires_at": t.moment(bill.expires_at),
        "waits": t("bill_waits_first" if bill.pay_before_stage == 0 else "bill_waits_issuing"),
        "qris_png": bill.qris_png,
        "qris_alt": t("bill_qris_alt", amount=amount, code=bill.billing_code),
        "paid_at": t.moment(bill.paid_at) if bill.paid_at else "",
        "channel": t(f"bill_channel.{bill.channel}") if bill.channel else "",
        "reference": bill.reference or "",
        "ended_at": t.moment(bill.ended_at) if bill.ended_at else "",
    }


def status_page(
    request: Request,
    status: ApplicationStatus,
    *,
    answered: bool = False,
    download_url: Callable[[str], str] | None = None,
) -> HTMLResponse:
    """The status page of ``status``: the tracking page, and a signed-in citizen's own application (whose documents
    ``download_url`` links to)."""
    t = translator(request)
    catalogue = context(request).catalogue
    service = catalogue.service(status.service_code)
    tasks = [
        {
            "agency": agency_name(catalogue, task.agency, t.language),
            "action": _action(service, task, t.language),
            "stage": t("status_stage", number=task.stage_index + 1, count=status.stage_count or "?"),
            "state": task.state,
            "state_label": t.task_state(task.state),
            "due": t.date(task.due_at) if task.due_at else "",
            "questions": task.questions,
        }
        for task in status.tasks
    ]
    return page(
        request,
        "status.html",
        title=t("status_title"),
        answered=answered,
        application={
            "tracking_code": status.tracking_code,
            "service": status.service_name.get(t.language) or status.service_name.get("id", status.service_code),
            "state": status.status,
            "state_label": t.application_state(status.status),
            "applicant": _applicant(status, t),
            "submitted_at": t.moment(status.submitted_at),
            "updated_at": t.moment(status.updated_at),
            "due_at": t.date(status.due_at) if status.due_at else "",
            "sla_breached": status.sla_breached,
            "reason": status.reason,
        },
        tasks=tasks,
        asked=any(task.questions for task in status.tasks),
        outputs=_outputs(status.outputs, catalogue, t.language) if status.status == "completed" else [],
        documents=_documents(status, t, download_url),
        bill=_bill(status.bill, t),
        timeline=_timeline(status, catalogue, t),
    )
