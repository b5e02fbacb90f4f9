"""Payment's HTTP endpoints, and how its domain errors are answered (RFC 9457 problem+json, with the field path
where a field is at fault)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from satupintu.common.problems import problem_response
from satupintu.payment.domain import AmountMismatch, BillNotFound, BillNotOpen, ReceiptUsed


def install_domain_problems(app: FastAPI) -> None:
    """Answer the counter's refusals: no such bill 404, a bill not open 409, a receipt number used for another bill
    409 (naming ``receipt_number``), an amount that is not the bill's 422 (naming ``amount``)."""

    async def not_found(request: Request, error: Exception) -> JSONResponse:
        return problem_response(request, 404, "not-found", f"There is no bill {error}.")

    async def not_open(request: Request, error: Exception) -> JSONResponse:
        return problem_response(
            request, 409, "bill-not-open", f"{str(error)[0].upper()}{str(error)[1:]}: nothing was recorded."
        )

    async def receipt_used(request: Request, error: Exception) -> JSONResponse:
        return problem_response(
            request,
            409,
            "receipt-used",
            f"Receipt {error} was recorded already at this counter for another bill; nothing was recorded.",
            errors=[{"field": "receipt_number", "message": "already used for another bill", "code": "duplicate"}],
        )

    async def wrong_amount(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, AmountMismatch)
        return problem_response(
            request,
            422,
            "validation-error",
            "The amount is not the bill's; nothing was recorded.",
            errors=[{"field": "amount", "message": str(error), "code": "amount_mismatch"}],
            extensions={"billed": error.billed},
        )

    app.add_exception_handler(BillNotFound, not_found)
    app.add_exception_handler(BillNotOpen, not_open)
    app.add_exception_handler(ReceiptUsed, receipt_used)
    app.add_exception_handler(AmountMismatch, wrong_amount)
