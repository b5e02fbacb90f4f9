"""The mall's front page, its one stylesheet, and what a citizen sees when they sent too many forms."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from satupintu.common.web.pages import stylesheet_response
from satupintu.mall.api.limits import RateLimited
from satupintu.mall.web.rendering import page_context, render_notice, render_page, translator

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/static/mall.css")
async def stylesheet() -> Response:
    """The pages' one stylesheet."""
    return stylesheet_response("satupintu.mall", "static/mall.css")


def rate_limited_page(request: Request, error: RateLimited) -> Response:
    """What a citizen sees when they sent too many forms: when to try again (status 429)."""
    t = translator(request)
    return render_notice(request, t("rate_limited_title"), t("rate_limited", seconds=error.retry_after), 429)


@router.get("/")
async def home(request: Request) -> HTMLResponse:
    """What the mall offers on its own pages."""
    t = translator(request)
    context = page_context(request)
    bookable = [
        (code, service.name.in_language(t.language))
        for code in context.appointments.bookable
        for service in [context.catalogue.service(code)]
        if service is not None
    ]
    return render_page(request, "home.html", title=t("home_title"), bookable=bookable)
