"""The operators' dead-letter page, on every service: ``/operator/dead-letters`` lists what the service
dead-lettered with the reasons (the filters of ``GET /dlq``) and replays a selection (a POST form with the sign-in's
CSRF token). Operators sign in through the OpenID Connect provider with the service's own sign-in
(:class:`satupintu.common.oidc.web.SignIn`, ``app.state.sign_in``): ``/operator/sign-in`` links to it, and signing
out is its ``POST /auth/logout``. Every view and replay is recorded as ``access.recorded``, as through the API, and
so is a refusal of someone signed in without the operator role; nothing changes on GET."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from satupintu.common.access_log import refusal
from satupintu.common.auth import Principal, Role
from satupintu.common.consuming import ReplayOutcome
from satupintu.common.dead_letters.api import dead_letter_service, requested_resource
from satupintu.common.dead_letters.queues import DeadLetterPosition, DeadLettersUnreadable, Selection
from satupintu.common.dead_letters.schemas import MAX_LIMIT, DeadLetterQuery, DeadLetterRead, ReplayedRead
from satupintu.common.dead_letters.service import UnknownCriterion
from satupintu.common.dead_letters.texts import TEXTS
from satupintu.common.oidc.web import PREFIX as SIGN_IN_ROUTES
from satupintu.common.oidc.web import SignIn
from satupintu.common.problems import field_path
from satupintu.common.web.csrf import CsrfField
from satupintu.common.web.pages import render_page
from satupintu.common.web.translator import Translator, page_language

PATH = "/operator"
PAGE = f"{PATH}/dead-letters"
SIGN_IN_PAGE = f"{PATH}/sign-in"
_PACKAGE = "satupintu.common.dead_letters"
_LIST_FIELDS = ("consumer", "topic", "event_type", "ce_id")
_SCALAR_FIELDS = ("reason", "since", "until", "limit")

router = APIRouter(prefix=PATH, include_in_schema=False)


def sign_in_of(request: Request) -> SignIn:
    """The service's sign-in through the provider (``app.state.sign_in``, which ``create_service_app`` sets)."""
    found: SignIn = request.app.state.sign_in
    return found


def _texts(request: Request) -> Translator:
    return Translator(TEXTS, page_language(request))


def _render(request: Request, template: str, *, title: str, status_code: int = 200, **values: Any) -> Response:
    t = _texts(request)
    sign_in = sign_in_of(request)
    page = render_page(
        request,
        _PACKAGE,
        template,
        t,
        title=title,
        status_code=status_code,
        service=dead_letter_service(request).service,
        page=PAGE,
        path=PATH,
        sign_out=f"{SIGN_IN_ROUTES}/logout",
        **values,
    )
    # Signing out (a form posted here) ends at the provider's end-session endpoint: form-action holds for the
    # redirect after a form too.
    policy = page.headers["Content-Security-Policy"]
    page.headers["Content-Security-Policy"] = sign_in.allowing_sign_out(policy)
    return page


def _notice(request: Request, title: str, text: str, status_code: int) -> Response:
    return _render(request, "notice.html", title=title, status_code=status_code, text=text, principal=None)


def _redirect(request: Request, path: str) -> RedirectResponse:
    return RedirectResponse(f"{path}{_texts(request).query}", status_code=303, headers={"Cache-Control": "no-store"})


async def _operator(request: Request, action: str) -> Principal | Response:
    """The signed-in operator; else the sign-in page, or a page saying why not (the refusal is recorded)."""
    principal = await sign_in_of(request).principal(request)
    if principal is None:
        return _redirect(request, SIGN_IN_PAGE)
    why_not = refusal(principal, Role.OPERATOR)
    if why_not is not None:
        await dead_letter_service(request).record_refusal(
            principal.actor(), requested_resource(request), action, why_not
        )
        t = _texts(request)
        return _notice(request, t("forbidden_title"), t("not_operator"), 403)
    return principal


# ----------------------------------------------------------------------------------------------------------------------
# Signing in


@router.get("")
async def operator_home(request: Request) -> Response:
    """The dead-letter page."""
    return _redirect(request, PAGE)


@router.get("/page.css")
async def stylesheet() -> Response:
    """The pages' stylesheet."""
    return Response(_stylesheet(), media_type="text/css", headers={"Cache-Control": "max-age=3600"})


@cache
def _stylesheet() -> str:
    return files(_PACKAGE).joinpath("static/page.css").read_text(encoding="utf-8")


