"""The printed slips as PDFs for the 80 mm thermal printers (decision 0035): the kiosk's ticket (``Cetak tiket`` on
the ticket page opens it; printing it is the kiosk browser's business) and the application receipt a signed-in clerk
prints after an assisted submission (the clerk's screen links to it)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from satupintu.mall.domain import ApplicationNotKnown, NotYourCounter, TicketNotFound
from satupintu.mall.web.rendering import page_context, render_notice, translator
from satupintu.mall.web.staff_session import COUNTER_ROLES, staff

router = APIRouter(include_in_schema=False)


def pdf_response(content: bytes, filename: str) -> Response:
    """A PDF shown in the browser (``inline``: the kiosk's or the counter's browser prints it), cached nowhere."""
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def receipt_path(tracking_code: str) -> str:
    """Where a signed-in clerk prints the receipt of the application ``tracking_code``."""
    return f"/staff/receipts/{tracking_code}.pdf"


@router.get("/kiosk/tickets/{ticket_id}/print.pdf")
async def printed_ticket(ticket_id: str, request: Request) -> Response:
    """The ticket for the kiosk's 80 mm printer: number, service, time taken, the wait expected and a QR code to the
    ticket's page. Anyone holding the ticket's id may print it again; it names no one."""
    t = translator(request)
    try:
        content = await page_context(request).printing.ticket(ticket_id, t.language)
    except TicketNotFound:
        return render_notice(request, t("ticket_title"), t("not_found"), 404)
    return pdf_response(content, f"tiket-{ticket_id}.pdf")


@router.get("/staff/receipts/{tracking_code}.pdf")
async def printed_receipt(tracking_code: str, request: Request) -> Response:
    """The application receipt for the counter's 80 mm printer: the tracking code as text and QR code (to intake's
    tracking page), the service, the agency, when it was submitted and the linked ticket's number. For a signed-in
    officer of the agency serving it, or an operator."""
    found = await staff(request, COUNTER_ROLES)
    if isinstance(found, Response):
        return found
    t = translator(request)
    try:
        content = await page_context(request).printing.receipt(tracking_code, found, t.language)
    except ApplicationNotKnown:
        return render_notice(request, t("receipt_title"), t("receipt_not_known", code=tracking_code), 404)
    except NotYourCounter:
        return render_notice(request, t("receipt_title"), t("receipt_not_yours"), 403)
    return pdf_response(content, f"tanda-terima-{tracking_code}.pdf")
