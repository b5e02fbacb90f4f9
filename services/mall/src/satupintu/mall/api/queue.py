"""``/queue``: take a number (kiosk), see a ticket, and the officers' calls: next, served, no-show, link."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from satupintu.common.auth import Principal, Role, require_roles
from satupintu.common.problems import Problem, documented_problems
from satupintu.mall.api.dependencies import mall
from satupintu.mall.api.limits import RATE_LIMITED, WriteGroup, limit
from satupintu.mall.domain import UnknownService
from satupintu.mall.factory import MallContext
from satupintu.mall.schemas import CallNext, QueueRead, TicketCreate, TicketLink, TicketRead
from satupintu.mall.services.queue import TicketView
from satupintu.mall.storage.tables import TicketRecord

router = APIRouter(prefix="/queue", tags=["queue"])
Counter = Annotated[Principal, Depends(require_roles(Role.OFFICER, Role.OPERATOR))]
Context = Annotated[MallContext, Depends(mall)]


def ticket_read(context: MallContext, view: TicketView) -> TicketRead:
    """The JSON form of a ticket."""
    ticket = view.ticket
    service = context.catalogue.service(ticket.service_code)
    track_url = (
        f"{context.settings.intake_url.rstrip('/')}/track/{ticket.tracking_code}" if ticket.tracking_code else None
    )
    return TicketRead(
        ticket_id=ticket.ticket_id,
        number=ticket.number,
        service_code=ticket.service_code,
        service_name=service.name.id if service else ticket.service_code,
        agency=ticket.agency,
        day=ticket.day,
        state=ticket.state,
        counter=ticket.counter,
        waiting_ahead=view.waiting_ahead,
        estimated_wait_minutes=view.estimated_wait_minutes,
        issued_at=ticket.issued_at,
        called_at=ticket.called_at,
        finished_at=ticket.finished_at,
        tracking_code=ticket.tracking_code,
        track_url=track_url,
        priority=ticket.priority,
    )


def _finished(context: MallContext, ticket: TicketRecord) -> TicketRead:
    return ticket_read(context, TicketView(ticket, 0, 0))


_TICKET_STEP = documented_problems({404: "No such ticket.", 409: "The ticket is not in a state that allows this step."})


@router.post(
    "/tickets",
    status_code=201,
    summary="Take a queue number for a service",
    dependencies=[Depends(limit(WriteGroup.KIOSK))],
    responses=RATE_LIMITED,
)
async def issue_ticket(body: TicketCreate, context: Context) -> TicketRead:
    """Issue the service's next number today (e.g. `PBG-017`) with the wait expected from the counters' live rate."""
    try:
        view = await context.queue.issue(body.service_code, priority=body.priority)
    except UnknownService as unknown:
        raise Problem(
            422,
            "validation-error",
            "The request is not valid; see `errors` for each field.",
            errors=[{"field": "service_code", "message": f"unknown service {unknown}", "code": "unknown"}],
        ) from unknown
    return ticket_read(context, view)


@router.get(
    "/tickets/{ticket_id}",
    summary="A ticket now: visitors ahead and the wait still expected",
    responses=documented_problems({404: "No such ticket."}),
)
async def read_ticket(ticket_id: str, context: Context) -> TicketRead:
    """The ticket, with the visitors still ahead of it and its estimated wait recomputed now."""
    return ticket_read(context, await context.queue.view(ticket_id))


@router.get("/today", summary="Today's queue per service")
async def today(context: Context) -> list[QueueRead]:
    """Waiting, called, served and no-show tickets per service today, with waits in minutes."""
    return await context.board.queue()


@router.post(
    "/services/{service_code}/call",
    summary="Call the next visitor to a counter",
    responses=documented_problems({404: "No such service.", 409: "Nobody is waiting for the service today."}),
)
async def call_next(service_code: str, body: CallNext, principal: Counter, context: Context) -> TicketRead:
    """Call the service's longest-waiting visitor to the officer's counter (officers of the service's agency)."""
    return ticket_read(context, await context.queue.call_next(service_code, body.counter, principal))


@router.post(
    "/tickets/{ticket_id}/served",
    summary="The called visitor was served",
    responses=_TICKET_STEP,
)
async def served(ticket_id: str, principal: Counter, context: Context) -> TicketRead:
    """Mark a called ticket served."""
    return _finished(context, await context.queue.serve(ticket_id, principal))


@router.post(
    "/tickets/{ticket_id}/no-show",
    summary="The called visitor did not come",
    responses=_TICKET_STEP,
)
async def no_show(ticket_id: str, principal: Counter, context: Context) -> TicketRead:
    """Mark a called ticket a no-show."""
    return _finished(context, await context.queue.no_show(ticket_id, principal))


@router.post(
    "/tickets/{ticket_id}/priority",
    summary="Give a waiting ticket priority",
    responses=documented_problems({404: "No such ticket.", 409: "The ticket is no longer waiting."}),
)
async def priority(ticket_id: str, principal: Counter, context: Context) -> TicketRead:
    """The clerk marks a waiting visitor as priority (elderly, disabled, pregnant, with a small child); 409 once
    called."""
    await context.queue.mark_priority(ticket_id, principal)
    return ticket_read(context, await context.queue.view(ticket_id))


@router.post(
    "/tickets/{ticket_id}/link",
    summary="Link a ticket to the application submitted at the counter",
    responses=_TICKET_STEP,
)
async def link(ticket_id: str, body: TicketLink, principal: Counter, context: Context) -> TicketRead:
    """The visitor then follows the application with its tracking code from the ticket's page."""
    return _finished(context, await context.queue.link(ticket_id, body.tracking_code, principal))
