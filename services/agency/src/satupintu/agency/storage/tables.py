"""The desk's tables: its task inbox (kept from the agencies' tasks topics), the documents it issued and their
numbering."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Date, DateTime, Index, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


class DeskTask(SQLModel, table=True):
    """One agency task as the desk knows it from ``task.assigned``, ``task.withdrawn``, ``task.sla_breached``, the
    agency's decisions and routing's answers to them (``task.decision_accepted``, ``task.decision_refused``); the
    task's personal data (fields and the citizen's answers) is encrypted at rest."""

    __tablename__ = "desk_tasks"
    __table_args__ = (
        Index("desk_tasks_open_by_agency", "agency", "state", "due_at"),
        Index(
            "desk_tasks_documents", "documents", postgresql_using="gin", postgresql_ops={"documents": "jsonb_path_ops"}
        ),
    )

    task_id: str = Field(primary_key=True, description="The task's id, as routing assigned it.")
    application_id: str = Field(index=True, description="The application the task belongs to.")
    agency: str = Field(description="Lower-case code of the agency the task belongs to.")
    service_code: str = Field(description="The catalogue service of the application.")
    stage_index: int = Field(description="The workflow stage of the task.")
    state: str = Field(description="A DeskTaskState.")
    assignment_id: str = Field(description="`ce_id` of the `task.assigned` in force; decisions answer it.")
    correlation_id: str | None = Field(default=None, description="The application's correlation id.")
    traceparent: str | None = Field(default=None, description="W3C trace context of the assignment.")
    personal_data: str = Field(
        sa_column=Column(Text, nullable=False), description="Encrypted JSON of the visible fields and the answers."
    )
    documents: list[dict[str, str]] = Field(
        sa_column=Column(JSONB, nullable=False), description="Documents the agency may see: name and sha256."
    )
    previous_outputs: dict[str, Any] = Field(
        sa_column=Column(JSONB, nullable=False), description="Earlier stages' outputs this task needs, by agency."
    )
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    assigned_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    sla_breached_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    claimed_by: str | None = Field(default=None, description="User name of the officer holding the claim.")
    claimed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    claim_expires_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    decision: str | None = Field(default=None, description="The Decision sent to routing, or accepted by it.")
    decision_id: str | None = Field(
        default=None, description="`ce_id` of that decision (the `task.decided` waiting for routing, or accepted)."
    )
    decided_by: str | None = Field(default=None, description="Actor of the decision (officer or system).")
    decided_by_name: str | None = Field(
        default=None, description="The deciding officer's full name from the provider, printed on a document it issues."
    )
    decided_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    refused_decision_ids: list[str] = Field(
        default_factory=list,
        sa_column=Column(JSONB, nullable=False, server_default=text("'[]'::jsonb")),
        description="`ce_id`s of the decisions on the assignment in force that routing refused.",
    )
    refusal_reason: str | None = Field(
        default=None, description="Why routing refused the latest decision; shown until the task is decided again."
    )
    refused_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    withdrawn_reason: str | None = Field(default=None, description="Why routing withdrew the task.")
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class IssuedDocument(SQLModel, table=True):
    """A document the desk issued for an application (decision 0027): its number, the signed PDF's address in the
    document store, what its verification page shows, and its revocation. One per application and service, so a
    redelivered approval issues nothing twice."""

    __tablename__ = "desk_issued_documents"
    __table_args__ = (
        UniqueConstraint("application_id", "service_code", name="desk_issued_documents_once_per_application"),
        UniqueConstraint("agency", "number", name="desk_issued_documents_number_unique"),
        Index("desk_issued_documents_by_agency", "agency", "issued_at"),
    )

    document_id: str = Field(primary_key=True, description="The document's id (a UUID), printed in its QR code.")
    application_id: str = Field(description="The application it was issued for.")
    service_code: str = Field(description="The catalogue service.")
    agency: str = Field(description="Lower-case code of the issuing agency.")
    task_id: str = Field(description="The issuing agency's task whose approval issued it.")
    number: str = Field(description="The printed number, unique per agency.")
    year: int = Field(description="The year of issue its serial counts in.")
    serial: int = Field(description="Its place in the agency's gapless count of that year.")
    sha256: str = Field(description="Hex SHA-256 of the signed PDF: its address in the document store.")
    size_bytes: int = Field(description="The signed PDF's size.")
    officer: str = Field(description="Actor of the approval that issued it.")
    issued_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    valid_until: date | None = Field(default=None, sa_column=Column(Date))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    revoked_by: str | None = Field(default=None, description="Actor of the revocation.")
    revocation_reason: str | None = Field(default=None, description="Why it was revoked, as the public page shows.")


class DocumentCounter(SQLModel, table=True):
    """An agency's count of the documents it issued in a year: the last serial given. Taken with one
    ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` in the issuing transaction, so the row stays locked until that
    transaction ends: a rolled-back issue gives its serial back, and numbers have no gaps."""

    __tablename__ = "document_counters"

    agency: str = Field(primary_key=True)
    year: int = Field(primary_key=True)
    last_serial: int = Field(description="The serial of the last document issued.")
