"""Routing's tables: one workflow instance per application and its agency tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, Index, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import relationship
from sqlmodel import Field, Relationship, SQLModel


class WorkflowRecord(SQLModel, table=True):
    """An application's way through its service's stages."""

    __tablename__ = "workflows"
    __table_args__ = (
        Index(
            "ix_workflows_late",
            "due_at",
            postgresql_where=text("state = 'in_progress' AND waiting_since IS NULL AND sla_breached_at IS NULL"),
        ),
    )

    application_id: str = Field(primary_key=True)
    service_code: str = Field(index=True)
    catalogue_version: str
    state: str = Field(index=True, description="An ApplicationState.")
    current_stage: int = Field(description="Index of the running stage.")
    stage_count: int
    correlation_id: str
    data: dict[str, Any] = Field(
        sa_column=Column(JSONB, nullable=False),
        description="The form fields that are not personal, for later stages.",
    )
    personal_data_ciphertext: str | None = Field(
        default=None,
        sa_column=Column(Text),
        description="The personal form fields (the catalogue's `personal`), JSON sealed with the routing data keys.",
    )
    holder_ciphertext: str | None = Field(
        default=None,
        sa_column=Column(Text),
        description="Who the service's document is for (name and NIK as intake sealed them), JSON sealed again with "
        "the routing data keys; only for services that issue a document.",
    )
    documents: list[dict[str, str]] = Field(sa_column=Column(JSONB, nullable=False))
    outputs: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False), description="Outputs by agency.")
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    sla_breached_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    waiting_since: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True)),
        description="When it began to wait for the citizen's answer or fee (its SLA clock stopped); null otherwise.",
    )
    payment_stage: int | None = Field(
        default=None, description="The stage that waits for the fee (0: the first); null when there is no fee."
    )
    paid_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True)), description="When the fee was paid."
    )
    payment_expired_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True)),
        description="When the unpaid bill expired (and the application was cancelled).",
    )
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    tasks: list[TaskRecord] = Relationship(sa_relationship=relationship("TaskRecord", lazy="raise"))
    """Never loaded (queries fetch tasks; loading raises): it makes the unit of work insert a workflow before its
    tasks, so a batch of new workflows and tasks is written in one flush."""


class TaskRecord(SQLModel, table=True):
    """One agency's task in one stage."""

    __tablename__ = "workflow_tasks"
    __table_args__ = (
        Index(
            "ix_workflow_tasks_late",
            "due_at",
            postgresql_where=text("state IN ('assigned', 'claimed') AND sla_breached_at IS NULL"),
        ),
    )

    task_id: str = Field(primary_key=True)
    application_id: str = Field(index=True, foreign_key="workflows.application_id")
    agency: str = Field(index=True)
    stage_index: int
    state: str = Field(index=True, description="A TaskState.")
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    outputs: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    questions: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    reason: str | None = None
    claimed_by: str | None = None
    sla_breached_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    waiting_since: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True)),
        description="When it began to wait for the citizen's answer (its SLA clock stopped); null otherwise.",
    )
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class EarlyPaymentRecord(SQLModel, table=True):
    """A payment confirmed (or a bill expired) for an application routing has no workflow for yet: its submission
    is applied after it, and takes it from here."""

    __tablename__ = "routing_early_payments"

    application_id: str = Field(primary_key=True)
    paid_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    expired_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
