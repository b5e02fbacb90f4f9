"""The counter clerk's page: find a bill by its billing code (typed, or scanned into the field), see what it is for
and where it stands, and record the cash or card payment taken for it against the receipt handed out. Recording is
the API's use case (:meth:`ConfirmationService.at_counter`): the bill is paid and ``payment.confirmed`` names the
clerk as its actor (the audit record); a refusal records nothing and is shown beside the field at fault."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from satupintu.common.auth import Principal
from satupintu.common.web.csrf import CsrfField
from satupintu.payment.domain import AmountMismatch, BillNotFound, BillNotOpen, BillStatus, ReceiptUsed
from satupintu.payment.i18n import Translator
from satupintu.payment.schemas import CounterPaymentCreate
from satupintu.payment.storage.tables import BillRecord
from satupintu.payment.web.staff_session import (
    COUNTER_ROLES,
    agency_name,
    page_context,
    render_notice,
    render_staff_page,
    staff,
    staff_form,
    staff_redirect,
    translator,
)

router = APIRouter(prefix="/staff", include_in_schema=False)
FORBIDDEN = "staff_forbidden_counter"
BILLING_CODE = re.compile(r"^[0-9]{15,20}$")
_AMOUNT_DECORATION = re.compile(r"^(?:rp|idr)|[\s.,]", re.IGNORECASE)


def billing_code_of(text: str) -> str:
    """What the clerk typed or scanned, without the spaces and dashes printed bills group the digits with."""
    return re.sub(r"[\s-]", "", text)[:40]


def amount_of(text: str) -> int | None:
    """Whole rupiah as a clerk may type them (``30000``, ``30.000``, ``Rp30.000``); None when it is not that."""
    digits = _AMOUNT_DECORATION.sub("", text.strip())
    return int(digits) if digits.isdigit() and len(digits) <= 15 else None


def _bill(request: Request, bill: BillRecord, t: Translator) -> dict[str, Any]:
    service = page_context(request).catalogue.service(bill.service_code)
    paid_how = t(f"channel_{bill.channel}", reference=bill.reference or "") if bill.channel else ""
    return {
        "bill_id": bill.bill_id,
        "billing_code": bill.billing_code,
        "service": service.name.in_language(t.language) if service else bill.service_code,
        "agency": agency_name(request, bill.agency, t.language),
        "kind": t.fee_kind(bill.kind),
        "amount": t.money(bill.amount),
        "status": bill.status,
        "status_label": t(f"status_{bill.status}"),
        "billed_at": t.moment(bill.billed_at),
        "expires_at": t.moment(bill.expires_at),
        "paid_at": t.moment(bill.paid_at) if bill.paid_at else "",
        "paid_how": paid_how,
        "open": bill.status == BillStatus.OPEN,
    }


async def _page(
    request: Request,
    principal: Principal,
    *,
    code: str = "",
    bill: BillRecord | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problem: str = "",
    recorded: str = "",
    status_code: int = 200,
) -> Response:
    t = translator(request)
    shown = _bill(request, bill, t) if bill else None
    return render_staff_page(
        request,
        "staff_bills.html",
        title=t("bill_title", code=bill.billing_code) if bill else t("bills_title"),
        principal=principal,
        status_code=status_code,
        code=bill.billing_code if bill else code,
        bill=shown,
        values=values or {"method": "cash", "receipt_number": "", "amount": str(bill.amount) if bill else ""},
        errors=errors or {},
        problem=problem,
        recorded=recorded,
    )


@router.get("/bills")
async def bills(request: Request) -> Response:
    """The billing code field; with ``?code=``, that bill (and the form recording its payment while it is open);
    with ``&recorded=<receipt>`` too, what the clerk just recorded (said only when the bill is paid with it)."""
    found = await staff(request, COUNTER_ROLES, FORBIDDEN)
    if isinstance(found, Response):
        return found
    t = translator(request)
    entered = request.query_params.get("code") or ""
    if not entered.strip():
        return await _page(request, found)
    code = billing_code_of(entered)
    if not BILLING_CODE.match(code):
        errors = {"code": t("billing_code_invalid")}
        return await _page(request, found, code=entered[:40], errors=errors, status_code=422)
    bill = await page_context(request).confirmations.bill_by_code(code)
    if bill is None:
        errors = {"code": t("billing_code_unknown", code=code)}
        return await _page(request, found, code=code, errors=errors, status_code=404)
    receipt = request.query_params.get("recorded") or ""
    recorded = ""
    if receipt and bill.status == BillStatus.PAID and bill.channel == "counter" and bill.reference == receipt:
        recorded = t("recorded", amount=t.money(bill.amount), receipt=receipt)
    return await _page(request, found, bill=bill, recorded=recorded)


_FIELD_ERRORS = {
    "receipt_number": ("receipt_missing", "receipt_invalid"),
    "method": ("method_missing", "method_missing"),
    "amount": ("amount_invalid", "amount_invalid"),
}


def _errors_of(invalid: ValidationError, values: dict[str, str], t: Translator) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in invalid.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        if field in _FIELD_ERRORS and field not in errors:
            missing, malformed = _FIELD_ERRORS[field]
            errors[field] = t(missing if not values.get(field, "").strip() else malformed)
    return errors


@router.post("/bills/{bill_id}/counter-payments")
async def record_payment(
    request: Request,
    bill_id: str,
    *,
    receipt_number: Annotated[str, Form(max_length=200)] = "",
    method: Annotated[str, Form(max_length=20)] = "",
    amount: Annotated[str, Form(max_length=40)] = "",
    csrf_token: CsrfField = "",
) -> Response:
    """Record the payment (the API's use case); back to the bill, paid, with what was recorded, or the bill again
    with what to fix beside its field (nothing recorded)."""
    found = await staff_form(request, COUNTER_ROLES, csrf_token, FORBIDDEN)
    if isinstance(found, Response):
        return found
    context, t = page_context(request), translator(request)
    bill = await context.confirmations.bill_by_id(bill_id)
    if bill is None:
        return render_notice(request, t("bills_title"), t("billing_code_unknown", code=bill_id[:40]), 404)
    values = {"receipt_number": receipt_number.strip(), "method": method, "amount": amount.strip()}
    rupiah = amount_of(amount)
    try:
        body = CounterPaymentCreate(
            receipt_number=values["receipt_number"], method=method, amount=rupiah if rupiah is not None else -1
        )
    except ValidationError as invalid:
        errors = _errors_of(invalid, values, t)
        return await _page(request, found, bill=bill, values=values, errors=errors, status_code=422)
    return await _record(request, found, bill, body, values)


async def _record(
    request: Request, clerk: Principal, bill: BillRecord, body: CounterPaymentCreate, values: dict[str, str]
) -> Response:
    context, t = page_context(request), translator(request)
    try:
        await context.confirmations.at_counter(bill.bill_id, body.receipt_number, body.method, body.amount, clerk)
    except BillNotFound:
        return render_notice(request, t("bills_title"), t("billing_code_unknown", code=bill.billing_code), 404)
    except AmountMismatch as wrong:
        errors = {"amount": t("amount_mismatch", billed=t.money(wrong.billed))}
        return await _page(request, clerk, bill=bill, values=values, errors=errors, status_code=422)
    except ReceiptUsed:
        errors = {"receipt_number": t("receipt_used", receipt=body.receipt_number)}
        return await _page(request, clerk, bill=bill, values=values, errors=errors, status_code=409)
    except BillNotOpen:
        now = await context.confirmations.bill_by_id(bill.bill_id) or bill
        problem = t("bill_not_open", status=t(f"status_{now.status}").lower())
        return await _page(request, clerk, bill=now, values=values, problem=problem, status_code=409)
    query = urlencode({"code": bill.billing_code, "recorded": body.receipt_number})
    return staff_redirect(request, "/staff/bills", query)
