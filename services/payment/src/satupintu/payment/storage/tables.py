"""Payment's tables: one bill per application that owes a fee."""

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
