"""``/audit/ui``: server-rendered pages for auditors: search the log, and read one application's timeline across
every agency. Signing in: ``/audit/ui/login?token=<an auditor's token>`` keeps the token in an HttpOnly cookie for
the pages (a bearer header works too); every page that shows entries is recorded like an API query.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from satupintu.audit.api import dependencies
from satupintu.audit.api.access import (
    PERSONAL_PARAMETER,
    TOKEN_COOKIE,
    PageRefused,
    authorise,
    page_auditor,
    requested_resource,
)
from satupintu.audit.domain import AuditRuleError, EventFilters
from satupintu.common.auth import Principal
from satupintu.common.web.templates import render_html

router = APIRouter(prefix="/audit/ui", include_in_schema=False)
PageAuditor = Annotated[Principal, Depends(page_auditor)]
PAGE_SIZE = 50
FILTER_FIELDS = ("application_id", "agency", "type", "actor", "since", "until", PERSONAL_PARAMETER)


def _page(template: str, values: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """A page of audit's templates (``principal``: the auditor signed in, none on the sign-in form)."""
    return render_html("satupintu.audit", template, {"principal": None, **values}, status_code=status_code)


def install(app: FastAPI) -> None:
    """Answer a page asked for without an auditor's token with the sign-in form."""

    @app.exception_handler(PageRefused)
    async def on_refused(request: Request, refused: PageRefused) -> Response:
        return _page("login.html", {"message": refused.message, "next": request.url.path}, refused.status)


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
    return _page("search.html", values, status)


@router.get("/applications/{application_id}", response_class=HTMLResponse)
async def timeline_page(application_id: str, request: Request, principal: PageAuditor) -> Response:
    """One application's timeline, one column per agency."""
    entries = await dependencies.queries(request).timeline(principal, application_id, requested_resource(request))
    lanes = ["application", *sorted({entry.agency for entry in entries if entry.agency})]
    return _page(
        "timeline.html",
        {"principal": principal.actor(), "application_id": application_id, "entries": entries, "lanes": lanes},
    )


@router.get("/login", response_class=HTMLResponse)
async def login(
    request: Request, token: str | None = None, next_page: Annotated[str, Query(alias="next")] = "/audit/ui"
) -> Response:
    """The sign-in form; with ``token``, check it is an auditor's, keep it in a cookie and go on to ``next``."""
    target = next_page if next_page.startswith("/audit/ui") and "//" not in next_page else "/audit/ui"
    if not token:
        return _page("login.html", {"message": None, "next": target})
    try:
        await authorise(request, token)
    except HTTPException as refused:
        return _page("login.html", {"message": refused.detail, "next": target}, refused.status_code)
    redirect = RedirectResponse(target, status_code=303)
    redirect.set_cookie(
        TOKEN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/audit/ui",
    )
    return redirect


@router.get("/logout")
async def logout() -> Response:
    """Forget the sign-in cookie."""
    redirect = RedirectResponse("/audit/ui/login", status_code=303)
    redirect.delete_cookie(TOKEN_COOKIE, path="/audit/ui")
    return redirect
