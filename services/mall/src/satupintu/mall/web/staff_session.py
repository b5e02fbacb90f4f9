"""The staff pages' session: who is signed in, the roles a page needs, and a staff page with the signed-in bar.

Staff sign in through the OpenID Connect provider (:mod:`satupintu.common.oidc`, client ``satupintu-mall``): the
``/auth/*`` routes send them to the provider's login page and back, and the sign-in cookie holds only an opaque id
of a session the mall keeps in its database (tokens never reach the browser). Every staff page asks the kit who is
signed in; every form carries the sign-in's CSRF token; signing out (``POST /auth/logout``) ends the session here
and at the provider, and the provider's back-channel logout ends it when the person signs out elsewhere. Nothing
changes through GET.

A second cookie, signed (Starlette's ``SessionMiddleware``, path ``/staff``), keeps only the counter's name for the
next call and the next page's message; it is forgotten when a page finds nobody signed in.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from satupintu.common.auth import Principal, Role
from satupintu.common.oidc.web import SignIn
from satupintu.mall.factory import STAFF_ROLES, STAFF_SIGN_IN_PAGE, MallContext
from satupintu.mall.web.rendering import (
    PAGE_HEADERS,
    agency_name,
    page_context,
    render_notice,
    render_page,
    translator,
)

SESSION_COOKIE: Final = "mall_staff"
"""The staff pages' preferences cookie (the counter's name, the next page's message)."""
COUNTER_KEY, FLASH_KEY = "counter", "flash"
COUNTER_ROLES = frozenset({Role.OFFICER, Role.OPERATOR})
DESK_ROLES = STAFF_ROLES


def sign_in_of(request: Request) -> SignIn:
    """The staff pages' sign-in through the provider."""
    return page_context(request).sign_in


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


def signed_in_page_policy(sign_in: SignIn) -> str:
    """The staff pages' content security policy: the mall's, with the provider's origin among the places a form may
    lead, since signing out (a form posted here) ends at the provider's end-session endpoint (``form-action`` holds
    for the redirects after a form too)."""
    return sign_in.allowing_sign_out(PAGE_HEADERS["Content-Security-Policy"])


def render_staff_page(
    request: Request,
    template: str,
    *,
    title: str,
    principal: Principal | None,
    status_code: int = 200,
    **values: Any,
) -> Response:
    """A staff page: the mall's page with the sign-in's CSRF token, its flash message and who is signed in (and the
    sign-out form, which may lead to the provider)."""
    t = translator(request)
    context = page_context(request)
    sign_in = sign_in_of(request)
    page = render_page(
        request,
        template,
        title=title,
        status_code=status_code,
        csrf_token=sign_in.csrf_token(request) if principal else "",
        flash=request.session.pop(FLASH_KEY, None),
        principal=principal,
        who=_who(context, principal, t.language) if principal else "",
        can_call=bool(principal and principal.roles & COUNTER_ROLES),
        **values,
    )
    if principal:
        page.headers["Content-Security-Policy"] = signed_in_page_policy(sign_in)
    return page


def refused_form(request: Request) -> Response:
    """The answer to a form without this sign-in's CSRF token (403)."""
    t = translator(request)
    return render_notice(request, t("staff_form_refused_title"), t("staff_form_refused"), 403)


async def staff(
    request: Request, roles: frozenset[Role], forbidden: str = "staff_forbidden_counter"
) -> Principal | Response:
    """The signed-in member of staff holding one of ``roles``; else the sign-in page (the preferences of whoever
    was signed in before forgotten), or a page saying why not (the text ``forbidden``)."""
    t = translator(request)
    principal = await sign_in_of(request).principal(request)
    if principal is None:
        request.session.clear()
        return staff_redirect(request, STAFF_SIGN_IN_PAGE)
    if not principal.roles & roles:
        return render_notice(request, t("staff_forbidden_title"), t(forbidden), 403)
    return principal


async def staff_form(
    request: Request, roles: frozenset[Role], csrf: str, forbidden: str = "staff_forbidden_counter"
) -> Principal | Response:
    """As :func:`staff`, for a form post: also refused when the form's CSRF token is not this sign-in's."""
    found = await staff(request, roles, forbidden)
    if isinstance(found, Response):
        return found
    if not sign_in_of(request).csrf_valid(request, csrf):
        return refused_form(request)
    return found
