"""``POST /payments/callbacks/{provider}``: a payment gateway says a billing code was paid. The callback is
verified first (``X-Callback-Signature``, ``X-Callback-Timestamp``; :mod:`satupintu.payment.signatures`) with the
provider's shared secret: a refusal answers 401, changes nothing and is audited. A verified callback is recorded
once per provider and transaction id and answered 200 whatever it matched, so the gateway stops retrying."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from satupintu.common.problems import Problem, documented_problems
from satupintu.payment import signatures
from satupintu.payment.api.dependencies import payment
from satupintu.payment.factory import PaymentContext
from satupintu.payment.schemas import ConfirmationRead, GatewayCallback
from satupintu.payment.services import Payment

router = APIRouter(tags=["confirmations"])
Context = Annotated[PaymentContext, Depends(payment)]
MAX_BODY_BYTES = 16_384
CALLBACK_PROBLEMS = documented_problems(
    {
        401: "The signature or timestamp is missing, wrong, or outside the tolerance: nothing changed; audited.",
        404: "No such provider.",
        413: "The body is larger than a callback can be.",
        422: "A verified callback whose body is not valid (`errors[].field` names the field: a fractional or "
        "quoted `amount`, a malformed `billing_code`, a `paid_at` without its time zone).",
    }
)
CALLBACK_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": GatewayCallback.model_json_schema()}},
    },
    "parameters": [
        {
            "name": signatures.SIGNATURE_HEADER,
            "in": "header",
            "required": True,
            "schema": {"type": "string"},
            "description": 'Hex HMAC-SHA256, with the provider\'s secret, of `"<timestamp>."` and the raw body.',
        },
        {
            "name": signatures.TIMESTAMP_HEADER,
            "in": "header",
            "required": True,
            "schema": {"type": "string"},
            "description": "Unix seconds the callback was signed at (within the tolerance of our clock).",
        },
    ],
}


@router.post(
    "/payments/callbacks/{provider}",
    response_model=ConfirmationRead,
    responses=CALLBACK_PROBLEMS,
    openapi_extra=CALLBACK_BODY,
    summary="A payment gateway's signed callback",
)
async def gateway_callback(provider: str, request: Request, context: Context) -> ConfirmationRead:
    """Verify the callback, then confirm the bill its billing code names when it is open and the amount is its own
    (`outcome: confirmed`, `payment.confirmed`); otherwise keep it for reconciliation (`outcome: unmatched` and the
    `reason`), changing nothing else. The same transaction id again answers the same."""
    secret = context.settings.callback_secrets.get(provider)
    if secret is None:
        raise Problem(404, "not-found", f"There is no payment provider {provider!r}.")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise Problem(413, "payload-too-large", f"A callback's body is at most {MAX_BODY_BYTES} bytes.")
    try:
        signatures.verify(
            secret,
            request.headers.get(signatures.SIGNATURE_HEADER),
            request.headers.get(signatures.TIMESTAMP_HEADER),
            body,
            now=context.confirmations.now(),
            tolerance=context.callback_tolerance,
        )
    except signatures.CallbackRefused as refused:
        caller = request.client.host if request.client else "unknown"
        await context.confirmations.refused(provider, caller, f"{type(refused).__name__}: {refused}")
        raise Problem(401, "callback-refused", f"The callback was refused: {refused}. Nothing changed.") from refused
    try:
        callback = GatewayCallback.model_validate_json(body)
    except ValidationError as invalid:
        errors = [{**error, "loc": ("body", *error["loc"])} for error in invalid.errors(include_input=False)]
        raise RequestValidationError(errors) from invalid
    recorded = await context.confirmations.from_gateway(
        Payment(
            channel="gateway",
            source=provider,
            reference=callback.transaction_id,
            billing_code=callback.billing_code,
            amount=callback.amount,
            paid_at=callback.paid_at,
            actor=f"gateway:{provider}",
        )
    )
    return ConfirmationRead.of(recorded.confirmation)
