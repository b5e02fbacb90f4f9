"""Notification's tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime
from sqlmodel import Field, SQLModel


class DeliveryRecord(SQLModel, table=True):
    """One message about one event on one channel: at most one per event and channel."""

    __tablename__ = "deliveries"

    cause_event_id: str = Field(primary_key=True, description="The event the citizen is told about.")
    channel: str = Field(primary_key=True, description="console, email, sms or webhook.")
    application_id: str = Field(index=True)
    template: str = Field(description="The template, named after the event type.")
    language: str
    status: str = Field(description="pending, sent or failed.")
    attempts: int = 0
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
