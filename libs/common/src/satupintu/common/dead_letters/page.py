"""The operators' dead-letter page, on every service: ``/operator/dead-letters`` lists what the service
dead-lettered with the reasons (the filters of ``GET /dlq``) and replays a selection (a POST form with a CSRF
token). Operators sign in at ``/operator/sign-in`` with their token (:mod:`satupintu.common.page_sign_in`). Every
view and replay is recorded as ``access.recorded``, as through the API; nothing changes on GET."""

from __future__ import annotations

import math
from functools import cache
from importlib.resources import files
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from satupintu.common.access_log import refusal
from satupintu.common.auth import AuthenticationError, KeySetUnavailableError, Principal, Role
from satupintu.common.consuming import ReplayOutcome
from satupintu.common.dead_letters.api import dead_letter_service, requested_resource
from satupintu.common.dead_letters.queues import DeadLetterPosition, DeadLettersUnreadable, Selection
from satupintu.common.dead_letters.schemas import MAX_LIMIT, DeadLetterQuery, DeadLetterRead, ReplayedRead
from satupintu.common.dead_letters.service import UnknownCriterion
from satupintu.common.dead_letters.texts import TEXTS
from satupintu.common.page_sign_in import TokenSignIn
from satupintu.common.problems import field_path
from satupintu.common.ratelimit import TokenBuckets
from satupintu.common.web.csrf import CsrfField
from satupintu.common.web.pages import render_page
from satupintu.common.web.translator import Translator, page_language

PATH = "/operator"
PAGE = f"{PATH}/dead-letters"
SIGN_IN = TokenSignIn(path=PATH, cookie="satupintu_operator")
SIGN_IN_ATTEMPTS_PER_MINUTE = 10
_PACKAGE = "satupintu.common.dead_letters"
_LIST_FIELDS = ("consumer", "topic", "event_type", "ce_id")
_SCALAR_FIELDS = ("reason", "since", "until", "limit")

router = APIRouter(prefix=PATH, include_in_schema=False)


def sign_in_attempts() -> TokenBuckets:
    """The limit of sign-in attempts per client address (one per app: ``app.state.operator_sign_in_attempts``)."""
    return TokenBuckets(SIGN_IN_ATTEMPTS_PER_MINUTE, SIGN_IN_ATTEMPTS_PER_MINUTE)


def _texts(request: Request) -> Translator:
    return Translator(TEXTS, page_language(request))


def _render(request: Request, template: str, *, title: str, status_code: int = 200, **values: Any) -> Response:
    t = _texts(request)
    return render_page(
        request,
        _PACKAGE,
        template,
        t,
        title=title,
        status_code=status_code,
        service=dead_letter_service(request).service,
        page=PAGE,
        path=PATH,
        **values,
    )


def _notice(request: Request, title: str, text: str, status_code: int) -> Response:
    return _render(request, "notice.html", title=title, status_code=status_code, text=text, principal=None)


def _redirect(request: Request, path: str) -> RedirectResponse:
    return RedirectResponse(f"{path}{_texts(request).query}", status_code=303, headers={"Cache-Control": "no-store"})


async def _operator(request: Request, action: str) -> Principal | Response:
    """The signed-in operator; else the sign-in page, or a page saying why not (a refusal is recorded)."""
    t = _texts(request)
    try:
        principal = await SIGN_IN.signed_in(request)
    except KeySetUnavailableError:
        return _notice(request, t("sign_in_title"), t("keys_unavailable"), 503)
    if principal is None:
        return _redirect(request, f"{PATH}/sign-in")
    why_not = refusal(principal, Role.OPERATOR)
    if why_not is not None:
        await dead_letter_service(request).record_refusal(
            principal.actor(), requested_resource(request), action, why_not
        )
        return _notice(request, t("forbidden_title"), t("not_operator"), 403)
    return principal


# ----------------------------------------------------------------------------------------------------------------------
# Signing in and out


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


def _sign_in_page(request: Request, *, error: str | None = None, status_code: int = 200) -> Response:
    t = _texts(request)
    form_token = SIGN_IN.form_token(request)
    page = _render(
        request,
        "sign_in.html",
        title=t("sign_in_title"),
        status_code=status_code,
        switch_path=f"{PATH}/sign-in",
        principal=None,
        csrf_token=form_token,
        error=error,
    )
    SIGN_IN.keep_form_token(request, page, form_token)
    return page


@router.get("/sign-in")
async def sign_in_page(request: Request) -> Response:
    """The sign-in form."""
    return _sign_in_page(request)


@router.post("/sign-in")
async def sign_in(
    request: Request, token: Annotated[str, Form(max_length=8192)] = "", csrf_token: CsrfField = ""
) -> Response:
    """Check the token (an operator's), then keep it in the sign-in cookie and go to the dead-letter page."""
    t = _texts(request)
    if not SIGN_IN.form_token_valid(request, csrf_token):
        return _notice(request, t("form_refused_title"), t("form_refused"), 403)
    attempts: TokenBuckets = request.app.state.operator_sign_in_attempts
    wait = attempts.take(request.client.host if request.client else "unknown")
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        answer = _sign_in_page(request, error=t("too_many", seconds=seconds), status_code=429)
        answer.headers["Retry-After"] = str(seconds)
        return answer
    token = token.strip()
    try:
        principal = await SIGN_IN.verify(request, token)
    except AuthenticationError:
        return _sign_in_page(request, error=t("token_invalid"), status_code=401)
    except KeySetUnavailableError:
        return _notice(request, t("sign_in_title"), t("keys_unavailable"), 503)
    why_not = refusal(principal, Role.OPERATOR)
    if why_not is not None:
        await dead_letter_service(request).record_refusal(
            principal.actor(), requested_resource(request), "sign-in", why_not
        )
        return _sign_in_page(request, error=t("not_operator"), status_code=403)
    answer = _redirect(request, PAGE)
    SIGN_IN.sign_in(request, answer, token)
    return answer


@router.post("/sign-out")
async def sign_out(request: Request, csrf_token: CsrfField = "") -> Response:
    """Forget the sign-in cookie."""
    if not SIGN_IN.csrf_valid(request, csrf_token):
        t = _texts(request)
        return _notice(request, t("form_refused_title"), t("form_refused"), 403)
    answer = _redirect(request, f"{PATH}/sign-in")
    SIGN_IN.sign_out(answer)
    return answer


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
        "csrf_token": SIGN_IN.csrf_token(request),
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
    if not SIGN_IN.csrf_valid(request, csrf_token):
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
        csrf_token=SIGN_IN.csrf_token(request),
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
