"""``GET /reconciliation?day=YYYY-MM-DD``: one day's (WIB) bills issued, paid (per channel, and the total received),
expired and cancelled, per agency and fee kind too, and the payments that matched no open bill, for staff who
reconcile them with the gateways' settlement reports and the counters' cash."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from satupintu.common.auth import Principal, Role, require_roles
from satupintu.common.problems import documented_problems
from satupintu.payment.api.dependencies import payment
from satupintu.payment.domain import WIB
from satupintu.payment.factory import PaymentContext
from satupintu.payment.schemas import ReconciliationRead

router = APIRouter(tags=["reconciliation"])
Context = Annotated[PaymentContext, Depends(payment)]
Reconciler = Annotated[Principal, Depends(require_roles(Role.AUDITOR, Role.OPERATOR, Role.OFFICER))]


@router.get(
    "/reconciliation",
    response_model=ReconciliationRead,
    responses=documented_problems({401: "No valid bearer token.", 403: "Not an auditor, operator or officer."}),
    summary="One day's bills and payments, and the payments that matched no bill",
)
async def reconciliation(
    _: Reconciler,
    context: Context,
    day: Annotated[
        date | None, Query(description="The day, YYYY-MM-DD, in WIB (Asia/Jakarta); today by default.")
    ] = None,
) -> ReconciliationRead:
    """Bills issued, paid (when the money moved; per channel), expired and cancelled that day, per agency and fee
    kind, and every payment of that day that matched no open bill (provider, transaction id, billing code, amount,
    reason)."""
    figures = await context.confirmations.reconciliation(day or context.confirmations.now().astimezone(WIB).date())
    return ReconciliationRead.of(figures)
