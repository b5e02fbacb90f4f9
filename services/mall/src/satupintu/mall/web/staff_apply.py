"""The clerk's one screen, its application half (decision 0036): on the counter page, under the ticket being served,
the service's form from the catalogue with the citizen's details and documents; "send the code" has intake send a
one-time code to the contact the citizen gives, and "submit" sends the application with the code the citizen read
out, the ticket named. The mall's server calls intake's ``/counter`` endpoints with the clerk's own access token
(kept, sealed, with their sign-in); intake validates the application as the citizen's and the mall links and serves
the ticket when intake's ``application.submitted`` arrives.

No state is kept between the two steps but the form itself: the page is rendered again with what was typed, the
verification's id and the hashes of the documents already uploaded (the citizen's details never sit in a cookie).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData, UploadFile

from satupintu.common.auth import Principal, Role
from satupintu.common.catalogue import ServiceDefinition
from satupintu.common.catalogue.models import FieldType
from satupintu.mall.domain import TicketNotFound, TicketState
from satupintu.mall.services.counter_intake import IntakeError, IntakeRefused, IntakeUnavailable
from satupintu.mall.web.rendering import page_context, translator
from satupintu.mall.web.staff_counter import render_counter
from satupintu.mall.web.staff_session import (
    COUNTER_ROLES,
    flash,
    sign_in_of,
    staff_form,
    staff_redirect,
)

router = APIRouter(prefix="/staff", include_in_schema=False)
SUBMITTED_KEY = "submitted"
"""The staff session's note of the last submission (ticket number and tracking code), shown once with the receipt."""
APPLICANT_FIELDS = ("nik", "name", "email", "phone")


@dataclass
class Applying:
    """The application being filled in for a ticket's visitor, as the page shows it again."""

    ticket_id: str
    values: dict[str, str] = field(default_factory=dict)
    documents: dict[str, str] = field(default_factory=dict)
    verification_id: str = ""
    code_sent: bool = False
    errors: list[IntakeError] = field(default_factory=list)
    problem: str = ""


def _typed(kind: FieldType, text: str, checked: bool) -> Any:
    """A form value as the JSON intake validates: numbers as numbers when they read as such (else the text, for
    intake to refuse with the field's path, as it would the citizen's), a checkbox as true or false."""
    if kind is FieldType.BOOLEAN:
        return checked
    try:
        if kind is FieldType.INTEGER:
            return int(text)
        if kind is FieldType.NUMBER:
            return float(text)
    except ValueError:
        return text
    return text


def application_body(service: ServiceDefinition, applying: Applying, language: str, ticket_id: str) -> dict[str, Any]:
    """The body of intake's ``POST /counter/applications``: the citizen's application, the code and the ticket."""
    values = applying.values
    applicant = {name: values[name] for name in APPLICANT_FIELDS if values.get(name)}
    data = {
        definition.name: _typed(
            definition.type, values.get(f"field_{definition.name}", ""), bool(values.get(f"field_{definition.name}"))
        )
        for definition in service.fields
        if definition.type is FieldType.BOOLEAN or values.get(f"field_{definition.name}")
    }
    return {
        "service_code": service.code,
        "applicant": {**applicant, "language": language},
        "data": data,
        "documents": [{"name": name, "sha256": sha256} for name, sha256 in applying.documents.items()],
        "consent_reuse": False,
        "contact_code": {"verification_id": applying.verification_id, "code": values.get("code", "")},
        "ticket_id": ticket_id,
    }


def _read(form: FormData, service: ServiceDefinition, ticket_id: str) -> Applying:
    values = {
        name: str(form.get(name) or "").strip()
        for name in (*APPLICANT_FIELDS, "code", "language", *(f"field_{f.name}" for f in service.fields))
    }
    documents = {
        requirement.name: str(form.get(f"sha256_{requirement.name}") or "")
        for requirement in service.documents
        if form.get(f"sha256_{requirement.name}")
    }
    return Applying(ticket_id, values, documents, verification_id=str(form.get("verification_id") or ""))


async def _upload(request: Request, token: str, form: FormData, service: ServiceDefinition, applying: Applying) -> None:
    """Send intake the documents chosen on this post; each one's hash replaces what was uploaded before."""
    intake = page_context(request).counter_intake
    for requirement in service.documents:
        upload = form.get(f"document_{requirement.name}")
        if isinstance(upload, UploadFile) and upload.filename:
            content = await upload.read()
            if content:
                media_type = upload.content_type or "application/octet-stream"
                applying.documents[requirement.name] = await intake.upload(token, upload.filename, content, media_type)


@router.post("/counter/tickets/{ticket_id}/apply")
async def apply_for_visitor(request: Request, ticket_id: str) -> Response:
    """One step of the application for the ticket's visitor: ``step`` ``send-code`` sends the code to the contact
    given, ``submit`` submits the application; the page comes back with what was typed, or, once intake accepted it,
    with the tracking code and the receipt to print."""
    form = await request.form()
    found = await staff_form(request, COUNTER_ROLES, str(form.get("csrf_token") or ""))
    if isinstance(found, Response):
        return found
    context, t = page_context(request), translator(request)
    try:
        ticket = (await context.queue.view(ticket_id)).ticket
    except TicketNotFound:
        flash(request, "error", t("counter_unknown_ticket"))
        return staff_redirect(request, "/staff/counter")
    service = context.catalogue.service(ticket.service_code)
    if service is None or ticket.state != TicketState.CALLED or not _serves(found, ticket.agency):
        flash(request, "error", t("counter_state_conflict", number=ticket.number))
        return staff_redirect(request, "/staff/counter")
    token = await sign_in_of(request).access_token(request)
    if token is None:
        flash(request, "error", t("apply_sign_in_again"))
        return staff_redirect(request, "/staff/counter")
    applying = _read(form, service, ticket_id)
    step = str(form.get("step") or "")
    try:
        await _upload(request, token, form, service, applying)
        if step == "send-code":
            values = applying.values
            applying.verification_id = await context.counter_intake.send_code(
                token,
                nik=values["nik"],
                email=values["email"] or None,
                phone=values["phone"] or None,
                language=values["language"] if values["language"] in {"id", "en"} else "id",
            )
            applying.code_sent = True
        elif step == "submit":
            language = applying.values["language"] if applying.values["language"] in {"id", "en"} else "id"
            submitted = await context.counter_intake.submit(
                token, application_body(service, applying, language, ticket_id)
            )
            request.session[SUBMITTED_KEY] = {"number": ticket.number, "tracking_code": submitted.tracking_code}
            return staff_redirect(request, "/staff/counter")
    except IntakeRefused as refused:
        applying.errors, applying.problem = refused.errors, refused.detail
    except IntakeUnavailable:
        applying.problem = t("apply_intake_unavailable")
    return await render_counter(request, found, applying=applying, status_code=422 if applying.problem else 200)


def _serves(principal: Principal, agency: str) -> bool:
    return Role.OPERATOR in principal.roles or principal.agency == agency
