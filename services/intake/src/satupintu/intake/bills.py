"""Applications' fees, as intake keeps them for the tracking page: ``payment.billed`` recorded once (a repeat changes
nothing), and its fate from ``payment.confirmed`` (paid, with the channel and reference), ``payment.expired`` and
``payment.cancelled``, each applied once (inbox) and only to a bill still awaiting payment; the bill as the tracking
page and API show it; and its QRIS code drawn as a PNG (segno), served only while the bill is still to pay."""

from __future__ import annotations

import io
import logging
from typing import Any

import segno
from sqlalchemy.ext.asyncio import AsyncSession

from satupintu.common.catalogue import Catalogue
from satupintu.common.clock import Clock, utc_now
from satupintu.common.consumer import UnitOfWork
from satupintu.contract.envelope import Event
from satupintu.contract.payments import PaymentBilled, PaymentCancelled, PaymentConfirmed, PaymentExpired
from satupintu.intake.schemas import BillStatus
from satupintu.intake.storage.repository import BillRepository, StatusRepository
from satupintu.intake.storage.tables import BillRecord, TimelineEntry

AWAITING_PAYMENT = "awaiting_payment"
QRIS_PNG_PATH = "/applications/{tracking_code}/bill/qris.png"
"""Where the QRIS code of an application's open bill is, by tracking code (like the application's status)."""
_logger = logging.getLogger(__name__)


class Bills:
    """Records what the payment service bills and what becomes of each bill."""

    def __init__(self, clock: Clock = utc_now) -> None:
        self._clock = clock

    async def on_billed(self, uow: UnitOfWork, event: Event[PaymentBilled]) -> None:
        """A fee was billed: the tracking page shows what to pay, the QRIS code and the deadline."""
        billed = event.payload
        if await StatusRepository(uow.session).application(billed.application_id) is None:
            _logger.info("ignoring a bill for an application intake does not know")
            return
        recorded = await BillRepository(uow.session).record_bill(
            BillRecord(
                bill_id=billed.bill_id,
                application_id=billed.application_id,
                service_code=billed.service_code,
                agency=billed.agency,
                kind=billed.kind,
                amount=billed.amount,
                billing_code=billed.billing_code,
                qris=billed.qris,
                pay_before_stage=billed.pay_before_stage,
                state=AWAITING_PAYMENT,
                billed_at=billed.billed_at,
                expires_at=billed.expires_at,
                updated_at=self._clock(),
            )
        )
        if recorded:
            _timeline(uow, event, billed.agency, {})
        else:
            _logger.info("bill %s was recorded before; kept as it was", billed.bill_id)

    async def on_confirmed(self, uow: UnitOfWork, event: Event[PaymentConfirmed]) -> None:
        """The fee was paid: the page says so, with the date and the reference."""
        paid = event.payload
        bill = await self._open_bill(uow, event, paid.bill_id)
        if bill is not None:
            bill.state, bill.paid_at, bill.channel, bill.reference = "paid", paid.paid_at, paid.channel, paid.reference
            bill.updated_at = self._clock()
            _timeline(uow, event, bill.agency, {})

    async def on_expired(self, uow: UnitOfWork, event: Event[PaymentExpired]) -> None:
        """The bill ran out unpaid (routing cancels the application)."""
        await self._end(uow, event, event.payload.bill_id, "expired", event.payload.expired_at)

    async def on_cancelled(self, uow: UnitOfWork, event: Event[PaymentCancelled]) -> None:
        """The bill was withdrawn: its application ended without it (rejected or cancelled)."""
        await self._end(uow, event, event.payload.bill_id, "cancelled", event.payload.cancelled_at)

    async def _end(self, uow: UnitOfWork, event: Event[Any], bill_id: str, state: str, at: Any) -> None:
        bill = await self._open_bill(uow, event, bill_id)
        if bill is not None:
            bill.state, bill.ended_at, bill.updated_at = state, at, self._clock()
            _timeline(uow, event, bill.agency, {})

    async def _open_bill(self, uow: UnitOfWork, event: Event[Any], bill_id: str) -> BillRecord | None:
        """The bill ``event`` is about, when it is recorded here and still awaiting payment (its fate is told once;
        a later word on a settled bill changes nothing)."""
        bill = await BillRepository(uow.session).bill(bill_id)
        if bill is None:
            _logger.info("ignoring %s for a bill intake does not know", event.type)
            return None
        if bill.state != AWAITING_PAYMENT:
            _logger.warning("ignoring %s for bill %s, which is %s already", event.type, bill_id, bill.state)
            return None
        return bill


def _timeline(uow: UnitOfWork, event: Event[Any], agency: str | None, detail: dict[str, Any]) -> None:
    StatusRepository(uow.session).add(
        TimelineEntry(
            application_id=event.subject,
            event_id=event.id,
            kind=event.type,
            agency=agency,
            at=event.time,
            detail=detail,
        )
    )


async def bill_of(
    session: AsyncSession, application_id: str, tracking_code: str, catalogue: Catalogue
) -> BillStatus | None:
    """The application's latest bill as the tracking page and API show it; None when it has none."""
    bill = await BillRepository(session).latest_of(application_id)
    if bill is None:
        return None
    agency = catalogue.agency(bill.agency)
    awaiting = bill.state == AWAITING_PAYMENT
    return BillStatus.model_validate(
        {
            "kind": bill.kind,
            "agency": bill.agency,
            "agency_name": agency.name.model_dump() if agency else {"id": bill.agency, "en": bill.agency},
            "amount": bill.amount,
            "billing_code": bill.billing_code,
            "qris": bill.qris,
            "qris_png": QRIS_PNG_PATH.format(tracking_code=tracking_code) if awaiting else None,
            "status": bill.state,
            "pay_before_stage": bill.pay_before_stage,
            "billed_at": bill.billed_at,
            "expires_at": bill.expires_at,
            "paid_at": bill.paid_at,
            "channel": bill.channel,
            "reference": bill.reference,
            "ended_at": bill.ended_at,
        }
    )


def qris_png(payload: str) -> bytes:
    """The QRIS payload drawn as a QR code, a PNG a banking app scans from a screen: error correction M (as QRIS
    asks), 8 pixels a module, the standard quiet zone of 4 modules."""
    out = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(out, kind="png", scale=8, border=4)
    return out.getvalue()
