"""Fees (PNBP for central agencies, retribusi for regional ones), on the ``applications`` topic (key: application
id, so an application's bill and its payment keep their order with its lifecycle): the payment service bills an
application whose service has a fee, and says when it was paid, when the bill is about to expire and when it expired.
Routing holds the application where the catalogue says the fee must be paid until ``payment.confirmed``, and cancels
it on ``payment.expired``. Amounts are whole rupiah, never fractions."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from satupintu.contract.base import EventPayload
from satupintu.contract.topics import Topic

FeeKind = Literal["pnbp", "retribusi"]
"""PNBP: a central agency's non-tax revenue (billing codes from SIMPONI); retribusi: a region's levy (codes from the
region's own system)."""
PaymentChannel = Literal["gateway", "counter"]
"""Where the money moved: a payment gateway's callback (QRIS, transfer) or a cash or card payment at the counter."""


class _PaymentEvent(EventPayload):
    topic: ClassVar[Topic] = Topic.APPLICATIONS

    application_id: str = Field(description="The application the bill is for; also the Kafka key.")
    bill_id: str = Field(description="The bill's id in the payment service.")
    billing_code: str = Field(
        pattern=r"^[0-9]{15,20}$", description="The billing code the citizen pays with (SIMPONI's or the region's)."
    )


class PaymentBilled(_PaymentEvent):
    """An application's fee was billed: what to pay, how (billing code, QRIS) and by when."""

    event_type: ClassVar[str] = "payment.billed"

    service_code: str = Field(description="The catalogue service the fee is for.")
    agency: str = Field(description="Lower-case code of the agency the fee is paid to.")
    kind: FeeKind = Field(description="`pnbp` or `retribusi`.")
    amount: int = Field(ge=1, description="What to pay, in whole rupiah.")
    currency: Literal["IDR"] = Field(default="IDR", description="Always rupiah.")
    qris: str = Field(
        min_length=1,
        max_length=512,
        description="The dynamic QRIS payload for the amount (EMVCo merchant-presented: the billing code in tag 62, "
        "CRC-16/CCITT-FALSE in tag 63): what the citizen's banking app scans.",
    )
    pay_before_stage: int = Field(
        ge=0, description="The workflow stage that waits for the payment (0: before any agency starts)."
    )
    expires_at: datetime = Field(description="When the bill expires unpaid, and the application is cancelled.")
    billed_at: datetime = Field(description="When the bill was issued.")


class PaymentConfirmed(_PaymentEvent):
    """The bill was paid in full: the application goes on."""

    event_type: ClassVar[str] = "payment.confirmed"

    amount: int = Field(ge=1, description="What was paid, in whole rupiah (the bill's amount).")
    channel: PaymentChannel = Field(description="`gateway` or `counter`.")
    reference: str = Field(
        min_length=1,
        max_length=100,
        description="The gateway's transaction id, or the counter's receipt number: unique per channel.",
    )
    paid_at: datetime = Field(description="When the money moved, as the gateway or the counter says.")
    confirmed_at: datetime = Field(description="When the payment service confirmed it.")


class PaymentExpiring(_PaymentEvent):
    """The bill is still unpaid and expires soon: the citizen is reminded."""

    event_type: ClassVar[str] = "payment.expiring"

    amount: int = Field(ge=1, description="What to pay, in whole rupiah.")
    expires_at: datetime = Field(description="When the bill expires.")


class PaymentExpired(_PaymentEvent):
    """The bill expired unpaid: routing cancels the application; the citizen is told."""

    event_type: ClassVar[str] = "payment.expired"

    expired_at: datetime = Field(description="When it expired.")


class PaymentCancelled(_PaymentEvent):
    """The bill was withdrawn unpaid because its application ended without it (rejected or cancelled): nothing is
    owed any more, and a later payment of it is kept for reconciliation (a refund) without changing the
    application."""

    event_type: ClassVar[str] = "payment.cancelled"

    reason: Literal["application_rejected", "application_cancelled"] = Field(
        description="Why: the application was rejected by an agency, or cancelled."
    )
    cancelled_at: datetime = Field(description="When the bill was withdrawn.")
