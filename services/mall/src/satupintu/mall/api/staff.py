"""The staff pages: the counter officer's queue (call the next visitor, served, no-show, link the application
submitted at the counter) and the agencies' complaint desk (open complaints by due date, the overdue ones marked,
answering one). They call the same use cases as the JSON API, with the same roles.

Staff sign in with the bearer token the JSON API takes (from the identity provider, or ``satupintu-token``): the
page session is a signed cookie (Starlette's ``SessionMiddleware``, itsdangerous) that keeps the token, and the token
is verified again on every request, so the session ends when the token expires or its key is withdrawn. Every form
carries the session's CSRF token, sign-in attempts are limited per client address, and nothing changes through GET.
"""

from __future__ import annotations

import hmac
import math
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from satupintu.common.auth import AuthenticationError, KeySetUnavailableError, Principal, Role, TokenVerifier
from satupintu.common.ratelimit import TokenBuckets
from satupintu.mall.api import MallContext
from satupintu.mall.api.limits import client_address
from satupintu.mall.api.pages import agency_name, page_context, page_language, render_notice, render_page
from satupintu.mall.domain import (
    COMPLAINT_CATEGORY_LABELS,
    ComplaintCategory,
    ComplaintClosed,
    ComplaintNotFound,
    ComplaintState,
    NotYourCounter,
    QueueEmpty,
    TicketNotFound,
    TicketStateConflict,
    UnknownService,
)
from satupintu.mall.i18n import Translator
from satupintu.mall.schemas import ComplaintResolve, TicketLink
from satupintu.mall.services.complaints import Complaint

router = APIRouter(prefix="/staff", include_in_schema=False)

SESSION_COOKIE = "mall_staff"
TOKEN_KEY, CSRF_KEY, COUNTER_KEY, FLASH_KEY = "token", "csrf", "counter", "flash"
COUNTER_ROLES = frozenset({Role.OFFICER, Role.OPERATOR})
DESK_ROLES = frozenset({Role.OFFICER, Role.AUDITOR, Role.OPERATOR})
CsrfField = Annotated[str, Form(max_length=100)]


# ----------------------------------------------------------------------------------------------------------------------
# Session, CSRF and rendering


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get(CSRF_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_KEY] = token
    return token


def csrf_valid(request: Request, submitted: str) -> bool:
    """Whether a form's token is the session's."""
    expected = request.session.get(CSRF_KEY)
    return isinstance(expected, str) and bool(submitted) and hmac.compare_digest(expected, submitted)


def _t(request: Request) -> Translator:
    return Translator(page_language(request), page_context(request).settings.timezone)


def _query(request: Request) -> str:
    language = page_language(request)
    return f"?lang={language}" if language != "id" else ""


def _redirect(request: Request, path: str) -> RedirectResponse:
    return RedirectResponse(f"{path}{_query(request)}", status_code=303, headers={"Cache-Control": "no-store"})


def _flash(request: Request, kind: str, text: str) -> None:
    request.session[FLASH_KEY] = {"kind": kind, "text": text}


def _who(context: MallContext, principal: Principal, language: str) -> str:
    if principal.agency:
        return f"{principal.subject} ({agency_name(context, principal.agency, language)})"
    return f"{principal.subject} ({', '.join(sorted(principal.roles))})"


def _render(
    request: Request,
    template: str,
    *,
    title: str,
    principal: Principal | None,
    status_code: int = 200,
    **values: Any,
) -> Response:
    t = _t(request)
    context = page_context(request)
    return render_page(
        request,
        template,
        title=title,
        status_code=status_code,
        csrf_token=csrf_token(request),
        flash=request.session.pop(FLASH_KEY, None),
        principal=principal,
        who=_who(context, principal, t.language) if principal else "",
        can_call=bool(principal and principal.roles & COUNTER_ROLES),
        **values,
    )


def _refused_form(request: Request) -> Response:
    t = _t(request)
    return render_notice(request, t("staff_form_refused_title"), t("staff_form_refused"), 403)


async def signed_in(request: Request) -> Principal | None:
    """The member of staff whose token the session holds, verified now; None (and the session ended) when there is
    none or it is no longer valid. Raises ``KeySetUnavailableError`` when the identity provider cannot be asked."""
    token = request.session.get(TOKEN_KEY)
    if not isinstance(token, str):
        return None
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        return await run_in_threadpool(verifier.verify, token)  # a JWKS look-up may block
    except AuthenticationError:
        request.session.clear()
        return None


async def _staff(
    request: Request, roles: frozenset[Role], forbidden: str = "staff_forbidden_counter"
) -> Principal | Response:
    """The signed-in member of staff holding one of ``roles``; else the sign-in page, or a page saying why not (the
    text ``forbidden``)."""
    t = _t(request)
    try:
        principal = await signed_in(request)
    except KeySetUnavailableError:
        return render_notice(request, t("staff_login_title"), t("staff_keys_unavailable"), 503)
    if principal is None:
        return _redirect(request, "/staff/login")
    if not principal.roles & roles:
        return render_notice(request, t("staff_forbidden_title"), t(forbidden), 403)
    return principal


