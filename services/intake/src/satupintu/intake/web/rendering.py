"""Rendering the citizen's pages on the shared web kit (:mod:`satupintu.common.web`): the page language (``?lang=``,
then the cookie), the pages' security headers, redirects, the not-found page and the stylesheet."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from satupintu.common.catalogue import Catalogue
from satupintu.common.web.pages import PAGE_CSP_OWN_IMAGES, page_headers, stylesheet_response
from satupintu.common.web.templates import render_html
from satupintu.common.web.translator import (
    LANGUAGE_NAMES,
    LANGUAGES,
    language_or_default,
    other_language,
    switch_url,
)
from satupintu.intake.api import dependencies
from satupintu.intake.i18n import Translator
from satupintu.intake.web.fields import SummaryItem

router = APIRouter(tags=["pages"], include_in_schema=False)

PACKAGE: Final = "satupintu.intake"
LANGUAGE_COOKIE = "lang"
_LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600

# Pages carry no script and load nothing from elsewhere; tracking codes in addresses stay on this site.
_PAGE_HEADERS: Final = page_headers(PAGE_CSP_OWN_IMAGES, referrer_policy="same-origin")


def _language(request: Request) -> tuple[str, bool]:
    """The page language (``?lang=`` first, then the cookie, then Indonesian) and whether ``?lang=`` chose it."""
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return str(asked), True
    return language_or_default(request.cookies.get(LANGUAGE_COOKIE)), False


def translator(request: Request) -> Translator:
    """The words of the page ``request`` asks for, in its language."""
    return Translator(_language(request)[0])


def _remember_language(request: Request, response: Response) -> None:
    language, chosen = _language(request)
    if chosen:
        response.set_cookie(
            LANGUAGE_COOKIE, language, max_age=_LANGUAGE_COOKIE_SECONDS, httponly=True, samesite="lax", path="/"
        )


def page(
    request: Request,
    template: str,
    *,
    title: str,
    status_code: int = 200,
    summary: Sequence[SummaryItem] = (),
    **context: Any,
) -> HTMLResponse:
    """``template`` in the page's language, with the pages' headers; a language chosen by ``?lang=`` is kept."""
    language, _ = _language(request)
    other = other_language(language)
    values = {
        "t": Translator(language),
        "lang": language,
        "mall_url": dependencies.context(request).settings.mall_public_url.rstrip("/"),
        "title": title,
        "summary": summary,
        "switch_url": switch_url(request, other, leave_out={"answered"}),
        "switch_language": other,
        "switch_label": LANGUAGE_NAMES[other],
        "form_action_query": urlencode({"lang": language}),
        **context,
    }
    response = render_html(PACKAGE, template, values, status_code=status_code, headers=_PAGE_HEADERS)
    _remember_language(request, response)
    return response


def redirect(request: Request, url: str) -> RedirectResponse:
    """A 303 to ``url`` with the pages' headers; a language chosen by ``?lang=`` is kept."""
    response = RedirectResponse(url, status_code=303, headers=_PAGE_HEADERS)
    _remember_language(request, response)
    return response


def not_found(request: Request, body: str, title_key: str = "not_found_title") -> HTMLResponse:
    """A 404 notice saying ``body``, linking back to the list of services."""
    t = translator(request)
    return page(
        request, "notice.html", title=t(title_key), status_code=404, body=body, links=[("/", t("nav_services"))]
    )


def agency_name(catalogue: Catalogue, code: str | None, language: str) -> str:
    """An agency's name in ``language`` (its code when the catalogue does not know it; empty for none)."""
    if code is None:
        return ""
    agency = catalogue.agency(code)
    return agency.name.in_language(language) if agency else code


def sla(t: Translator, days: int) -> str:
    """A service standard's completion time, in working days."""
    return t("service_sla_one") if days == 1 else t("service_sla", days=days)


@router.get("/static/site.css")
async def stylesheet() -> Response:
    """The pages' one stylesheet."""
    return stylesheet_response(PACKAGE, "static/site.css")
