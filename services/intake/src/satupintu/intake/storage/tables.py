"""Intake's tables. Personal data (NIK, name, e-mail, phone, personal form fields) is stored only as AES-GCM
ciphertext; the NIK also as a keyed hash for look-ups."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Date, DateTime, Index, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


class ApplicationRecord(SQLModel, table=True):
    """An application as intake accepted it, and its current public state."""

    __tablename__ = "applications"
    # The clean-up asks, per stored document, whether any application refers to it (`documents @> [{"sha256": …}]`).
    __table_args__ = (
        Index(
            "ix_applications_documents",
            "documents",
            postgresql_using="gin",
            postgresql_ops={"documents": "jsonb_path_ops"},
        ),
    )

    id: str = Field(primary_key=True, description="The application id (UUID).")
    tracking_code: str = Field(unique=True, index=True, description="The code the citizen tracks it with.")
    service_code: str = Field(index=True, description="The catalogue service applied for.")
    catalogue_version: str = Field(description="The catalogue version it was submitted under.")
    status: str = Field(description="The application's public state.")
    nik_hash: str = Field(index=True, description="Keyed hash of the NIK, for look-ups.")
    nik_ciphertext: str = Field(sa_column=Column(Text, nullable=False))
    name_ciphertext: str = Field(sa_column=Column(Text, nullable=False))
    email_ciphertext: str | None = Field(default=None, sa_column=Column(Text))
    phone_ciphertext: str | None = Field(default=None, sa_column=Column(Text))
    name_initials: str = Field(description="What a public page may show of the name.")
    nik_masked: str = Field(description="What a public page may show of the NIK.")
    language: str = Field(description="id or en.")
    applicant_kind: str = Field(
        default="person",
        sa_column=Column(String, nullable=False, server_default="person"),
        description="`person`, or `business` (the NIK, name and contact above are then its representative's).",
    )
    business_nib: str | None = Field(default=None, description="A business applicant's NIB (public).")
    business_name: str | None = Field(default=None, description="A business applicant's registered name (public).")
    business_npwp_ciphertext: str | None = Field(
        default=None, sa_column=Column(Text), description="A business applicant's NPWP, encrypted."
    )
    data: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False), description="Non-personal form fields.")
    personal_data_ciphertext: str | None = Field(
        default=None, sa_column=Column(Text), description="Personal form fields, encrypted as one JSON object."
    )
    documents: list[dict[str, str]] = Field(sa_column=Column(JSONB, nullable=False))
    consent_reuse: bool = Field(description="Whether the citizen allowed reuse of this data.")
    reused_fields: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    current_stage: int | None = Field(default=None, description="The running stage, once routing started one.")
    stage_count: int | None = Field(default=None, description="How many stages the workflow has.")
    due_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    outputs: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    outcome_reason: str | None = Field(default=None, description="Why it was rejected, when it was.")
    sla_breached: bool = Field(default=False, description="Whether it passed its service standard.")
    submitted_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class IdempotencyRecord(SQLModel, table=True):
    """The answer given to a request with an ``Idempotency-Key``, so a retry gets the same answer."""

    __tablename__ = "idempotency_keys"

    key: str = Field(primary_key=True, description="The client's Idempotency-Key.")
    request_hash: str = Field(description="SHA-256 of the canonical request body.")
    application_id: str = Field(description="The application the first request created.")
    response: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class TaskStatusRecord(SQLModel, table=True):
    """One agency's task as the citizen's status page shows it (projected from the `applications` topic)."""

    __tablename__ = "application_tasks"

    task_id: str = Field(primary_key=True)
    application_id: str = Field(index=True, foreign_key="applications.id")
    agency: str
    stage_index: int
    state: str
    due_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    questions: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    information_answered_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class TimelineEntry(SQLModel, table=True):
    """Something that happened to an application, in the order it happened."""

    __tablename__ = "application_timeline"

    id: int | None = Field(default=None, primary_key=True)
    application_id: str = Field(index=True, foreign_key="applications.id")
    event_id: str = Field(unique=True, description="The event it came from.")
    kind: str = Field(description="The event type, e.g. application.stage_started.")
    agency: str | None = None
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))


class CitizenProfile(SQLModel, table=True):
    """What a citizen gave before and allowed to be reused, keyed by the NIK's keyed hash; all of it encrypted.

    *Unverified* (``verified_at`` null) until a one-time code sent to its contact is confirmed: nothing reuses it,
    and a later application without proof may replace it. Once verified, it changes only with proof of that
    contact, or through a counter clerk's reset (decision 0018)."""

    __tablename__ = "citizen_profiles"

    nik_hash: str = Field(primary_key=True, description="Keyed hash of the NIK.")
    email_ciphertext: str | None = Field(default=None, sa_column=Column(Text))
    phone_ciphertext: str | None = Field(default=None, sa_column=Column(Text))
    language: str = Field(description="The language last used.")
    fields_ciphertext: str = Field(sa_column=Column(Text, nullable=False), description="Profile fields as JSON.")
    verified_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True)),
        description="When its contact was proven (a code sent there confirmed, or a clerk's reset); null: unverified.",
    )
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class OneTimeCodeRecord(SQLModel, table=True):
    """A one-time code; stored only as a keyed hash, with the keyed hash of the contact it went to. A code asked for
    a NIK without a profile is recorded too, without a contact, and never delivered."""

    __tablename__ = "one_time_codes"

    id: str = Field(primary_key=True, description="The verification id.")
    nik_hash: str = Field(index=True)
    code_hash: str
    channel: str
    contact_hash: str | None = Field(
        default=None,
        sa_column=Column(Text),
        description="Keyed hash of the contact the code went to; null when it went nowhere (no profile).",
    )
    attempts: int = 0
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class ConsentRecord(SQLModel, table=True):
    """A line of the citizen's consent, from the mall's consent ledger: one profile field for one agency (or ``*``,
    every agency); read with the one rule of ``satupintu.common.consent``."""

    __tablename__ = "consents"

    nik_hash: str = Field(primary_key=True, description="Keyed hash of the citizen's NIK.")
    agency: str = Field(primary_key=True, description="The agency the consent is for.")
    field: str = Field(primary_key=True, description="The profile field.")
    withdrawn: bool = Field(description="False: granted; True: withdrawn.")
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class CitizenKeyRecord(SQLModel, table=True):
    """A citizen's key (decision 0016): every personal value of theirs that leaves intake is sealed with it. Kept
    wrapped under intake's own data keys; deleting it (erasure) makes those values unreadable everywhere."""

    __tablename__ = "citizen_keys"

    key_id: str = Field(primary_key=True, description="The key's id, named in every value sealed with it.")
    nik_hash: str = Field(unique=True, description="Keyed hash of the NIK of the citizen it belongs to.")
    secret_ciphertext: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class CitizenKeyGrant(SQLModel, table=True):
    """A reader a citizen's key was sent to (wrapped for it, on its key topic): where erasure sends tombstones."""

    __tablename__ = "citizen_key_grants"

    key_id: str = Field(primary_key=True, foreign_key="citizen_keys.key_id")
    reader: str = Field(primary_key=True, description="`notification` or `agency.<code>`.")
    granted_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class ErasureRequest(SQLModel, table=True):
    """A citizen's request to erase their personal data, as an operator entered it (UU PDP; decision 0019): carried
    out at once, or by the retention schedule once no retention duty holds the data any more."""

    __tablename__ = "erasure_requests"

    id: str = Field(primary_key=True, description="The erasure's id.")
    nik_hash: str = Field(index=True, description="Keyed hash of the citizen's NIK.")
    reference: str = Field(description="The reference of the citizen's request (a letter, a ticket).")
    requested_by: str = Field(description="The operator who entered it.")
    requested_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    erased_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True)), description="When it was carried out."
    )


