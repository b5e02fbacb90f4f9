"""What every mall page shares: the app's use cases, the page's translator, a page or a notice of the mall's
templates in the request's language with the pages' security headers, and the redirect after a form."""

from __future__ import annotations

from typing import Any, Final

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from satupintu.common.web.pages import PAGE_CSP_OWN_IMAGES, page_headers
from satupintu.common.web.templates import render_html
from satupintu.common.web.translator import other_language, page_language, switch_url
from satupintu.mall.api import dependencies
from satupintu.mall.factory import MallContext
from satupintu.mall.i18n import Translator

PACKAGE: Final = "satupintu.mall"
PAGE_HEADERS: Final = page_headers(PAGE_CSP_OWN_IMAGES)
"""The mall's pages show the charts it draws itself (``img-src 'self'``)."""


def page_context(request: Request) -> MallContext:
    """The app's use cases, for a page."""
    return dependencies.context(request)


def translator(request: Request, language: str | None = None) -> Translator:
    """The mall's texts in ``language`` (the request's by default), dates in the mall's time zone."""
    return Translator(language or page_language(request), page_context(request).settings.timezone)


def agency_name(context: MallContext, code: str, language: str = "id") -> str:
    """An agency's name in ``language`` (its code when the catalogue has none)."""
    agency = context.catalogue.agency(code)
    return agency.name.in_language(language) if agency else code


def render_page(
    request: Request,
    template: str,
    *,
    title: str,
    status_code: int = 200,
    refresh: int | None = None,
    language: str | None = None,
    headers: dict[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    """A page of ``template`` in the request's language (or ``language``), with the pages' security headers (or
    ``headers``)."""
    t = translator(request, language)
    page = {
        "t": t,
        "lang": t.language,
        "title": title,
        "refresh": refresh,
        "script": None,
        "switch_url": switch_url(request, other_language(t.language)),
        "query": t.query,
        **values,
    }
    return render_html(PACKAGE, template, page, status_code=status_code, headers=headers or PAGE_HEADERS)


def render_notice(
    request: Request, title: str, body: str, status_code: int, language: str | None = None
) -> HTMLResponse:
    """A page that only says something: a title and a sentence."""
    return render_page(request, "notice.html", title=title, body=body, status_code=status_code, language=language)


def see_other(request: Request, path: str) -> RedirectResponse:
    """After a citizen's form: on to ``path``, in the page's language."""
    return RedirectResponse(f"{path}{translator(request).query}", status_code=303, headers=PAGE_HEADERS)
