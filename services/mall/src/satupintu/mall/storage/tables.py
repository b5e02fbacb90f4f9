"""The mall's tables: the applications it has seen (projected from the ``applications`` topic), queue tickets,
survey invitations and answers, complaints, the consent ledger, and the issued documents waiting at the counter.
The NIK is kept only as a keyed hash; what a citizen writes (complaints, contacts, suggestions, the desk's answers)
and who collected a document only encrypted (docs/decisions/0006)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Date, DateTime, Index, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


class ApplicationRecord(SQLModel, table=True):
    """An application as the mall knows it from the lifecycle events: for the board, surveys, complaints, consent."""

    __tablename__ = "mall_applications"

    application_id: str = Field(primary_key=True)
    tracking_code: str = Field(unique=True, index=True)
    service_code: str = Field(index=True)
    agency: str = Field(index=True, description="The agency that owns the service.")
    language: str = Field(description="id or en.")
    nik_hash: str = Field(index=True, description="Keyed hash of the applicant's NIK.")
    reused_fields: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    state: str = Field(index=True, description="submitted, completed, rejected or cancelled.")
    submitted_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    working_days_taken: int | None = Field(default=None, description="Working days from submission to the end.")
    sla_breached: bool = Field(default=False, description="Whether routing reported it past its service standard.")
    applicant_kind: str = Field(
        default="person",
        sa_column_kwargs={"server_default": "person"},
        description="person, or business (applying through a representative; no one's data kept).",
    )
    bill_id: str | None = Field(default=None, description="The fee's bill, when the service has a fee.")
    bill_status: str | None = Field(default=None, index=True, description="billed, paid, expired or cancelled.")
    bill_agency: str | None = Field(default=None, description="The agency the fee is paid to.")
    bill_kind: str | None = Field(default=None, description="pnbp or retribusi.")
    bill_amount: int | None = Field(default=None, sa_column=Column(BigInteger), description="Whole rupiah.")
    billed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), index=True))
    paid_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    paid_amount: int | None = Field(default=None, sa_column=Column(BigInteger), description="Whole rupiah received.")
    payment_channel: str | None = Field(default=None, description="gateway or counter.")


class DailySequence(SQLModel, table=True):
    """The last number given in a scope (a service's queue, or complaints) on a day."""

    __tablename__ = "daily_sequences"

    scope: str = Field(primary_key=True)
    day: date = Field(sa_column=Column(Date, primary_key=True))
    last: int = Field(default=0)


class TicketRecord(SQLModel, table=True):
    """A walk-in visitor's queue ticket."""

    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("day", "service_code", "sequence"),)

    ticket_id: str = Field(primary_key=True)
    day: date = Field(sa_column=Column(Date, nullable=False, index=True))
    service_code: str = Field(index=True)
    agency: str
    sequence: int
    number: str
    state: str = Field(index=True, description="A TicketState.")
    counter: str | None = None
    estimated_wait_minutes: int
    issued_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    called_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    finished_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    tracking_code: str | None = None
    application_id: str | None = None
    priority: bool = Field(
        default=False,
        sa_column_kwargs={"server_default": "false"},
        description="Served with priority (elderly, disabled, pregnant, with a small child): called first.",
    )
    booked: bool = Field(
        default=False,
        sa_column_kwargs={"server_default": "false"},
        description="Whether the visitor checked in with a booking: served ahead of the service's walk-ins.",
    )


class SurveyInvitation(SQLModel, table=True):
    """An invitation to survey one finished application; the link's token is kept only as a hash."""

    __tablename__ = "survey_invitations"

    application_id: str = Field(primary_key=True)
    token_hash: str = Field(unique=True, index=True)
    tracking_code: str
    service_code: str
    agency: str
    outcome: str
    language: str
    invited_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class SurveyResponse(SQLModel, table=True):
    """A citizen's answer to the survey of one application (one per application)."""

    __tablename__ = "survey_responses"

    application_id: str = Field(primary_key=True)
    service_code: str = Field(index=True)
    agency: str = Field(index=True)
    requirements: int
    procedure: int
    completion_time: int
    cost: int
    product: int
    competence: int
    behaviour: int
    complaints_handling: int
    facilities: int
    suggestion_ciphertext: str | None = Field(default=None, sa_column=Column(Text), description="Encrypted.")
    answered_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))