class IssuedDocumentRecord(SQLModel, table=True):
    """A document an agency issued (``document.issued``) and, once revoked, why and when (``document.revoked``):
    what the public verification page shows, and where the signed PDF is in the shared document store. The holder
    only as initials and a NIK masked to its last four digits."""

    __tablename__ = "issued_documents"

    document_id: str = Field(primary_key=True, description="The document's id (UUID), as its QR code names it.")
    application_id: str = Field(index=True, description="The application it was issued for.")
    service_code: str = Field(description="The catalogue service it was issued for.")
    agency: str = Field(description="Lower-case code of the issuing agency.")
    number: str = Field(description="The document's number, unique per agency and year.")
    issued_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    valid_until: date | None = Field(
        default=None, sa_column=Column(Date), description="Its last valid day (in Jakarta); null: no expiry."
    )
    sha256: str = Field(description="Hex SHA-256 of the signed PDF; also its address in the document store.")
    size_bytes: int = Field(description="The signed PDF's size in bytes.")
    pdf_name: str = Field(description="What the stored PDF is (the reference's name, e.g. `skck`).")
    holder_initials: str = Field(description="The holder's initials: all of the name a public page shows.")
    holder_nik_masked: str = Field(description="The holder's NIK, its last four digits only.")
    officer: str = Field(description="Who issued it (the officer's actor string).")
    collect_at_counter: bool = Field(description="Whether the original is collected at the mall's counter.")
    revoked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    revocation_reason: str | None = Field(default=None, sa_column=Column(Text), description="Why it was revoked.")
    recorded_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False), description="When intake recorded the issue."
    )
    key_id: str | None = Field(
        default=None,
        description="The documents key its PDF in the store was last found sealed with (the periodic re-sealing "
        "sets it); null: not checked yet.",
    )


