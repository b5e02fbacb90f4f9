"""The queue's pages: the kiosk where a visitor takes a number (or a priority number), and the ticket page that
follows it. The now-calling display over the waiting area is in :mod:`satupintu.mall.web.display`."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from satupintu.common.web.uploads import read_text_form
from satupintu.mall.api.limits import WriteGroup, limit
from satupintu.mall.domain import TicketNotFound, TicketState, UnknownService
from satupintu.mall.web.rendering import agency_name, page_context, render_notice, render_page, see_other, translator

router = APIRouter(tags=["pages"], include_in_schema=False)
_TICKET_REFRESH_SECONDS = 20


@router.get("/kiosk")
async def kiosk(request: Request) -> HTMLResponse:
    """Choose a service and take a number; each shows the wait a number taken now is expected to have."""
    context = page_context(request)
    t = translator(request)
    waiting = {row.service_code: row for row in await context.board.queue()}
    services = []
    for service in context.catalogue.services:
        row = waiting.get(service.code)
        count = row.waiting if row else 0
        services.append(
            {
                "code": service.code,
                "name": service.name.in_language(t.language),
                "agency": agency_name(context, service.agency, t.language),
                "waiting": count,
                "estimate": row.estimated_wait_minutes
                if row
                else await context.queue.estimate_for_new(service.code, 0),
            }
        )
    return render_page(request, "kiosk.html", title=t("kiosk_title"), services=services)


@router.post("/kiosk", dependencies=[Depends(limit(WriteGroup.KIOSK, page=True))])
async def take_number(request: Request) -> Response:
    """Issue a number and show its page."""
    form = await read_text_form(request)
    service_code = str(form.get("service_code") or "")
    priority = form.get("priority") == "1"
    try:
        view = await page_context(request).queue.issue(service_code, priority=priority)
    except UnknownService:
        t = translator(request)
        return render_notice(request, t("kiosk_title"), t("not_found"), 404)
    return see_other(request, f"/kiosk/tickets/{view.ticket.ticket_id}")


@router.get("/kiosk/tickets/{ticket_id}")
async def ticket_page(ticket_id: str, request: Request) -> HTMLResponse:
    """The visitor's number, where it stands, and (once linked) the application to follow."""
    context = page_context(request)
    t = translator(request)
    try:
        view = await context.queue.view(ticket_id)
    except TicketNotFound:
        return render_notice(request, t("ticket_title"), t("not_found"), 404)
    ticket = view.ticket
    service = context.catalogue.service(ticket.service_code)
    state_text = {
        TicketState.WAITING: t("ticket_state_waiting"),
        TicketState.CALLED: t("ticket_state_called", counter=ticket.counter or ""),
        TicketState.SERVED: t("ticket_state_served"),
        TicketState.NO_SHOW: t("ticket_state_no_show"),
    }[TicketState(ticket.state)]
    track_url = (
        f"{context.settings.intake_url.rstrip('/')}/track/{ticket.tracking_code}" if ticket.tracking_code else None
    )
    return render_page(
        request,
        "ticket.html",
        title=t("ticket_title"),
        refresh=_TICKET_REFRESH_SECONDS if ticket.state in (TicketState.WAITING, TicketState.CALLED) else None,
        refresh_seconds=_TICKET_REFRESH_SECONDS,
        ticket=ticket,
        service_name=service.name.in_language(t.language) if service else ticket.service_code,
        waiting=ticket.state == TicketState.WAITING,
        ahead=view.waiting_ahead,
        estimate=view.estimated_wait_minutes,
        state_text=state_text,
        track_url=track_url,
    )
