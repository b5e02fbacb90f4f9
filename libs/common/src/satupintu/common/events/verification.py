"""Proving control of a contact on file, on the ``notifications`` topic (key: verification id): intake issues a
one-time code and notification delivers it."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from satupintu.common.events.base import EventPayload, pii_field
from satupintu.common.events.topics import Topic


class VerificationCodeIssued(EventPayload):
    """A one-time code was issued to a citizen's contact on file; deliver it there and nowhere else."""

    event_type: ClassVar[str] = "verification.code_issued"
    topic: ClassVar[Topic] = Topic.NOTIFICATIONS

    verification_id: str = Field(description="The verification's id; also the Kafka key and `ce_subject`.")
    channel: Literal["email", "sms"] = Field(description="Where the code goes.")
    recipient: str = pii_field("The e-mail address or phone number on file.")
    code: str = pii_field("The one-time code (6 digits).")
    language: Literal["id", "en"] = Field(description="Language of the message.")
    expires_at: datetime = Field(description="When the code stops working.")
