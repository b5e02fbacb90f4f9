"""Payment's HTTP answers: a bill as the citizen's pages show it (no personal data)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from satupintu.payment.storage.tables import BillRecord


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
