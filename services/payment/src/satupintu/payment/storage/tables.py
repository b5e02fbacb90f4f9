"""Payment's tables: one bill per application that owes a fee, and every confirmation of a payment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class BillRecord(SQLModel, table=True):
    """An application's fee: what is owed, the codes it is paid with, and where it stands (``BillStatus``)."""

    __tablename__ = "payment_bills"
    __table_args__ = (
        UniqueConstraint("application_id", "service_code", name="uq_payment_bills_application_service"),
        UniqueConstraint("billing_code", name="uq_payment_bills_billing_code"),
        Index("ix_payment_bills_open_expiry", "status", "expires_at"),
        Index("ix_payment_bills_billed_at", "billed_at"),
        Index("ix_payment_bills_paid_at", "paid_at"),
    )

    bill_id: str = Field(
        primary_key=True, description="uuid5 of the application id: unguessable, and the same on a retry."
    )
    application_id: str = Field(index=True)
    service_code: str
    agency: str = Field(description="Lower-case code of the agency the fee is paid to.")
    kind: str = Field(description="`pnbp` or `retribusi`.")
    amount: int = Field(sa_column=Column(BigInteger, nullable=False), description="Whole rupiah.")
    billing_code: str
    qris_payload: str = Field(sa_column=Column(Text, nullable=False))
    pay_before_stage: int
    status: str = Field(description="A BillStatus: open, paid, expired or cancelled.")
    billed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    reminded_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    paid_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    channel: str | None = Field(default=None, description="`gateway` or `counter`, once paid.")
    reference: str | None = Field(default=None, description="The gateway's transaction id or the receipt number.")
    settled_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True)),
        description="When the bill left `open`: paid, expired or cancelled.",
    )
    correlation_id: str | None = Field(default=None, description="The application's correlation id, for its events.")


class ConfirmationRecord(SQLModel, table=True):
    """Every verified gateway callback and every counter payment, with what it did: ``confirmed`` (it paid its bill)
    or ``unmatched`` (it matched no open bill: kept for reconciliation, nothing else changed). One per channel,
    source and reference: the same callback or receipt twice is the same confirmation."""

    __tablename__ = "payment_confirmations"
    __table_args__ = (
        UniqueConstraint("channel", "source", "reference", name="uq_payment_confirmations_reference"),
        Index("ix_payment_confirmations_paid_at", "paid_at"),
    )

    confirmation_id: str = Field(primary_key=True, description="A random uuid.")
    channel: str = Field(description="`gateway` or `counter`.")
    source: str = Field(description="The gateway provider's name, or the counter's agency code.")
    reference: str = Field(description="The gateway's transaction id, or the counter's receipt number.")
    billing_code: str = Field(description="The billing code the payment named (as given).")
    amount: int = Field(sa_column=Column(BigInteger, nullable=False), description="What was paid, whole rupiah.")
    method: str | None = Field(default=None, description="At the counter: `cash` or `card`.")
    bill_id: str | None = Field(default=None, index=True, description="The bill its billing code names, if any.")
    outcome: str = Field(description="A ConfirmationOutcome: `confirmed` or `unmatched`.")
    reason: str | None = Field(default=None, description="Why it matched no open bill (an UnmatchedReason).")
    paid_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    actor: str = Field(description="Who reported it: `gateway:<provider>` or the clerk's actor string.")
