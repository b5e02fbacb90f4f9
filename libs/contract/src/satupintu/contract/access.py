"""Who viewed personal data or audit records, on the ``access`` topic (key: subject id)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from satupintu.contract.base import EventPayload
from satupintu.contract.topics import Topic


class AccessRecorded(EventPayload):
    """Someone read (or tried to read or change) personal data or audit records."""

    event_type: ClassVar[str] = "access.recorded"
    topic: ClassVar[Topic] = Topic.ACCESS

    subject_id: str = Field(
        description="The application what was accessed belongs to, when it belongs to one (also when access was "
        "denied, so the attempt is on that application's audit timeline; `resource` names what was asked for); "
        "otherwise what was accessed, e.g. a document hash, a complaint id or an audit query id."
    )
    principal: str = Field(description="Who: the actor string of the caller.")
    resource: str = Field(description="The resource, e.g. `GET /audit/events`, `task/<id>` or `document/<sha256>`.")
    action: str = Field(description="read, decide, claim, export ...")
    outcome: Literal["granted", "denied"] = Field(description="Whether access was allowed.")
    reason: str | None = Field(default=None, description="Why access was denied, when it was.")
    at: datetime = Field(description="When the access happened.")
