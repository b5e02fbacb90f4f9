"""Proving control of a contact on file, on the ``notifications`` topic: intake issues a one-time code (key:
verification id) and notification delivers it; a counter clerk's reset of the contact on file (key: reset id) is
told to the old contact and the new one."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from satupintu.contract.base import EventPayload, pii_field
from satupintu.contract.topics import Topic


class VerificationCodeIssued(EventPayload):
    """A one-time code was issued to a citizen's contact on file; deliver it there and nowhere else."""

    event_type: ClassVar[str] = "verification.code_issued"
    topic: ClassVar[Topic] = Topic.NOTIFICATIONS

    verification_id: str = Field(description="The verification's id; also the Kafka key and `ce_subject`.")
    channel: Literal["email", "sms"] = Field(description="Where the code goes.")
    recipient: str = pii_field(
        "The e-mail address or phone number on file, sealed for notification (`sealed.v1...`, field `recipient`, "
        "subject the verification id; decision 0016)."
    )
    code: str = pii_field("The one-time code (6 digits), sealed for notification (field `code`).")
    language: Literal["id", "en"] = Field(description="Language of the message.")
    expires_at: datetime = Field(description="When the code stops working.")


class ProfileContactReset(EventPayload):
    """A counter clerk who saw the citizen's KTP replaced the contact on file of the citizen's profile; tell the
    contact that was on file (if any) and the new one, so a reset nobody asked for is noticed."""

    event_type: ClassVar[str] = "profile.contact_reset"
    topic: ClassVar[Topic] = Topic.NOTIFICATIONS

    reset_id: str = Field(description="The reset's id; also the Kafka key and `ce_subject`.")
    old_channel: Literal["email", "sms"] | None = Field(
        default=None, description="Where the contact that was on file is reached; null when there was none."
    )
    old_recipient: str | None = pii_field(
        "The e-mail address or phone number that was on file, sealed for notification (field `old_recipient`, "
        "subject the reset id; decision 0016).",
        default=None,
    )
    new_channel: Literal["email", "sms"] = Field(description="Where the new contact is reached.")
    new_recipient: str = pii_field(
        "The e-mail address or phone number now on file, sealed for notification (field `new_recipient`)."
    )
    language: Literal["id", "en"] = Field(description="Language of the notices.")
    reset_at: datetime = Field(description="When the clerk reset the contact.")
