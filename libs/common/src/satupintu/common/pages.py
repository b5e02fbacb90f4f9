"""Server-rendered pages every service has (for now the operators' dead-letter page): Jinja2 templates with
autoescape, the pages' security headers, and their words in Indonesian (the default) or English (``?lang=en``)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

LANGUAGES = ("id", "en")
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def page_language(request: Request) -> str:
    """The page's language: ``?lang=en``, else Indonesian."""
    asked = request.query_params.get("lang")
    return asked if asked in LANGUAGES else "id"


class Texts:
    """The words of some pages in one language, with values filled in (Indonesian when a text is missing)."""

    def __init__(self, texts: Mapping[str, Mapping[str, str]], language: str) -> None:
        self.language = language if language in LANGUAGES else "id"
        self._texts = texts

    def __call__(self, key: str, **values: object) -> str:
        """The text ``key``, with ``values`` filled in."""
        text = self._texts[self.language].get(key) or self._texts["id"].get(key) or key
        return text.format(**values) if values else text

    @property
    def query(self) -> str:
        """The query string that keeps this language on a link or a form's action."""
        return "" if self.language == "id" else f"?lang={self.language}"


@cache
def _environment(package: str) -> Environment:
    return Environment(
        loader=PackageLoader(package, "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_page(
    request: Request,
    package: str,
    template: str,
    t: Texts,
    *,
    title: str,
    status_code: int = 200,
    switch_path: str | None = None,
    **values: Any,
) -> HTMLResponse:
    """``template`` of ``package``'s ``templates/`` in ``t``'s language, with the pages' security headers; the
    template gets ``t``, ``lang``, ``title``, ``query`` (the language's) and ``switch_url``: this page (a GET's, or
    ``switch_path``) in the other language."""
    other = "en" if t.language == "id" else "id"
    kept = [(name, value) for name, value in request.query_params.multi_items() if name != "lang"]
    if switch_path is not None or request.method != "GET":
        kept = []
    switch_url = f"{switch_path or request.url.path}?{urlencode([*kept, ('lang', other)])}"
    html = (
        _environment(package)
        .get_template(template)
        .render(t=t, lang=t.language, title=title, query=t.query, switch_url=switch_url, **values)
    )
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)
