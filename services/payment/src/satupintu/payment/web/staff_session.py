"""The staff pages' session and what every staff page shares: who is signed in and the roles a page needs, a page
of payment's templates in the request's language with the signed-in bar and the pages' security headers, the
sign-in page and the staff home.

Staff sign in through the OpenID Connect provider (:mod:`satupintu.common.oidc`, client ``satupintu-payment``, the
sign-in the operators' dead-letter page uses too): the cookie holds only an opaque id of a session kept in
payment's database (tokens never reach the browser). Every form carries the sign-in's CSRF token; nothing changes
through GET. Signing out is ``POST /auth/logout``.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from satupintu.common.auth import Principal, Role
from satupintu.common.oidc.web import SignIn
from satupintu.common.web.pages import PAGE_CSP, page_headers, stylesheet_response
from satupintu.common.web.templates import render_html
from satupintu.common.web.translator import other_language, page_language, switch_url
from satupintu.payment.factory import STAFF_HOME, STAFF_ROLES, STAFF_SIGN_IN_PAGE, PaymentContext
from satupintu.payment.i18n import Translator

PACKAGE: Final = "satupintu.payment"
COUNTER_ROLES: Final = frozenset({Role.OFFICER})
"""Who records counter payments: the mall's counter clerks are officers (as the API's counter payments)."""
RECONCILING_ROLES: Final = STAFF_ROLES
"""Who reads the day's reconciliation (as the API's)."""

router = APIRouter(include_in_schema=False)


def page_context(request: Request) -> PaymentContext:
    """The process's context, for a page."""
    found: PaymentContext = request.app.state.payment
    return found


def translator(request: Request) -> Translator:
    """Payment's texts in the request's language."""
    return Translator(page_language(request))


def sign_in_of(request: Request) -> SignIn:
    """The staff pages' sign-in through the provider."""
    return page_context(request).sign_in


def agency_name(request: Request, code: str, language: str) -> str:
    """An agency's name in ``language`` (its code when the catalogue has none)."""
    agency = page_context(request).catalogue.agency(code)
    return agency.name.in_language(language) if agency else code


def _who(request: Request, principal: Principal, language: str) -> str:
    if principal.agency:
        return f"{principal.subject} ({agency_name(request, principal.agency, language)})"
    return f"{principal.subject} ({', '.join(sorted(principal.roles))})"


def render_staff_page(
    request: Request,
    template: str,
    *,
    title: str,
    principal: Principal | None,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    """A page of ``template`` in the request's language: the sign-in's CSRF token and who is signed in (with the
    sign-out form, which may lead on to the provider: the policy's ``form-action`` allows its origin)."""
    t = translator(request)
    sign_in = sign_in_of(request)
    keep_query = request.method == "GET"
    page = {
        "t": t,
        "lang": t.language,
        "title": title,
        "query": t.query,
        "switch_url": switch_url(request, other_language(t.language), keep_query=keep_query),
        "principal": principal,
        "who": _who(request, principal, t.language) if principal else "",
        "csrf_token": sign_in.csrf_token(request) if principal else "",
        "may_record": bool(principal and principal.roles & COUNTER_ROLES),
        **values,
    }
    headers = page_headers(sign_in.allowing_sign_out(PAGE_CSP) if principal else PAGE_CSP)
    return render_html(PACKAGE, template, page, status_code=status_code, headers=headers)


def render_notice(request: Request, title: str, body: str, status_code: int) -> HTMLResponse:
    """A page that only says something: a title and a sentence."""
    return render_staff_page(request, "notice.html", title=title, body=body, principal=None, status_code=status_code)


def staff_redirect(request: Request, path: str, query: str = "") -> RedirectResponse:
    """On to the staff page ``path`` (with ``query``, ``&``-joined), in the page's language."""
    language = translator(request).query
    joined = "&".join(part for part in (language.lstrip("?"), query) if part)
    return RedirectResponse(
        f"{path}?{joined}" if joined else path, status_code=303, headers={"Cache-Control": "no-store"}
    )


async def staff(request: Request, roles: frozenset[Role], forbidden: str) -> Principal | Response:
    """The signed-in member of staff holding one of ``roles``; else the sign-in page, or a page saying why not
    (403, the text ``forbidden``)."""
    principal = await sign_in_of(request).principal(request)
    if principal is None:
        return staff_redirect(request, STAFF_SIGN_IN_PAGE)
    if not principal.roles & roles:
        t = translator(request)
        return render_notice(request, t("staff_forbidden_title"), t(forbidden), 403)
    return principal


async def staff_form(request: Request, roles: frozenset[Role], csrf: str, forbidden: str) -> Principal | Response:
    """As :func:`staff`, for a form post: also refused (403) when the form's CSRF token is not this sign-in's."""
    found = await staff(request, roles, forbidden)
    if isinstance(found, Response):
        return found
    if not sign_in_of(request).csrf_valid(request, csrf):
        t = translator(request)
        return render_notice(request, t("staff_form_refused_title"), t("staff_form_refused"), 403)
    return found


@router.get("/static/payment.css")
async def stylesheet() -> Response:
    """The pages' stylesheet."""
    return stylesheet_response(PACKAGE, "static/payment.css")


@router.get(STAFF_HOME)
async def staff_home(request: Request) -> Response:
    """The counter's bills for clerks, the day's reconciliation for auditors and operators; the sign-in page
    before either."""
    found = await staff(request, RECONCILING_ROLES, "staff_forbidden_reconciliation")
    if isinstance(found, Response):
        return found
    return staff_redirect(request, "/staff/bills" if found.roles & COUNTER_ROLES else "/staff/reconciliation")


@router.get(STAFF_SIGN_IN_PAGE)
async def login_page(request: Request) -> Response:
    """The sign-in page: a link to the provider's login page that comes back to the staff home; with
    ``?signed_out=1`` (where the provider sends the browser after signing out) it says the person is signed out."""
    t = translator(request)
    return render_staff_page(
        request,
        "staff_login.html",
        title=t("staff_login_title"),
        principal=None,
        sign_in_url=sign_in_of(request).login_url(f"{STAFF_HOME}{t.query}"),
        signed_out=request.query_params.get("signed_out") == "1",
    )
