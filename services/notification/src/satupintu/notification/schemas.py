"""Notification's HTTP response models."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class AttemptRead(BaseModel):
    """One attempt to hand a message to its channel."""

    number: int = Field(description="1 for the first attempt.")
    started_at: datetime = Field(description="When the attempt started.")
    finished_at: datetime | None = Field(description="When it ended; empty while running or if it was cut off.")
    outcome: str | None = Field(description="sent, transient_failure or permanent_failure.")
    detail: str | None = Field(description="The channel's answer on failure, without personal data.")


class DeliveryRead(BaseModel):
    """One message about one event on one channel, as an operator sees it: recipient masked, no content."""

    message_id: str = Field(description="Stable id: the e-mail's Message-ID, the gateway's Idempotency-Key.")
    cause_event_id: str = Field(description="The event (ce_id) the message is about.")
    channel: str = Field(description="console, email, sms or webhook:<subscriber>.")
    template: str = Field(description="The template, named after the event type.")
    language: str = Field(description="id or en.")
    recipient: str = Field(description="The recipient, masked.")
    status: str = Field(description="pending, sent or failed.")
    attempt_count: int = Field(description="Attempts started.")
    next_attempt_at: datetime | None = Field(description="When the next attempt is due, while pending.")
    last_error: str | None = Field(description="Why the last failed attempt failed.")
    created_at: datetime = Field(description="When the message was decided on.")
    sent_at: datetime | None = Field(description="When the channel accepted it.")
    failed_at: datetime | None = Field(description="When it was given up.")
    attempts: list[AttemptRead] = Field(description="Every attempt, in order.")


class NotificationsRead(BaseModel):
    """What an application's applicant and subscribers were told, and how delivery went."""

    application_id: str = Field(description="The application.")
    deliveries: list[DeliveryRead] = Field(description="Its deliveries, oldest first.")
