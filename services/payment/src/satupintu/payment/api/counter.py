"""``POST /bills/{bill_id}/counter-payments``: a clerk signed in as an officer records a cash or card payment taken
at the counter against the receipt they handed out. The bill is paid (``payment.confirmed``, channel ``counter``,
the receipt number as reference, the clerk as the event's actor: that is the audit record)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from satupintu.common.auth import Principal, Role, require_roles
from satupintu.common.problems import documented_problems
from satupintu.payment.api.dependencies import payment
from satupintu.payment.factory import PaymentContext
from satupintu.payment.schemas import ConfirmationRead, CounterPaymentCreate

router = APIRouter(tags=["confirmations"])
Context = Annotated[PaymentContext, Depends(payment)]
Clerk = Annotated[Principal, Depends(require_roles(Role.OFFICER))]
REPLAYED: dict[int | str, dict[str, Any]] = {
    200: {"description": "The same receipt for the same bill again: what was recorded then."}
}
COUNTER_PROBLEMS = documented_problems(
    {
        401: "No valid bearer token.",
        403: "The token is not an officer's (the mall's counter staff sign in as officers).",
        404: "No such bill.",
        409: "The bill is paid, expired or cancelled, or the receipt number was given for another bill at this "
        "counter: nothing recorded.",
        422: "The amount is not the bill's, or a field is missing or malformed (`errors[].field` names it).",
    }
)


@router.post(
    "/bills/{bill_id}/counter-payments",
    response_model=ConfirmationRead,
    status_code=201,
    responses=REPLAYED | COUNTER_PROBLEMS,
    summary="A clerk records a cash or card payment taken at the counter",
)
async def record_counter_payment(
    bill_id: str, body: CounterPaymentCreate, clerk: Clerk, context: Context, response: Response
) -> ConfirmationRead:
    """The bill is paid for exactly its amount against `receipt_number` (unique at the clerk's agency's counter):
    `payment.confirmed` with channel `counter`. The same receipt for the same bill again answers 200 with what was
    recorded, and publishes nothing more."""
    recorded = await context.confirmations.at_counter(bill_id, body.receipt_number, body.method, body.amount, clerk)
    if recorded.replayed:
        response.status_code = 200
    return ConfirmationRead.of(recorded.confirmation)