async def _staff_form(
    request: Request, roles: frozenset[Role], csrf: str, forbidden: str = "staff_forbidden_counter"
) -> Principal | Response:
    """As :func:`_staff`, for a form post: also refused when the form's CSRF token is not this session's."""
    found = await _staff(request, roles, forbidden)
    if isinstance(found, Response):
        return found
    if not csrf_valid(request, csrf):
        return _refused_form(request)
    return found


# ----------------------------------------------------------------------------------------------------------------------
# Signing in and out


@router.get("")
async def staff_home(request: Request) -> Response:
    """The counter for officers and operators, the complaint desk for auditors; the sign-in page before either."""
    found = await _staff(request, DESK_ROLES)
    if isinstance(found, Response):
        return found
    return _redirect(request, "/staff/counter" if found.roles & COUNTER_ROLES else "/staff/complaints")


@router.get("/login")
async def login_page(request: Request) -> Response:
    """The sign-in form (the session cookie it sets carries its CSRF token)."""
    t = _t(request)
    return _render(request, "staff_login.html", title=t("staff_login_title"), principal=None, error=None)


@router.post("/login")
async def login(
    request: Request, token: Annotated[str, Form(max_length=8192)] = "", csrf_token: CsrfField = ""
) -> Response:
    """Check the token; on success start a new session (new CSRF token) holding it."""
    if not csrf_valid(request, csrf_token):
        return _refused_form(request)
    t = _t(request)
    throttle: TokenBuckets = request.app.state.staff_login_throttle
    wait = throttle.take(client_address(request))
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        answer = _render(
            request,
            "staff_login.html",
            title=t("staff_login_title"),
            principal=None,
            error=t("staff_too_many", seconds=seconds),
            status_code=429,
        )
        answer.headers["Retry-After"] = str(seconds)
        return answer
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        principal = await run_in_threadpool(verifier.verify, token.strip())
    except AuthenticationError:
        return _render(
            request,
            "staff_login.html",
            title=t("staff_login_title"),
            principal=None,
            error=t("staff_token_invalid"),
            status_code=401,
        )
    except KeySetUnavailableError:
        return render_notice(request, t("staff_login_title"), t("staff_keys_unavailable"), 503)
    counter = request.session.get(COUNTER_KEY)
    request.session.clear()
    request.session.update({TOKEN_KEY: token.strip(), CSRF_KEY: secrets.token_urlsafe(32)})
    if isinstance(counter, str):
        request.session[COUNTER_KEY] = counter
    return _redirect(request, "/staff/counter" if principal.roles & COUNTER_ROLES else "/staff/complaints")


@router.post("/logout")
async def logout(request: Request, csrf_token: CsrfField = "") -> Response:
    """End the session."""
    if not csrf_valid(request, csrf_token):
        return _refused_form(request)
    request.session.clear()
    return _redirect(request, "/staff/login")


# ----------------------------------------------------------------------------------------------------------------------
# The counter


@router.get("/counter")
async def counter_page(request: Request) -> Response:
    """Today's queue of the services the officer's agency serves (every service for an operator), a button to call
    each one's next visitor to the officer's counter, and the tickets called and not yet finished."""
    found = await _staff(request, COUNTER_ROLES)
    if isinstance(found, Response):
        return found
    principal, context, t = found, page_context(request), _t(request)
    rows = {row.service_code: row for row in await context.board.queue()}
    services = [
        {
            "code": service.code,
            "name": service.name.in_language(t.language),
            "agency": agency_name(context, service.agency, t.language),
            "waiting": row.waiting if row else 0,
            "served": row.served if row else 0,
            "no_show": row.no_show if row else 0,
            "average_wait": row.average_wait_minutes if row else None,
        }
        for service in context.catalogue.services
        if Role.OPERATOR in principal.roles or service.agency == principal.agency
        for row in [rows.get(service.code)]
    ]
    called = [
        {
            "ticket_id": ticket.ticket_id,
            "number": ticket.number,
            "counter": ticket.counter or "",
            "service": service.name.in_language(t.language) if service else ticket.service_code,
            "called_at": t.clock(ticket.called_at),
            "tracking_code": ticket.tracking_code or "",
        }
        for ticket in await context.queue.at_the_counters(principal)
        for service in [context.catalogue.service(ticket.service_code)]
    ]
    counter = request.session.get(COUNTER_KEY)
    return _render(
        request,
        "staff_counter.html",
        title=t("counter_title"),
        principal=principal,
        counter=counter if isinstance(counter, str) else "",
        services=services,
        called=called,
    )


