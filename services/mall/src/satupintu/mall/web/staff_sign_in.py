"""Staff signing in and out of the mall's staff pages (the session itself: :mod:`satupintu.mall.web.staff_session`)."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from satupintu.common.auth import AuthenticationError, KeySetUnavailableError, TokenVerifier
from satupintu.common.web.csrf import CsrfField, csrf_valid, renew_csrf_token
from satupintu.mall.api import dependencies
from satupintu.mall.api.limits import client_address
from satupintu.mall.web.rendering import render_notice, translator
from satupintu.mall.web.staff_session import (
    COUNTER_KEY,
    COUNTER_ROLES,
    DESK_ROLES,
    TOKEN_KEY,
    refused_form,
    render_staff_page,
    staff,
    staff_redirect,
)

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("")
async def staff_home(request: Request) -> Response:
    """The counter for officers and operators, the complaint desk for auditors; the sign-in page before either."""
    found = await staff(request, DESK_ROLES)
    if isinstance(found, Response):
        return found
    return staff_redirect(request, "/staff/counter" if found.roles & COUNTER_ROLES else "/staff/complaints")


@router.get("/login")
async def login_page(request: Request) -> Response:
    """The sign-in form (the session cookie it sets carries its CSRF token)."""
    t = translator(request)
    return render_staff_page(request, "staff_login.html", title=t("staff_login_title"), principal=None, error=None)


@router.post("/login")
async def login(
    request: Request, token: Annotated[str, Form(max_length=8192)] = "", csrf_token: CsrfField = ""
) -> Response:
    """Check the token; on success start a new session (new CSRF token) holding it."""
    if not csrf_valid(request, csrf_token):
        return refused_form(request)
    t = translator(request)
    throttle = dependencies.staff_login_throttle(request)
    wait = throttle.take(client_address(request))
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        answer = render_staff_page(
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
        return render_staff_page(
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
    request.session[TOKEN_KEY] = token.strip()
    renew_csrf_token(request)
    if isinstance(counter, str):
        request.session[COUNTER_KEY] = counter
    return staff_redirect(request, "/staff/counter" if principal.roles & COUNTER_ROLES else "/staff/complaints")


@router.post("/logout")
async def logout(request: Request, csrf_token: CsrfField = "") -> Response:
    """End the session."""
    if not csrf_valid(request, csrf_token):
        return refused_form(request)
    request.session.clear()
    return staff_redirect(request, "/staff/login")
