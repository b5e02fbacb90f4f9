"""``/audit/ui``: server-rendered pages for auditors: search the log, and read one application's timeline across
every agency. Auditors sign in through the OpenID Connect provider (``/auth/*``, :mod:`satupintu.common.oidc`): the
browser holds only the session's opaque id, and no token is read from a URL or a header here. ``/audit/ui/login`` is
the page with the sign-in link; every page that shows entries is recorded like an API query, with the signed-in
auditor as the actor.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from satupintu.audit.api import dependencies
from satupintu.audit.api.access import PERSONAL_PARAMETER, PageRefused, page_auditor, requested_resource
from satupintu.audit.domain import AuditRuleError, EventFilters
from satupintu.audit.factory import PAGES
from satupintu.common.auth import Principal, Role
from satupintu.common.oidc.web import safe_path
from satupintu.common.web.pages import page_headers
from satupintu.common.web.templates import render_html

router = APIRouter(prefix=PAGES, include_in_schema=False)
PageAuditor = Annotated[Principal, Depends(page_auditor)]
PAGE_SIZE = 50
FILTER_FIELDS = ("application_id", "agency", "type", "actor", "since", "until", PERSONAL_PARAMETER)


def _page(request: Request, template: str, values: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """A page of audit's templates (``principal``: the auditor signed in, none on the sign-in page; ``csrf_token``:
    what the sign-out form sends)."""
    sign_in = dependencies.context(request).sign_in
    shown = {"principal": None, "csrf_token": sign_in.csrf_token(request), **values}
    # Audit entries stay out of caches, frames and referrers; forms post here, and signing out continues at the
    # provider. The pages carry their style inline.
    policy = sign_in.allowing_sign_out(
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )
    return render_html("satupintu.audit", template, shown, status_code=status_code, headers=page_headers(policy))


def _sign_in_page(request: Request, return_to: str, *, message: str | None = None, status_code: int = 200) -> Response:
    """The page with the link that signs an auditor in through the provider and comes back to ``return_to``."""
    sign_in = dependencies.context(request).sign_in
    values = {
        "message": message,
        "login_url": sign_in.login_url(return_to),
        "signed_out": request.query_params.get("signed_out") == "1",
    }
    return _page(request, "login.html", values, status_code)


def install(app: FastAPI) -> None:
    """Answer a page asked for by nobody signed in with the sign-in page, which comes back to it."""

    @app.exception_handler(PageRefused)
    async def on_refused(request: Request, refused: PageRefused) -> Response:
        asked = f"{request.url.path}?{request.url.query}" if request.url.query else request.url.path
        return _sign_in_page(request, asked, message=refused.message, status_code=refused.status)


def _time(name: str, text: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as malformed:
        raise AuditRuleError(name, f"`{name}` must be a date and time such as 2026-11-03T08:00.") from malformed
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _page_filters(request: Request, form: dict[str, str]) -> EventFilters:
    personal = form.get(PERSONAL_PARAMETER)
    return EventFilters(
        application_id=form.get("application_id") or None,
        agency=form.get("agency") or None,
        type=form.get("type") or None,
        actor=form.get("actor") or None,
        since=_time("since", form.get("since", "")),
        until=_time("until", form.get("until", "")),
        personal_hash=dependencies.queries(request).personal_hash(personal) if personal else None,
    )


@router.get("", response_class=HTMLResponse)
async def search_page(request: Request, principal: PageAuditor) -> Response:
    """The search form and, once a filter is given, the matching entries a page at a time."""
    form = {name: request.query_params.get(name, "").strip() for name in FILTER_FIELDS}
    cursor = request.query_params.get("cursor") or None
    values: dict[str, Any] = {
        "principal": principal.actor(),
        "form": form,
        "entries": None,
        "error": None,
        "next_url": None,
    }
    status = 200
    if any(form.values()):
        try:
            filters = _page_filters(request, form)
            page = await dependencies.queries(request).events(
                principal, filters, cursor, PAGE_SIZE, requested_resource(request)
            )
        except AuditRuleError as refused:
            values["error"], status = refused.message, 422
        else:
            values["entries"] = page.entries
            if page.next_cursor:
                kept = {name: value for name, value in form.items() if value}
                values["next_url"] = f"{request.url.path}?{urlencode({**kept, 'cursor': page.next_cursor})}"
    return _page(request, "search.html", values, status)


@router.get("/applications/{application_id}", response_class=HTMLResponse)
async def timeline_page(application_id: str, request: Request, principal: PageAuditor) -> Response:
    """One application's timeline, one column per agency."""
    entries = await dependencies.queries(request).timeline(principal, application_id, requested_resource(request))
    lanes = ["application", *sorted({entry.agency for entry in entries if entry.agency})]
    return _page(
        request,
        "timeline.html",
        {"principal": principal.actor(), "application_id": application_id, "entries": entries, "lanes": lanes},
    )


@router.get("/login", response_class=HTMLResponse)
async def login(request: Request, next_page: Annotated[str, Query(alias="next")] = PAGES) -> Response:
    """The sign-in page: a link to sign in through the provider, then on to ``next`` (a page of these); with
    ``?signed_out=1``, it says the auditor is signed out. Nothing else in the query is read (no token)."""
    target = safe_path(next_page, PAGES) if next_page.startswith(PAGES) else PAGES
    principal = await dependencies.context(request).sign_in.principal(request)
    if principal is not None and Role.AUDITOR in principal.roles:
        return RedirectResponse(target, status_code=303)
    return _sign_in_page(request, target)
