"""Notification's tables. Contact details, addresses and message contents are stored only as AES-GCM ciphertext;
what operators see (masked recipients, outcomes, attempts) is stored in the clear."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Index, SmallInteger, Text, text
from sqlmodel import Field, SQLModel


class ContactRecord(SQLModel, table=True):
    """An applicant's contact details, copied from ``application.submitted`` (routing's events carry none)."""

    __tablename__ = "contacts"

    application_id: str = Field(primary_key=True, description="The application the applicant submitted.")
    language: str = Field(description="id or en: the language the applicant is told things in.")
    key_id: str | None = Field(
        default=None, index=True, description="The citizen's key the details came sealed with: erased with it."
    )
    details_ciphertext: str = Field(
        sa_column=Column(Text, nullable=False),
        description="First name, masked NIK, e-mail, phone, tracking and service code, encrypted as one JSON object.",
    )
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class DeliveryRecord(SQLModel, table=True):
    """One message about one event on one channel: at most one per event and channel."""

    __tablename__ = "deliveries"
    __table_args__ = (
        # What a dispatcher lane claims: the pending ones of its channel kind and priority, the most overdue first.
        # Partial, so it holds only the pending rows however many sent ones the table keeps.
        Index(
            "ix_deliveries_pending",
            "kind",
            "priority",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )

    cause_event_id: str = Field(primary_key=True, description="The event (or request) the message is about.")
    channel: str = Field(primary_key=True, description="console, email, sms or webhook:<subscriber>.")
    kind: str = Field(description="The channel's kind (console, email, sms, webhook); each is dispatched on its own.")
    message_id: str = Field(unique=True, description="Stable id from (event, channel): Message-ID, Idempotency-Key.")
    application_id: str = Field(index=True, description="The application (or other subject) it is about.")
    template: str = Field(description="The template, named after the event type.")
    language: str
    recipient_ciphertext: str = Field(sa_column=Column(Text, nullable=False), description="Address, encrypted.")
    recipient_masked: str = Field(description="The address as operators may see it.")
    key_id: str | None = Field(
        default=None, index=True, description="The citizen's key the address came sealed with: erased with it."
    )
    content_ciphertext: str = Field(sa_column=Column(Text, nullable=False), description="Subject and body, encrypted.")
    status: str = Field(description="pending, sent or failed.")
    priority: int = Field(
        default=1,
        sa_column=Column(SmallInteger, nullable=False, server_default="1"),
        description="0: urgent (one-time codes, information requests, documents ready, bills), 1: routine.",
    )
    attempts: int = Field(default=0, description="Attempts started so far.")
    next_attempt_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False),
        description="When it is due; while an attempt runs, when that attempt's lease ends.",
    )
    last_error: str | None = Field(default=None, description="Why the last attempt failed, without personal data.")
    correlation_id: str | None = Field(default=None, description="The correlation id its outcome events carry.")
    traceparent: str | None = Field(default=None, description="The W3C trace its outcome events continue.")
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    failed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class DeliveryAttemptRecord(SQLModel, table=True):
    """One attempt to hand a message to its channel, and what came of it."""

    __tablename__ = "delivery_attempts"

    message_id: str = Field(primary_key=True, description="The delivery's message id.")
    number: int = Field(primary_key=True, description="1 for the first attempt.")
    started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    outcome: str | None = Field(
        default=None, description="sent, transient_failure or permanent_failure; none while running or if cut off."
    )
    detail: str | None = Field(default=None, description="The channel's answer on failure, without personal data.")


class ComplaintContactRecord(SQLModel, table=True):
    """Where a complainant is answered, copied from ``complaint.filed`` when they gave a contact: the complaint's
    progress and answer go there, in the language they filed in."""

    __tablename__ = "complaint_contacts"

    complaint_id: str = Field(primary_key=True, description="The complaint (the mall's id).")
    reference: str = Field(description="The reference the complainant was given, e.g. `ADU-20260814-0007`.")
    agency: str = Field(description="The agency whose complaint desk handles it.")
    language: str = Field(description="id or en: the language the complainant filed in.")
    contact_ciphertext: str = Field(
        sa_column=Column(Text, nullable=False), description="The e-mail address or phone number, encrypted."
    )
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
