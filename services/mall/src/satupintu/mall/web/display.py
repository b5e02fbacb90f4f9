"""The now-calling display over the waiting area, seen and heard: the number called last and its counter, huge, and
the calls before it; each new call announced in Indonesian (and English, where set) by audio the mall speaks with
espeak-ng (``/display/announcements/{number}.wav``). The page's one script (``/static/display.js``, no inline
script) fetches the page again for new calls and plays their audio once a person has tapped to turn sound on;
without script the page reloads itself and stays silent."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Final
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from satupintu.common.problems import Problem
from satupintu.common.web.pages import page_headers
from satupintu.mall.domain import TicketNotFound
from satupintu.mall.services.announcer import AnnouncementUnavailable
from satupintu.mall.spoken import Language, announcement
from satupintu.mall.web.rendering import PACKAGE, agency_name, page_context, render_notice, render_page, translator

router = APIRouter(tags=["pages"], include_in_schema=False)

DISPLAY_HEADERS: Final = page_headers(
    "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; media-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
"""The pages' headers, with the display's own script, its fetches of the page and the announcements' audio."""
SCRIPT: Final = "/static/display.js"


def announcement_url(number: str) -> str:
    """Where the display fetches the audio of the call of ``number`` today."""
    return f"/display/announcements/{quote(number, safe='')}.wav"


@router.get("/display")
async def display_page(request: Request) -> HTMLResponse:
    """The wall screen: the number called last and the counter it goes to, then the calls before it (the last five
    calls by default); numbers, counters and services only, nothing about a visitor. ``?agency=`` shows one agency's
    calls."""
    context = page_context(request)
    t = translator(request)
    agency = request.query_params.get("agency") or None
    if agency is not None and context.catalogue.agency(agency) is None:
        return render_notice(request, t("display_title"), t("not_found"), 404)
    calls = [
        {
            "number": ticket.number,
            "counter": ticket.counter or "",
            "service": service.name.in_language(t.language) if service else ticket.service_code,
            "at": t.clock(ticket.called_at),
            "audio": announcement_url(ticket.number),
            "key": f"{ticket.number}@{ticket.called_at.isoformat() if ticket.called_at else ''}",
        }
        for ticket in await context.queue.recent_calls(context.settings.display_recent_calls + 1, agency)
        for service in [context.catalogue.service(ticket.service_code)]
    ]
    where = agency_name(context, agency, t.language) if agency else t("display_all")
    return render_page(
        request,
        "display.html",
        title=t("display_title"),
        refresh=context.settings.display_refresh_seconds,
        script=SCRIPT,
        headers=DISPLAY_HEADERS,
        subtitle=t("display_updated", where=where, time=t.clock(context.queue.now())),
        latest=calls[0] if calls else None,
        recent=calls[1:],
    )


@router.get("/display/announcements/{number}.wav")
async def announcement_audio(number: str, request: Request) -> Response:
    """The spoken call of today's ticket ``number`` to its counter: Indonesian ("Nomor antrean A-012, silakan ke
    loket 3"), then English where ``MALL_DISPLAY_ANNOUNCE_ENGLISH`` is set; 404 for a number not called today, 503
    when the synthesizer cannot speak now."""
    context = page_context(request)
    try:
        ticket = await context.queue.called_today(number)
    except TicketNotFound as unknown:
        raise Problem(404, "not-found", f"No ticket {number} was called today.") from unknown
    languages: list[Language] = ["id", "en"] if context.settings.display_announce_english else ["id"]
    phrases = [announcement(ticket.number, ticket.counter or "", language) for language in languages]
    try:
        audio = await context.announcer.wav(phrases)
    except AnnouncementUnavailable as silent:
        raise Problem(503, "announcement-unavailable", f"The call cannot be spoken now: {silent}.") from silent
    return Response(
        audio,
        media_type="audio/wav",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


@cache
def _script() -> str:
    return files(PACKAGE).joinpath("static/display.js").read_text(encoding="utf-8")


@router.get(SCRIPT)
async def display_script() -> Response:
    """The display's script, read once; browsers keep it an hour."""
    return Response(
        _script(),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