@router.get("/sign-in")
async def sign_in_page(request: Request, signed_out: str = "") -> Response:
    """The link that signs an operator in through the provider and comes back to the dead-letter page; with
    ``?signed_out=1``, it says the operator is signed out. No form: no token is ever typed or pasted here."""
    t = _texts(request)
    return _render(
        request,
        "sign_in.html",
        title=t("sign_in_title"),
        switch_path=SIGN_IN_PAGE,
        principal=None,
        login_url=sign_in_of(request).login_url(PAGE),
        signed_out=bool(signed_out),
    )


# ----------------------------------------------------------------------------------------------------------------------
# The dead letters


def _filter_of(request: Request) -> dict[str, Any]:
    """The filter a page's query asks for (empty fields left out)."""
    values: dict[str, Any] = {name: request.query_params.getlist(name) for name in _LIST_FIELDS}
    for name in _SCALAR_FIELDS:
        value = request.query_params.get(name)
        if value:
            values[name] = value
    return values


def _errors(invalid: ValidationError) -> list[str]:
    return [f"{field_path(error['loc'])}: {error['msg']}" for error in invalid.errors()]


@router.get("/dead-letters")
async def dead_letters_page(request: Request) -> Response:
    """The service's dead letters with their reasons, filtered; a form to replay a selection."""
    found = await _operator(request, "read")
    if isinstance(found, Response):
        return found
    t = _texts(request)
    service = dead_letter_service(request)
    asked = _filter_of(request)
    values: dict[str, Any] = {
        "principal": found,
        "csrf_token": sign_in_of(request).csrf_token(request),
        "consumers": service.consumer_names(),
        "asked": asked,
        "letters": [],
        "listing": None,
        "errors": [],
    }
    try:
        query = DeadLetterQuery.model_validate(asked)
    except ValidationError as invalid:
        values["errors"] = _errors(invalid)
        return _render(request, "dead_letters.html", title=t("page_title"), status_code=422, **values)
    try:
        listing = await service.list(found, requested_resource(request), query.selection(), query.limit)
    except UnknownCriterion as unknown:
        values["errors"] = [f"{unknown.field}: {unknown.message}"]
        return _render(request, "dead_letters.html", title=t("page_title"), status_code=422, **values)
    except DeadLettersUnreadable as unreadable:
        values["errors"] = [t("unreadable", reason=str(unreadable))]
        return _render(request, "dead_letters.html", title=t("page_title"), status_code=503, **values)
    values |= {"listing": listing, "letters": [DeadLetterRead.of(letter) for letter in listing.letters]}
    return _render(request, "dead_letters.html", title=t("page_title"), **values)


@router.post("/dead-letters/replay")
async def replay_from_page(
    request: Request,
    csrf_token: CsrfField = "",
    position: Annotated[list[str] | None, Form()] = None,
    dry_run: Annotated[bool, Form()] = False,
) -> Response:
    """Replay the selected dead letters (the form's CSRF token required) and show what came of each."""
    found = await _operator(request, "replay")
    if isinstance(found, Response):
        return found
    t = _texts(request)
    if not sign_in_of(request).csrf_valid(request, csrf_token):
        return _notice(request, t("form_refused_title"), t("form_refused"), 403)
    try:
        positions = frozenset(DeadLetterPosition.parse(text) for text in position or ())
    except ValueError:
        bad = next(text for text in position or () if not _is_position(text))
        return _notice(request, t("error_summary"), t("bad_position", position=bad), 422)
    if not positions or len(positions) > MAX_LIMIT:
        return _notice(request, t("error_summary"), t("nothing_selected"), 422)
    service = dead_letter_service(request)
    try:
        report = await service.replay(
            found, requested_resource(request), Selection(positions=positions), limit=len(positions), dry_run=dry_run
        )
    except DeadLettersUnreadable as unreadable:
        return _notice(request, t("error_summary"), t("unreadable", reason=str(unreadable)), 503)
    results = [ReplayedRead.of_result(result) for result in report.results]
    return _render(
        request,
        "replayed.html",
        title=t("dry_result_title" if dry_run else "result_title"),
        switch_path=PAGE,
        principal=found,
        csrf_token=sign_in_of(request).csrf_token(request),
        results=results,
        totals={outcome.value: count for outcome, count in report.totals().items() if count},
        outcomes=list(ReplayOutcome),
    )


def _is_position(text: str) -> bool:
    try:
        DeadLetterPosition.parse(text)
    except ValueError:
        return False
    return True
