"""Printed slips: the kiosk's queue ticket and the counter's application receipt, as PDFs for the 80 mm thermal
printers (:mod:`satupintu.mall.printing`). Neither prints anything about a person: the ticket shows a number and a
service, the receipt what intake's public tracking page shows without a NIK (code, service, agency, time)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.auth import Principal, Role
from satupintu.common.catalogue import Catalogue
from satupintu.common.dates import long_time
from satupintu.mall.domain import ApplicationNotKnown, NotYourCounter, TicketState
from satupintu.mall.i18n import Translator
from satupintu.mall.printing import Slip, render_slip
from satupintu.mall.services.queue import QueueService
from satupintu.mall.storage.repository import ApplicationRepository, TicketRepository


@dataclass(frozen=True)
class PrintingLinks:
    """Where the slips' QR codes lead: the mall's own ticket page and intake's public tracking page."""

    mall_url: str
    intake_url: str

    def ticket(self, ticket_id: str) -> str:
        """The ticket's live status page at the mall."""
        return f"{self.mall_url.rstrip('/')}/kiosk/tickets/{ticket_id}"

    def tracking(self, tracking_code: str) -> str:
        """The application's public tracking page at intake."""
        return f"{self.intake_url.rstrip('/')}/track/{tracking_code}"


class PrintingService:
    """Lays out the slips the kiosk and the counters print, in the reader's language, times in the mall's zone."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        catalogue: Catalogue,
        queue: QueueService,
        *,
        links: PrintingLinks,
        timezone: str,
    ) -> None:
        self._sessions = sessions
        self._catalogue = catalogue
        self._queue = queue
        self._links = links
        self._timezone = timezone

    def _service_name(self, service_code: str, language: str) -> str:
        service = self._catalogue.service(service_code)
        return service.name.in_language(language) if service else service_code

    def _agency_name(self, agency: str, language: str) -> str:
        found = self._catalogue.agency(agency)
        return found.name.in_language(language) if found else agency

    async def ticket(self, ticket_id: str, language: str) -> bytes:
        """The queue ticket as the kiosk prints it: number, service, time taken, the wait expected now and a QR code
        to its live status page. :class:`TicketNotFound` for an unknown ticket."""
        view = await self._queue.view(ticket_id)
        ticket, t = view.ticket, Translator(language, self._timezone)
        lines = [
            (t("ticket_service"), self._service_name(ticket.service_code, t.language)),
            (t("print_ticket_taken"), long_time(ticket.issued_at, t.language, self._timezone)),
        ]
        if ticket.state == TicketState.WAITING:
            wait = t("print_ticket_wait", minutes=view.estimated_wait_minutes, ahead=view.waiting_ahead)
            lines.append((t("ticket_estimate"), wait))
        else:
            state = {
                TicketState.CALLED: t("ticket_state_called", counter=ticket.counter or ""),
                TicketState.SERVED: t("ticket_state_served"),
                TicketState.NO_SHOW: t("ticket_state_no_show"),
            }[TicketState(ticket.state)]
            lines.append((t("print_ticket_state"), state))
        return render_slip(
            Slip(
                heading=t("site_name"),
                title=t("print_ticket_title"),
                code=ticket.number,
                lines=tuple(lines),
                link=self._links.ticket(ticket.ticket_id),
                link_caption=t("print_ticket_scan"),
                footer=t("print_ticket_footer"),
                printed_at=ticket.issued_at,
            )
        )

    async def receipt(self, tracking_code: str, principal: Principal, language: str) -> bytes:
        """The application receipt a counter prints after an assisted submission: the tracking code as text and as a
        QR code to intake's tracking page, the service, the agency, when it was submitted and the queue number of
        the ticket linked to it. :class:`ApplicationNotKnown` until the mall has seen ``application.submitted``;
        :class:`NotYourCounter` for an officer of another agency (an operator prints any)."""
        async with self._sessions() as session:
            application = await ApplicationRepository(session).by_tracking_code(tracking_code)
            if application is None:
                raise ApplicationNotKnown(tracking_code)
            ticket = await TicketRepository(session).linked_to(tracking_code)
        if Role.OPERATOR not in principal.roles and principal.agency != application.agency:
            raise NotYourCounter(f"this application is served by {application.agency}")
        t = Translator(language, self._timezone)
        lines = [
            (t("ticket_service"), self._service_name(application.service_code, t.language)),
            (t("receipt_agency"), self._agency_name(application.agency, t.language)),
            (t("receipt_submitted"), long_time(application.submitted_at, t.language, self._timezone)),
        ]
        if ticket is not None:
            lines.append((t("receipt_ticket"), ticket.number))
        return render_slip(
            Slip(
                heading=t("site_name"),
                title=t("receipt_title"),
                code=application.tracking_code,
                lines=tuple(lines),
                link=self._links.tracking(application.tracking_code),
                link_caption=t("receipt_scan"),
                footer=t("receipt_footer"),
                printed_at=application.submitted_at,
            )
        )
