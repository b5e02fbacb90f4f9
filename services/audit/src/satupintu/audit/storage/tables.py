"""Audit's append-only log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Identity
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


class AuditEntry(SQLModel, table=True):
    """One event seen on any topic, in the order the audit service appended it."""

    __tablename__ = "audit_log"

    seq: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True))
    ce_id: str = Field(unique=True, description="The event's `ce_id` (a redelivery adds nothing).")
    topic: str = Field(index=True)
    type: str = Field(index=True)
    source: str
    actor: str = Field(index=True)
    agency: str | None = Field(default=None, index=True)
    application_id: str | None = Field(default=None, index=True)
    time: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    payload: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False), description="Personal data hashed.")
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
