"""What every event payload is: a frozen, versioned pydantic model bound to one CloudEvents type and one topic."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from satupintu.contract.topics import Topic

PII: dict[str, Any] = {"pii": True}
"""``json_schema_extra`` marker of a personal-data field; consumers redact such fields by rule."""


def pii_field(description: str, **kwargs: Any) -> Any:
    """A field holding personal data: described, and marked so consumers can redact it by rule."""
    return Field(description=description, json_schema_extra=PII, **kwargs)


class EventPayload(BaseModel):
    """Base of every event payload. Subclasses set ``event_type``, ``topic`` and ``schema_version``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    topic: ClassVar[Topic]
    schema_version: ClassVar[int] = 1

    @classmethod
    def dataschema(cls) -> str:
        """The ``ce_dataschema`` naming this payload's schema and version."""
        return f"urn:satupintu:schema:{cls.event_type}:v{cls.schema_version}"

    @classmethod
    def personal_fields(cls) -> frozenset[str]:
        """Names of the top-level fields marked as personal data."""
        return frozenset(
            name
            for name, info in cls.model_fields.items()
            if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("pii")
        )


class ApplicationState(StrEnum):
    """Where an application is in its life."""

    SUBMITTED = "submitted"
    IN_PROGRESS = "in_progress"
    INFORMATION_REQUESTED = "information_requested"
    COMPLETED = "completed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    """Ended without a decision: its fee was not paid in time (``application.cancelled``)."""


class TaskState(StrEnum):
    """Where one agency's task is in its life."""

    ASSIGNED = "assigned"
    CLAIMED = "claimed"
    INFORMATION_REQUESTED = "information_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Decision(StrEnum):
    """What an agency decided about a task."""

    APPROVED = "approved"
    REJECTED = "rejected"
    NEEDS_INFORMATION = "needs_information"


class DocumentRef(BaseModel):
    """A document by its content hash; events reference documents, never embed them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="The requirement this document satisfies, e.g. `ktp`.", max_length=100)
    sha256: str = Field(description="Hex SHA-256 of the stored content.", pattern=r"^[0-9a-f]{64}$")