class ComplaintRecord(SQLModel, table=True):
    """A complaint: a task on the agency's complaint desk, with its own due date."""

    __tablename__ = "complaints"

    complaint_id: str = Field(primary_key=True)
    reference: str = Field(unique=True, index=True)
    agency: str = Field(index=True)
    application_id: str | None = None
    tracking_code: str | None = None
    service_code: str | None = None
    category: str
    description_ciphertext: str = Field(sa_column=Column(Text, nullable=False), description="Encrypted.")
    contact_ciphertext: str | None = Field(default=None, sa_column=Column(Text), description="Encrypted.")
    state: str = Field(index=True, description="A ComplaintState.")
    filed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    resolved_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    resolved_by: str | None = None
    response_ciphertext: str | None = Field(default=None, sa_column=Column(Text), description="Encrypted.")
    sla_breached_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class ConsentLedger(SQLModel, table=True):
    """One citizen's consent ledger, found by the keyed hash of their NIK."""

    __tablename__ = "consent_ledgers"

    ledger_id: str = Field(primary_key=True)
    nik_hash: str = Field(unique=True, index=True)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class ConsentEntry(SQLModel, table=True):
    """Whether a citizen allows one agency to receive one profile field again."""

    __tablename__ = "consent_entries"

    ledger_id: str = Field(primary_key=True, foreign_key="consent_ledgers.ledger_id")
    agency: str = Field(primary_key=True)
    field: str = Field(primary_key=True)
    granted: bool
    changed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class ConsentLogEntry(SQLModel, table=True):
    """What happened in a ledger, in order: grants, withdrawals and uses (the same as its events)."""

    __tablename__ = "consent_log"

    id: int | None = Field(default=None, primary_key=True)
    ledger_id: str = Field(index=True, foreign_key="consent_ledgers.ledger_id")
    kind: str = Field(description="granted, withdrawn or used.")
    agency: str
    field: str
    consented: bool = Field(description="For a use: whether the ledger allowed it. Otherwise the new state.")
    application_id: str
    event_id: str
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class CounterDocument(SQLModel, table=True):
    """An issued document whose original the holder collects at the counter (``document.issued`` with
    ``collect_at_counter``): waiting until a clerk records its pickup, or revoked. Who took it is kept encrypted."""

    __tablename__ = "counter_documents"

    document_id: str = Field(primary_key=True)
    application_id: str = Field(index=True)
    number: str = Field(index=True, description="The document's number, as printed.")
    service_code: str
    agency: str = Field(index=True, description="The issuing agency.")
    issued_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    valid_until: date | None = Field(default=None, sa_column=Column(Date))
    collected_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    handed_over_by: str | None = Field(default=None, description="The clerk's actor string.")
    collected_by_ciphertext: str | None = Field(default=None, sa_column=Column(Text), description="Encrypted.")
    collected_by_holder: bool | None = None
    revoked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    revocation_reason: str | None = Field(default=None, sa_column=Column(Text))


class AppointmentSlot(SQLModel, table=True):
    """One slot of a bookable service and how many of its places are taken; a booking takes a place with one
    conditional update (``booked < quota``), so concurrent bookings never overfill it."""

    __tablename__ = "mall_appointment_slots"
    __table_args__ = (CheckConstraint("booked >= 0", name="ck_mall_appointment_slots_booked"),)

    service_code: str = Field(primary_key=True)
    starts_at: datetime = Field(sa_column=Column(DateTime(timezone=True), primary_key=True))
    quota: int = Field(description="Places of the slot, from the settings when its first place was taken.")
    booked: int = Field(default=0, description="Places taken by bookings not cancelled.")


class AppointmentRecord(SQLModel, table=True):
    """A citizen's booking of a slot: pending until its one-time code is confirmed. The NIK only as a keyed hash,
    the contact encrypted, the code hashed; at most one active (``booked``) booking per NIK and service."""

    __tablename__ = "mall_appointments"
    __table_args__ = (
        Index(
            "uq_mall_appointments_active_per_nik",
            "nik_hash",
            "service_code",
            unique=True,
            postgresql_where=text("state = 'booked'"),
        ),
    )

    appointment_id: str = Field(primary_key=True)
    booking_code: str | None = Field(default=None, unique=True, index=True)
    service_code: str = Field(index=True)
    agency: str
    starts_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    nik_hash: str = Field(index=True, description="Keyed hash of the citizen's NIK.")
    contact_ciphertext: str = Field(sa_column=Column(Text, nullable=False), description="Encrypted.")
    channel: str = Field(description="email or sms.")
    language: str = Field(description="id or en.")
    state: str = Field(index=True, description="An AppointmentState.")
    code_hash: str = Field(description="Keyed hash of the one-time code.")
    code_expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    code_attempts: int = Field(default=0)
    requested_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    booked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    reminded_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    finished_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    ticket_id: str | None = None