@router.post("/counter/call")
async def call_next(
    request: Request,
    service_code: Annotated[str, Form(max_length=40)] = "",
    counter: Annotated[str, Form(max_length=40)] = "",
    csrf_token: CsrfField = "",
) -> Response:
    """Call the service's longest-waiting visitor to the counter; the counter is remembered for the next call."""
    found = await _staff_form(request, COUNTER_ROLES, csrf_token)
    if isinstance(found, Response):
        return found
    context, t = page_context(request), _t(request)
    counter = counter.strip()
    if not counter:
        _flash(request, "error", t("counter_missing_name"))
        return _redirect(request, "/staff/counter")
    request.session[COUNTER_KEY] = counter
    service = context.catalogue.service(service_code)
    service_name = service.name.in_language(t.language) if service else service_code
    try:
        view = await context.queue.call_next(service_code, counter, found)
    except QueueEmpty:
        _flash(request, "error", t("counter_empty_flash", service=service_name))
    except (NotYourCounter, UnknownService):
        _flash(request, "error", t("counter_not_yours"))
    else:
        _flash(request, "ok", t("counter_called_flash", number=view.ticket.number, counter=counter))
    return _redirect(request, "/staff/counter")


async def _finish(request: Request, ticket_id: str, csrf: str, served: bool) -> Response:
    found = await _staff_form(request, COUNTER_ROLES, csrf)
    if isinstance(found, Response):
        return found
    context, t = page_context(request), _t(request)
    try:
        ticket = await (context.queue.serve if served else context.queue.no_show)(ticket_id, found)
    except TicketNotFound:
        _flash(request, "error", t("counter_unknown_ticket"))
    except NotYourCounter:
        _flash(request, "error", t("counter_not_yours"))
    except TicketStateConflict as conflict:
        _flash(request, "error", t("counter_state_conflict", number=conflict.number))
    else:
        _flash(request, "ok", t("counter_served_flash" if served else "counter_no_show_flash", number=ticket.number))
    return _redirect(request, "/staff/counter")


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
    found = await _staff_form(request, COUNTER_ROLES, csrf_token)
    if isinstance(found, Response):
        return found
    context, t = page_context(request), _t(request)
    try:
        code = TicketLink(tracking_code=tracking_code).tracking_code
    except ValidationError:
        _flash(request, "error", t("counter_bad_tracking"))
        return _redirect(request, "/staff/counter")
    try:
        ticket = await context.queue.link(ticket_id, code, found)
    except TicketNotFound:
        _flash(request, "error", t("counter_unknown_ticket"))
    except NotYourCounter:
        _flash(request, "error", t("counter_not_yours"))
    except TicketStateConflict as conflict:
        _flash(request, "error", t("counter_state_conflict", number=conflict.number))
    else:
        _flash(request, "ok", t("counter_linked_flash", number=ticket.number, code=code))
    return _redirect(request, "/staff/counter")


# ----------------------------------------------------------------------------------------------------------------------
# The complaint desk


def _category(value: str, language: str) -> str:
    labels = COMPLAINT_CATEGORY_LABELS.get(ComplaintCategory(value))
    return (labels[1] if language == "en" else labels[0]) if labels else value


def _complaint_row(context: MallContext, record: Complaint, t: Translator) -> dict[str, Any]:
    service = context.catalogue.service(record.service_code) if record.service_code else None
    return {
        "complaint_id": record.complaint_id,
        "reference": record.reference,
        "agency": agency_name(context, record.agency, t.language),
        "category": _category(record.category, t.language),
        "tracking_code": record.tracking_code or "",
        "service": service.name.in_language(t.language) if service else "",
        "filed": t.moment(record.filed_at),
        "due": t.moment(record.due_at),
        "open": record.state == ComplaintState.OPEN,
        "overdue": record.state == ComplaintState.OPEN and record.due_at < context.complaints.now(),
    }


@router.get("/complaints")
async def complaint_desk(request: Request) -> Response:
    """Open complaints by due date, the overdue ones marked: an officer's agency's desk; every desk (or one, with
    ``?agency=``) for auditors and operators."""
    found = await _staff(request, DESK_ROLES)
    if isinstance(found, Response):
        return found
    principal, context, t = found, page_context(request), _t(request)
    every_desk = bool(principal.roles & {Role.AUDITOR, Role.OPERATOR})
    asked = request.query_params.get("agency") or None
    agency = asked if every_desk and asked and context.catalogue.agency(asked) else None
    records = await context.complaints.listing(principal, agency=agency, state=ComplaintState.OPEN, overdue=False)
    rows = [_complaint_row(context, record, t) for record in records]
    return _render(
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
    context, t = page_context(request), _t(request)
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
    return _render(
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
    found = await _staff(request, DESK_ROLES)
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
    found = await _staff_form(request, COUNTER_ROLES, csrf_token, forbidden="complaint_read_only")
    if isinstance(found, Response):
        return found
    context, t = page_context(request), _t(request)
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
        _flash(request, "error", t("complaint_closed_flash", reference=str(closed)))
        return _redirect(request, f"/staff/complaints/{complaint_id}")
    _flash(request, "ok", t("complaint_answered_flash", reference=record.reference))
    return _redirect(request, "/staff/complaints")
