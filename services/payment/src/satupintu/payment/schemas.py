"""Payment's HTTP requests and answers: a bill as the citizen's pages show it (no personal data), a gateway's
callback and a counter payment, a payment's confirmation, and the day's reconciliation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt

from satupintu.payment.services import DayFigures
from satupintu.payment.storage.repository import Tally
from satupintu.payment.storage.tables import BillRecord, ConfirmationRecord

REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/:-]*$"


class BillRead(BaseModel):
    """A bill: what to pay, to whom, for what, how (billing code, QRIS) and by when."""

    model_config = ConfigDict(frozen=True)

    bill_id: str = Field(description="The bill's id (unguessable).")
    application_id: str = Field(description="The application the bill is for.")
    service_code: str = Field(description="The catalogue service the fee is for.")
    agency: str = Field(description="Lower-case code of the agency the fee is paid to.")
    kind: Literal["pnbp", "retribusi"] = Field(description="`pnbp` or `retribusi`.")
    amount: int = Field(description="What to pay, in whole rupiah.")
    currency: Literal["IDR"] = Field(default="IDR", description="Always rupiah.")
    billing_code: str = Field(description="The billing code the citizen pays with (SIMPONI's or the region's).")
    qris: str = Field(description="The dynamic QRIS payload (EMVCo), also drawn at `qris_png`.")
    qris_png: str = Field(description="Path of the QR code image of `qris`.")
    pay_before_stage: int = Field(description="The workflow stage that waits for the payment (0: the first).")
    status: Literal["open", "paid", "expired", "cancelled"] = Field(description="Where the bill stands.")
    billed_at: datetime = Field(description="When the bill was issued.")
    expires_at: datetime = Field(description="When the bill expires unpaid.")
    paid_at: datetime | None = Field(default=None, description="When it was paid, once paid.")

    @classmethod
    def of(cls, bill: BillRecord) -> BillRead:
        """The answer for ``bill``."""
        return cls(
            bill_id=bill.bill_id,
            application_id=bill.application_id,
            service_code=bill.service_code,
            agency=bill.agency,
            kind=bill.kind,
            amount=bill.amount,
            billing_code=bill.billing_code,
            qris=bill.qris_payload,
            qris_png=f"/bills/{bill.bill_id}/qris.png",
            pay_before_stage=bill.pay_before_stage,
            status=bill.status,
            billed_at=bill.billed_at,
            expires_at=bill.expires_at,
            paid_at=bill.paid_at,
        )


class GatewayCallback(BaseModel):
    """What a payment gateway says was paid (other fields it sends are ignored). The amount is whole rupiah, a JSON
    integer: a fraction or a string is refused."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    transaction_id: str = Field(
        min_length=1, max_length=100, pattern=REFERENCE_PATTERN, description="The gateway's own id of the payment."
    )
    billing_code: str = Field(pattern=r"^[0-9]{15,20}$", description="The billing code the citizen paid.")
    amount: StrictInt = Field(ge=1, description="What was paid, in whole rupiah (a JSON integer).")
    paid_at: AwareDatetime = Field(description="When the money moved, with its time zone.")


class CounterPaymentCreate(BaseModel):
    """A cash or card payment a clerk took at the counter, against the receipt they handed out."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    receipt_number: str = Field(
        min_length=1,
        max_length=100,
        pattern=REFERENCE_PATTERN,
        description="The receipt's number: unique at this counter (the clerk's agency).",
    )
    method: Literal["cash", "card"] = Field(description="`cash` or `card`.")
    amount: StrictInt = Field(ge=1, description="What was taken, in whole rupiah: the bill's amount.")


class ConfirmationRead(BaseModel):
    """A payment's confirmation: whether it paid its bill (`confirmed`) or matched no open bill (`unmatched`, kept
    for reconciliation), and what it said."""

    model_config = ConfigDict(frozen=True)

    confirmation_id: str = Field(description="The confirmation's id.")
    outcome: Literal["confirmed", "unmatched"] = Field(description="`confirmed` or `unmatched`.")
    reason: str | None = Field(
        default=None,
        description="Why it matched no open bill: `unknown_billing_code`, `amount_mismatch`, `already_paid`, "
        "`bill_expired` or `bill_cancelled`.",
    )
    channel: Literal["gateway", "counter"] = Field(description="`gateway` or `counter`.")
    source: str = Field(description="The gateway provider, or the counter's agency.")
    reference: str = Field(description="The gateway's transaction id, or the receipt number.")
    billing_code: str = Field(description="The billing code paid.")
    bill_id: str | None = Field(default=None, description="The bill the billing code names, if any.")
    amount: int = Field(description="What was paid, in whole rupiah.")
    method: str | None = Field(default=None, description="At the counter: `cash` or `card`.")
    paid_at: datetime = Field(description="When the money moved.")
    recorded_at: datetime = Field(description="When the payment service recorded it (the first time).")

    @classmethod
    def of(cls, confirmation: ConfirmationRecord) -> ConfirmationRead:
        """The answer for ``confirmation``."""
        return cls(
            confirmation_id=confirmation.confirmation_id,
            outcome=confirmation.outcome,
            reason=confirmation.reason,
            channel=confirmation.channel,
            source=confirmation.source,
            reference=confirmation.reference,
            billing_code=confirmation.billing_code,
            bill_id=confirmation.bill_id,
            amount=confirmation.amount,
            method=confirmation.method,
            paid_at=confirmation.paid_at.astimezone(UTC),
            recorded_at=confirmation.recorded_at.astimezone(UTC),
        )


class Total(BaseModel):
    """How many bills (or payments), and how many rupiah."""

    model_config = ConfigDict(frozen=True)

    count: int = Field(description="How many.")
    amount: int = Field(description="Their sum, in whole rupiah.")

    @classmethod
    def of(cls, tallies: Sequence[Tally]) -> Total:
        """The sum of ``tallies``."""
        return cls(count=sum(t.count for t in tallies), amount=sum(t.amount for t in tallies))


class PaidTotal(Total):
    """Bills paid, and received per channel."""

    by_channel: dict[str, Total] = Field(description="`gateway` and `counter`: what each received.")


class FeeTotals(BaseModel):
    """One agency's fee of one kind: its bills issued, paid, expired and cancelled that day."""

    model_config = ConfigDict(frozen=True)

    agency: str = Field(description="Lower-case code of the agency the fee is paid to.")
    kind: Literal["pnbp", "retribusi"] = Field(description="`pnbp` or `retribusi`.")
    issued: Total
    paid: Total
    expired: Total
    cancelled: Total