class DocumentCollectionRecord(SQLModel, table=True):
    """The original of an issued document collected at the mall's counter (``document.collected``): when, who handed
    it over, and whether the holder took it in person. Kept apart from ``issued_documents`` because the mall's topic
    and the applications topic keep no order between them: a collection recorded before its issue waits here and shows
    once the issue arrives. The name of who took it is not kept: the page says only "the holder" or "a
    representative"."""

    __tablename__ = "document_collections"

    document_id: str = Field(primary_key=True, description="The collected document's id (UUID).")
    application_id: str = Field(index=True, description="The application it was issued for.")
    number: str = Field(description="The collected document's number, as the mall recorded it.")
    handed_over_by: str = Field(description="The clerk who handed it over (actor string).")
    collected_by_holder: bool = Field(description="Whether the holder took it in person.")
    collected_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False), description="When it was handed over."
    )
    recorded_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False), description="When intake recorded it."
    )


class BillRecord(SQLModel, table=True):
    """An application's fee as the payment service billed it (``payment.billed``) and its fate: paid
    (``payment.confirmed``, with the channel and reference), expired (``payment.expired``) or withdrawn
    (``payment.cancelled``). What the tracking page shows, with the QRIS code drawn from ``qris``. Nothing personal:
    a bill names an application, a service and an amount, not who pays it."""

    __tablename__ = "application_bills"

    bill_id: str = Field(primary_key=True, description="The bill's id in the payment service.")
    application_id: str = Field(index=True, description="The application the bill is for.")
    service_code: str = Field(description="The catalogue service the fee is for.")
    agency: str = Field(description="Lower-case code of the agency the fee is paid to.")
    kind: str = Field(description="`pnbp` or `retribusi`.")
    amount: int = Field(description="What to pay, in whole rupiah.")
    billing_code: str = Field(description="The billing code the citizen pays with.")
    qris: str = Field(sa_column=Column(Text, nullable=False), description="The dynamic QRIS payload.")
    pay_before_stage: int = Field(description="The workflow stage that waits for the payment (0: the first).")
    state: str = Field(description="`awaiting_payment`, `paid`, `expired` or `cancelled`.")
    billed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    paid_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    channel: str | None = Field(default=None, description="Where it was paid: `gateway` or `counter`.")
    reference: str | None = Field(default=None, description="The gateway's transaction id or the receipt number.")
    ended_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True)), description="When it expired or was withdrawn."
    )
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
