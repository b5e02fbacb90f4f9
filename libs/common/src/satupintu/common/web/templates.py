"""The Jinja environment of a package's ``templates/``, the same for every service: autoescape, strict undefined (a
name a template uses and the page did not give is an error, not an empty string), blocks trimmed, and the shared
filters (``local_time``, ``numeric_moment``, ``clock_time``, ``compact_json``); and the HTML answer it renders."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined, select_autoescape

from satupintu.common.web.dates import clock_time, local_time, numeric_moment


def compact_json(value: Any) -> str:
    """A value as one line of JSON, keys sorted, non-ASCII kept (for showing a payload as it is)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@cache
def page_environment(package: str) -> Environment:
    """The environment of ``package``'s ``templates/`` folder (one per package, built on first use); the kit's own
    templates (``page_skeleton.html``: the document every page's ``base.html`` extends) come after the package's."""
    environment = Environment(
        loader=ChoiceLoader([PackageLoader(package, "templates"), PackageLoader(__package__ or "", "templates")]),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        local_time=local_time, numeric_moment=numeric_moment, clock_time=clock_time, compact_json=compact_json
    )
    return environment


def render_html(
    package: str,
    template: str,
    values: Mapping[str, Any],
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """``template`` of ``package`` rendered with ``values``, as an HTML answer."""
    html = page_environment(package).get_template(template).render(**values)
    return HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))
