"""The bills, for the citizen's pages: by bill id, its QR code image, and an application's bill. Bill ids are
uuid5s of a random application id and application ids are random: whoever holds one may read its bill, which holds
no personal data, so these need no sign-in."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.problems import Problem, documented_problems
from satupintu.payment import qris
from satupintu.payment.schemas import BillRead
from satupintu.payment.storage.repository import BillRepository
from satupintu.payment.storage.tables import BillRecord

router = APIRouter(tags=["bills"])
NOT_FOUND = documented_problems({404: "No such bill."})
QR_CODE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/png": {}}, "description": "The bill's QRIS payload as a QR code."},
    **NOT_FOUND,
}


def _sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    sessions: async_sessionmaker[AsyncSession] = request.app.state.runtime.sessions
    return sessions


def _found(bill: BillRecord | None, what: str) -> BillRecord:
    if bill is None:
        raise Problem(404, "not-found", f"There is no bill {what}.")
    return bill


@router.get("/bills/{bill_id}", response_model=BillRead, responses=NOT_FOUND)
async def read_bill(bill_id: str, request: Request) -> BillRead:
    """The bill ``bill_id``: amount, kind, payee agency, service, billing code, status, expiry and QRIS payload."""
    async with _sessions(request)() as session:
        bill = _found(await BillRepository(session).by_id(bill_id), bill_id)
    return BillRead.of(bill)


@router.get(
    "/bills/{bill_id}/qris.png",
    response_class=Response,
    responses=QR_CODE,
)
async def read_bill_qr_code(bill_id: str, request: Request) -> Response:
    """The QR code of the bill's dynamic QRIS payload, what the citizen's banking app scans."""
    async with _sessions(request)() as session:
        bill = _found(await BillRepository(session).by_id(bill_id), bill_id)
    return Response(qris.qr_png(bill.qris_payload), media_type="image/png", headers={"Cache-Control": "no-store"})


@router.get("/applications/{application_id}/bill", response_model=BillRead, responses=NOT_FOUND)
async def read_application_bill(application_id: str, request: Request) -> BillRead:
    """The bill of application ``application_id`` (404 while it has none: no fee, or not billed yet)."""
    async with _sessions(request)() as session:
        bill = _found(await BillRepository(session).of_application(application_id), f"for application {application_id}")
    return BillRead.of(bill)
