"""Whole pages: the pages' security headers, their stylesheet, and a page of a package's templates in the request's
language with the link to the same page in the other language (the operators' dead-letter page every service has
renders this way)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any, Final

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from satupintu.common.web.templates import render_html
from satupintu.common.web.translator import Translator, other_language, switch_url

PAGE_CSP: Final = "default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
"""Nothing from elsewhere, no script, no framing; a service that serves images of its own widens ``img-src``."""

PAGE_CSP_OWN_IMAGES: Final = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
""":data:`PAGE_CSP` with the images the service serves itself (``img-src 'self'``)."""


def page_headers(content_security_policy: str = PAGE_CSP, *, referrer_policy: str = "no-referrer") -> dict[str, str]:
    """The security headers of a page: its content security policy, no sniffing, no referrer (or
    ``referrer_policy``), no caching."""
    return {
        "Content-Security-Policy": content_security_policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": referrer_policy,
        "Cache-Control": "no-store",
    }


PAGE_HEADERS: Final = page_headers()


def render_page(
    request: Request,
    package: str,
    template: str,
    t: Translator,
    *,
    title: str,
    status_code: int = 200,
    switch_path: str | None = None,
    **values: Any,
) -> HTMLResponse:
    """``template`` of ``package``'s ``templates/`` in ``t``'s language, with the pages' security headers; the
    template gets ``t``, ``lang``, ``title``, ``query`` (the language's) and ``switch_url``: this page (a GET's, or
    ``switch_path``) in the other language."""
    keep_query = switch_path is None and request.method == "GET"
    switch = switch_url(request, other_language(t.language), path=switch_path, keep_query=keep_query)
    return render_html(
        package,
        template,
        {"t": t, "lang": t.language, "title": title, "query": t.query, "switch_url": switch, **values},
        status_code=status_code,
        headers=PAGE_HEADERS,
    )


@cache
def _resource_text(package: str, resource: str) -> str:
    return files(package).joinpath(resource).read_text(encoding="utf-8")


def stylesheet_response(package: str, resource: str) -> Response:
    """The pages' stylesheet, ``resource`` of ``package`` (``static/site.css``), read once; browsers keep it an hour."""
    return Response(
        _resource_text(package, resource),
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
