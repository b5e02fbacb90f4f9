"""The day's reconciliation as a page for officers, auditors and operators: the figures of ``GET /reconciliation``
(the same use case, shaped by the same :class:`ReconciliationRead`), in rupiah as people write them, with a day
picker (a GET form)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from satupintu.payment.domain import WIB
from satupintu.payment.i18n import Translator
from satupintu.payment.schemas import ReconciliationRead, Total
from satupintu.payment.web.staff_session import (
    RECONCILING_ROLES,
    agency_name,
    page_context,
    render_staff_page,
    staff,
    translator,
)

router = APIRouter(prefix="/staff", include_in_schema=False)


def _line(key: str, total: Total, t: Translator, *, detail: bool = False) -> dict[str, Any]:
    return {"key": key, "label": t(key), "count": total.count, "amount": t.money(total.amount), "detail": detail}


def _figures(request: Request, report: ReconciliationRead, t: Translator) -> dict[str, Any]:
    return {
        "lines": [
            _line("issued", report.issued, t),
            _line("paid", report.paid, t),
            *[
                _line(f"paid_{channel}", report.paid.by_channel[channel], t, detail=True)
                for channel in ("gateway", "counter")
            ],
            _line("expired", report.expired, t),
            _line("cancelled", report.cancelled, t),
        ],
        "by_fee": [
            {
                "agency": agency_name(request, fee.agency, t.language),
                "kind": t.fee_kind(fee.kind),
                "cells": [
                    {"count": total.count, "amount": t.money(total.amount)}
                    for total in (fee.issued, fee.paid, fee.expired, fee.cancelled)
                ],
            }
            for fee in report.by_fee
        ],
        "unmatched": [
            {
                "channel": t(f"channel_name_{payment.channel}"),
                "provider": payment.provider,
                "reference": payment.transaction_id,
                "billing_code": payment.billing_code,
                "amount": t.money(payment.amount),
                "reason": t(f"reason_{payment.reason}") if t.has(f"reason_{payment.reason}") else payment.reason,
                "paid_at": t.moment(payment.paid_at),
            }
            for payment in report.unmatched.confirmations
        ],
        "unmatched_total": _line("unmatched", report.unmatched, t),
    }


@router.get("/reconciliation")
async def reconciliation_page(request: Request) -> Response:
    """One day's (WIB; ``?day=YYYY-MM-DD``, today by default) bills issued, paid (per channel), expired and
    cancelled, per agency and fee kind, and the payments that settled no open bill."""
    found = await staff(request, RECONCILING_ROLES, "staff_forbidden_reconciliation")
    if isinstance(found, Response):
        return found
    confirmations, t = page_context(request).confirmations, translator(request)
    asked = (request.query_params.get("day") or "").strip()[:20]
    today = confirmations.now().astimezone(WIB).date()
    try:
        day = date.fromisoformat(asked) if asked else today
    except ValueError:
        return render_staff_page(
            request,
            "staff_reconciliation.html",
            title=t("reconciliation_title"),
            principal=found,
            status_code=422,
            day=asked,
            day_error=t("day_invalid"),
            figures=None,
            lead="",
        )
    report = ReconciliationRead.of(await confirmations.reconciliation(day))
    return render_staff_page(
        request,
        "staff_reconciliation.html",
        title=t("reconciliation_title"),
        principal=found,
        day=day.isoformat(),
        day_error="",
        figures=_figures(request, report, t),
        lead=t("reconciliation_lead", day=day.isoformat()),
    )