class UnmatchedRead(BaseModel):
    """A payment that matched no open bill: money to look into (a refund, or a bill to find)."""

    model_config = ConfigDict(frozen=True)

    channel: Literal["gateway", "counter"]
    provider: str = Field(description="The gateway provider (or the counter's agency).")
    transaction_id: str = Field(description="The gateway's transaction id (or the receipt number).")
    billing_code: str
    amount: int = Field(description="What was paid, in whole rupiah.")
    reason: str = Field(description="Why it matched no open bill.")
    paid_at: datetime = Field(description="When the money moved, as the gateway said.")
    recorded_at: datetime = Field(description="When the payment service received it.")


class UnmatchedTotal(Total):
    """The payments of the day that matched no open bill, and each of them."""

    confirmations: list[UnmatchedRead]


class ReconciliationRead(BaseModel):
    """One day's bills and payments (WIB), to reconcile with the gateways' and the counters' own reports."""

    model_config = ConfigDict(frozen=True)

    day: date = Field(description="The day, in WIB.")
    time_zone: Literal["Asia/Jakarta"] = "Asia/Jakarta"
    currency: Literal["IDR"] = "IDR"
    issued: Total = Field(description="Bills issued that day.")
    paid: PaidTotal = Field(description="Bills paid that day (when the money moved), and the total received.")
    expired: Total = Field(description="Bills that expired unpaid that day.")
    cancelled: Total = Field(description="Bills withdrawn that day (their application rejected or cancelled).")
    by_fee: list[FeeTotals] = Field(description="The same, per agency and fee kind (PNBP, retribusi).")
    unmatched: UnmatchedTotal = Field(description="Payments that matched no open bill; not in `paid`.")

    @classmethod
    def of(cls, figures: DayFigures) -> ReconciliationRead:
        """The answer for ``figures``."""
        groups = sorted({t.group for t in [*figures.issued, *figures.paid, *figures.expired, *figures.cancelled]})

        def total(tallies: Sequence[Tally], group: tuple[str, ...]) -> Total:
            return Total.of([t for t in tallies if t.group == group])

        by_channel = {
            channel: Total.of([t for t in figures.paid_by_channel if t.group == (channel,)])
            for channel in ("gateway", "counter")
        }
        return cls(
            day=figures.day,
            issued=Total.of(figures.issued),
            paid=PaidTotal(**Total.of(figures.paid).model_dump(), by_channel=by_channel),
            expired=Total.of(figures.expired),
            cancelled=Total.of(figures.cancelled),
            by_fee=[
                FeeTotals(
                    agency=agency,
                    kind=kind,
                    issued=total(figures.issued, (agency, kind)),
                    paid=total(figures.paid, (agency, kind)),
                    expired=total(figures.expired, (agency, kind)),
                    cancelled=total(figures.cancelled, (agency, kind)),
                )
                for agency, kind in groups
            ],
            unmatched=UnmatchedTotal(
                count=len(figures.unmatched),
                amount=sum(c.amount for c in figures.unmatched),
                confirmations=[
                    UnmatchedRead(
                        channel=c.channel,
                        provider=c.source,
                        transaction_id=c.reference,
                        billing_code=c.billing_code,
                        amount=c.amount,
                        reason=c.reason or "",
                        paid_at=c.paid_at,
                        recorded_at=c.recorded_at,
                    )
                    for c in figures.unmatched
                ],
            ),
        )
