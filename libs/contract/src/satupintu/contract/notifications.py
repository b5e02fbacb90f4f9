"""Delivery outcomes of messages to citizens, on the ``notifications`` topic (key: application id)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from satupintu.contract.base import EventPayload
from satupintu.contract.topics import Topic


class _NotificationEvent(EventPayload):
    topic: ClassVar[Topic] = Topic.NOTIFICATIONS

    application_id: str = Field(description="The application the message was about; also the Kafka key.")
    cause_event_id: str = Field(description="The `ce_id` of the event the message told the citizen about.")
    channel: str = Field(description="email, sms or webhook.")
    template: str = Field(description="The template used, e.g. `application.completed`.")
    language: str = Field(description="id or en.")
    recipient: str = Field(description="The recipient, masked (e.g. `b***@example.go.id`).")


class NotificationSent(_NotificationEvent):
    """A message reached its channel."""

    event_type: ClassVar[str] = "notification.sent"

    attempts: int = Field(ge=1, description="Attempts it took.")
    sent_at: datetime = Field(description="When the channel accepted the message.")


class NotificationFailed(_NotificationEvent):
    """A message could not be delivered after its retry budget, or failed permanently."""

    event_type: ClassVar[str] = "notification.failed"

    attempts: int = Field(ge=1, description="Attempts made.")
    reason: str = Field(description="The last error, without personal data.")
    failed_at: datetime = Field(description="When delivery was given up.")
