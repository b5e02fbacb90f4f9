"""The staff pages' session: who is signed in, the roles a page needs, and a staff page with the signed-in bar.

Staff sign in with the bearer token the JSON API takes (from the identity provider, or ``satupintu-token``): the
page session is a signed cookie (Starlette's ``SessionMiddleware``, itsdangerous) that keeps the token, and the token
is verified again on every request, so the session ends when the token expires or its key is withdrawn. Every form
carries the session's CSRF token (:mod:`satupintu.common.web.csrf`), sign-in attempts are limited per client
address, and nothing changes through GET.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from satupintu.common.auth import AuthenticationError, KeySetUnavailableError, Principal, Role, TokenVerifier
from satupintu.common.web.csrf import csrf_token, csrf_valid
from satupintu.mall.factory import MallContext
from satupintu.mall.web.rendering import agency_name, page_context, render_notice, render_page, translator

SESSION_COOKIE: Final = "mall_staff"
TOKEN_KEY, COUNTER_KEY, FLASH_KEY = "token", "counter", "flash"
COUNTER_ROLES = frozenset({Role.OFFICER, Role.OPERATOR})
DESK_ROLES = frozenset({Role.OFFICER, Role.AUDITOR, Role.OPERATOR})


def staff_redirect(request: Request, path: str) -> RedirectResponse:
    """On to the staff page ``path``, in the page's language."""
    return RedirectResponse(
        f"{path}{translator(request).query}", status_code=303, headers={"Cache-Control": "no-store"}
    )


def flash(request: Request, kind: str, text: str) -> None:
    """A message (``ok`` or ``error``) the next staff page shows once."""
    request.session[FLASH_KEY] = {"kind": kind, "text": text}


def _who(context: MallContext, principal: Principal, language: str) -> str:
    if principal.agency:
        return f"{principal.subject} ({agency_name(context, principal.agency, language)})"
    return f"{principal.subject} ({', '.join(sorted(principal.roles))})"


def render_staff_page(
    request: Request,
    template: str,
    *,
    title: str,
    principal: Principal | None,
    status_code: int = 200,
    **values: Any,
) -> Response:
    """A staff page: the mall's page with the session's CSRF token, its flash message and who is signed in."""
    t = translator(request)
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


def refused_form(request: Request) -> Response:
    """The answer to a form without this session's CSRF token (403)."""
    t = translator(request)
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


async def staff(
    request: Request, roles: frozenset[Role], forbidden: str = "staff_forbidden_counter"
) -> Principal | Response:
    """The signed-in member of staff holding one of ``roles``; else the sign-in page, or a page saying why not (the
    text ``forbidden``)."""
    t = translator(request)
    try:
        principal = await signed_in(request)
    except KeySetUnavailableError:
        return render_notice(request, t("staff_login_title"), t("staff_keys_unavailable"), 503)
    if principal is None:
        return staff_redirect(request, "/staff/login")
    if not principal.roles & roles:
        return render_notice(request, t("staff_forbidden_title"), t(forbidden), 403)
    return principal


async def staff_form(
    request: Request, roles: frozenset[Role], csrf: str, forbidden: str = "staff_forbidden_counter"
) -> Principal | Response:
    """As :func:`staff`, for a form post: also refused when the form's CSRF token is not this session's."""
    found = await staff(request, roles, forbidden)
    if isinstance(found, Response):
        return found
    if not csrf_valid(request, csrf):
        return refused_form(request)
    return found
