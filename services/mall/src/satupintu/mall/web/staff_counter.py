"""The counter officer's queue page, the clerk's one screen: call the next visitor of a service the officer's agency
serves, apply for them on the same page (:mod:`satupintu.mall.web.staff_apply`), mark the called one served or a
no-show, and link the ticket by hand to an application submitted otherwise."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from satupintu.common.auth import Principal, Role
from satupintu.common.catalogue import ServiceDefinition
from satupintu.common.web.csrf import CsrfField
from satupintu.mall.domain import NotYourCounter, QueueEmpty, TicketNotFound, TicketStateConflict, UnknownService
from satupintu.mall.schemas import TicketLink
from satupintu.mall.web.rendering import agency_name, page_context, translator
from satupintu.mall.web.staff_session import (
    COUNTER_KEY,
    COUNTER_ROLES,
    flash,
    render_staff_page,
    staff,
    staff_form,
    staff_redirect,
)

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("/counter")
async def counter_page(request: Request) -> Response:
    """Today's queue of the services the officer's agency serves (every service for an operator), a button to call
    each one's next visitor to the officer's counter, and the tickets called and not yet finished, each at the
    officer's counter with the form to apply for its visitor (decision 0036)."""
    found = await staff(request, COUNTER_ROLES)
    if isinstance(found, Response):
        return found
    return await render_counter(request, found)


async def render_counter(
    request: Request, principal: Principal, *, applying: Any = None, status_code: int = 200
) -> Response:
    """The counter page; ``applying`` (a :class:`~satupintu.mall.web.staff_apply.Applying`) is the application
    being filled in for one ticket's visitor, shown again with what was typed and what intake said."""
    context, t = page_context(request), translator(request)
    rows = {row.service_code: row for row in await context.board.queue()}
    services = [
        {
            "code": service.code,
            "name": service.name.in_language(t.language),
            "agency": agency_name(context, service.agency, t.language),
            "waiting": row.waiting if row else 0,
            "priority_waiting": row.priority_waiting if row else 0,
            "served": row.served if row else 0,
            "no_show": row.no_show if row else 0,
            "average_wait": row.average_wait_minutes if row else None,
        }
        for service in context.catalogue.services
        if Role.OPERATOR in principal.roles or service.agency == principal.agency
        for row in [rows.get(service.code)]
    ]
    counter = request.session.get(COUNTER_KEY)
    counter = counter if isinstance(counter, str) else ""
    submitted = request.session.pop("submitted", None)
    just_submitted = submitted.get("number") if isinstance(submitted, dict) else None
    called = [
        {
            "ticket_id": ticket.ticket_id,
            "number": ticket.number,
            "counter": ticket.counter or "",
            "service": service.name.in_language(t.language) if service else ticket.service_code,
            "called_at": t.clock(ticket.called_at),
            "tracking_code": ticket.tracking_code or "",
            "form": _form(
                service, t.language, applying if applying and applying.ticket_id == ticket.ticket_id else None
            )
            if service and ticket.counter == counter and ticket.number != just_submitted
            else None,
        }
        for ticket in await context.queue.at_the_counters(principal)
        for service in [context.catalogue.service(ticket.service_code)]
    ]
    return render_staff_page(
        request,
        "staff_counter.html",
        title=t("counter_title"),
        principal=principal,
        status_code=status_code,
        counter=counter,
        services=services,
        called=called,
        submitted=submitted,
    )


_INPUT_TYPES = {"integer": "number", "number": "number", "date": "date", "boolean": "checkbox"}


def _form(service: ServiceDefinition, language: str, applying: Any) -> dict[str, Any]:
    """What the page needs to render the service's form for a visitor: its fields and documents from the catalogue,
    with the values typed so far and intake's refusals by field path."""
    values: dict[str, str] = applying.values if applying else {}
    errors: list[Any] = applying.errors if applying else []
    by_path = {error.field: error.message for error in errors}
    return {
        "fields": [
            {
                "name": f"field_{definition.name}",
                "label": definition.label.in_language(language),
                "input": _INPUT_TYPES.get(definition.type.value, "select" if definition.enum else "text"),
                "step": "any" if definition.type.value == "number" else "1",
                "options": list(definition.enum or ()),
                "required": definition.required and definition.type.value != "boolean",
                "max_length": definition.max_length,
                "value": values.get(f"field_{definition.name}", ""),
                "error": by_path.get(f"data/{definition.name}", ""),
            }
            for definition in service.fields
        ],
        "documents": [
            {
                "name": requirement.name,
                "label": requirement.label.in_language(language),
                "accept": ",".join(requirement.media_types),
                "required": requirement.required,
                "sha256": applying.documents.get(requirement.name, "") if applying else "",
            }
            for requirement in service.documents
        ],
        "values": values,
        "verification_id": applying.verification_id if applying else "",
        "code_sent": bool(applying and applying.code_sent),
        "problem": applying.problem if applying else "",
        "errors": errors,
        "by_path": by_path,
    }


