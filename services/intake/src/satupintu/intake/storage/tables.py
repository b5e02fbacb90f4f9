"""Intake's tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


class ApplicationRecord(SQLModel, table=True):
    """An application as intake accepted it, and its current public state."""

    __tablename__ = "applications"

    id: str = Field(primary_key=True, description="The application id (UUID).")
    tracking_code: str = Field(unique=True, index=True, description="The code the citizen tracks it with.")
    service_code: str = Field(index=True, description="The catalogue service applied for.")
    catalogue_version: str = Field(description="The catalogue version it was submitted under.")
    status: str = Field(description="The application's public state.")
    data: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False), description="The form's fields.")
    submitted_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