@router.post("/counter/call")
async def call_next(
    request: Request,
    service_code: Annotated[str, Form(max_length=40)] = "",
    counter: Annotated[str, Form(max_length=40)] = "",
    csrf_token: CsrfField = "",
) -> Response:
    """Call the service's longest-waiting visitor to the counter; the counter is remembered for the next call."""
    found = await staff_form(request, COUNTER_ROLES, csrf_token)
    if isinstance(found, Response):
        return found
    context, t = page_context(request), translator(request)
    counter = counter.strip()
    if not counter:
        flash(request, "error", t("counter_missing_name"))
        return staff_redirect(request, "/staff/counter")
    request.session[COUNTER_KEY] = counter
    service = context.catalogue.service(service_code)
    service_name = service.name.in_language(t.language) if service else service_code
    try:
        view = await context.queue.call_next(service_code, counter, found)
    except QueueEmpty:
        flash(request, "error", t("counter_empty_flash", service=service_name))
    except (NotYourCounter, UnknownService):
        flash(request, "error", t("counter_not_yours"))
    else:
        flash(request, "ok", t("counter_called_flash", number=view.ticket.number, counter=counter))
    return staff_redirect(request, "/staff/counter")


@router.post("/counter/priority")
async def give_priority(
    request: Request, number: Annotated[str, Form(max_length=40)] = "", csrf_token: CsrfField = ""
) -> Response:
    """Give the waiting ticket ``number`` priority: the visitor in front of the clerk is elderly, disabled,
    pregnant or with a small child."""
    found = await staff_form(request, COUNTER_ROLES, csrf_token)
    if isinstance(found, Response):
        return found
    context, t = page_context(request), translator(request)
    try:
        ticket = await context.queue.mark_priority((await context.queue.ticket_numbered(number)).ticket_id, found)
    except TicketNotFound:
        flash(request, "error", t("counter_unknown_ticket"))
    except NotYourCounter:
        flash(request, "error", t("counter_not_yours"))
    except TicketStateConflict as conflict:
        flash(request, "error", t("counter_priority_not_waiting", number=conflict.number))
    else:
        flash(request, "ok", t("counter_priority_flash", number=ticket.number))
    return staff_redirect(request, "/staff/counter")


async def _finish(request: Request, ticket_id: str, csrf: str, served: bool) -> Response:
    found = await staff_form(request, COUNTER_ROLES, csrf)
    if isinstance(found, Response):
        return found
    context, t = page_context(request), translator(request)
    try:
        ticket = await (context.queue.serve if served else context.queue.no_show)(ticket_id, found)
    except TicketNotFound:
        flash(request, "error", t("counter_unknown_ticket"))
    except NotYourCounter:
        flash(request, "error", t("counter_not_yours"))
    except TicketStateConflict as conflict:
        flash(request, "error", t("counter_state_conflict", number=conflict.number))
    else:
        flash(request, "ok", t("counter_served_flash" if served else "counter_no_show_flash", number=ticket.number))
    return staff_redirect(request, "/staff/counter")


@router.post("/counter/tickets/{ticket_id}/served")
async def served(request: Request, ticket_id: str, csrf_token: CsrfField = "") -> Response:
    """The called visitor was served."""
    return await _finish(request, ticket_id, csrf_token, served=True)


@router.post("/counter/tickets/{ticket_id}/no-show")
async def no_show(request: Request, ticket_id: str, csrf_token: CsrfField = "") -> Response:
    """The called visitor did not come."""
    return await _finish(request, ticket_id, csrf_token, served=False)


@router.post("/counter/tickets/{ticket_id}/link")
async def link(
    request: Request,
    ticket_id: str,
    tracking_code: Annotated[str, Form(max_length=64)] = "",
    csrf_token: CsrfField = "",
) -> Response:
    """Link the ticket to the application submitted at the counter, for the visitor to follow from the ticket."""
    found = await staff_form(request, COUNTER_ROLES, csrf_token)
    if isinstance(found, Response):
        return found
    context, t = page_context(request), translator(request)
    try:
        code = TicketLink(tracking_code=tracking_code).tracking_code
    except ValidationError:
        flash(request, "error", t("counter_bad_tracking"))
        return staff_redirect(request, "/staff/counter")
    try:
        ticket = await context.queue.link(ticket_id, code, found)
    except TicketNotFound:
        flash(request, "error", t("counter_unknown_ticket"))
    except NotYourCounter:
        flash(request, "error", t("counter_not_yours"))
    except TicketStateConflict as conflict:
        flash(request, "error", t("counter_state_conflict", number=conflict.number))
    else:
        flash(request, "ok", t("counter_linked_flash", number=ticket.number, code=code))
    return staff_redirect(request, "/staff/counter")
