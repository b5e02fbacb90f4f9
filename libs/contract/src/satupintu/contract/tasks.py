"""Tasks for one agency (``agency.<code>.tasks``: assignments, withdrawals, breaches, and what routing made of the
agency's decisions) and what the agency did (``agency.<code>.decisions``)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from satupintu.contract.applications import Business, JsonScalar
from satupintu.contract.base import Decision, DocumentRef, EventPayload, pii_field
from satupintu.contract.topics import Topic


class _TaskEvent(EventPayload):
    application_id: str = Field(description="The application the task belongs to; also the Kafka key.")
    task_id: str = Field(description="The task's id.")
    agency: str = Field(description="Lower-case code of the agency the task belongs to.")


class DocumentHolder(BaseModel):
    """Who the document an agency issues is for (a business, when `business` is given): the applicant's name and
    NIK as intake sealed them in
    `application.submitted` (fields `applicant/name` and `applicant/nik`, subject the application id), passed on
    unopened by routing; the issuing agency opens them with the citizen's key from `keys.agency.<code>`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = pii_field("The applicant's full name, sealed (field `applicant/name`).")
    nik: str = pii_field("The applicant's NIK, sealed (field `applicant/nik`).")
    business: Business | None = pii_field(
        "For a business's application, the business the document is for (its name and NIB plain, its NPWP sealed, "
        "as in `application.submitted`); `name` and `nik` are then its representative's. None for a person.",
        default=None,
    )


class TaskAssigned(_TaskEvent):
    """Routing gives an agency a task: only the fields that agency may see."""

    event_type: ClassVar[str] = "task.assigned"
    topic: ClassVar[Topic] = Topic.AGENCY_TASKS

    service_code: str = Field(description="The catalogue service the application is for.")
    stage_index: int = Field(ge=0, description="The workflow stage the task belongs to.")
    fields: dict[str, JsonScalar] = pii_field(
        "The application fields this agency may see; the personal ones sealed for it (field: the field's name, "
        "subject the application id; opened with the citizen's key from `keys.agency.<code>`, decision 0016)."
    )
    documents: tuple[DocumentRef, ...] = Field(default=(), description="Documents this agency may see, by hash.")
    previous_outputs: dict[str, dict[str, JsonScalar]] = Field(
        default_factory=dict, description="Outputs of earlier stages this task needs, by agency."
    )
    answers: dict[str, JsonScalar] = pii_field(
        "The citizen's answers when the task is re-assigned after an information request, each sealed for this "
        "agency (field: its key).",
        default_factory=dict,
    )
    holder: DocumentHolder | None = pii_field(
        "Who the service's document is for, only on the task of the agency that issues it (the catalogue's "
        "`document`); none on every other task.",
        default=None,
    )
    due_at: datetime = Field(description="When the service standard says the task must be done.")
    assigned_at: datetime = Field(description="When the task was assigned.")


class TaskWithdrawn(_TaskEvent):
    """The task no longer needs doing (the application was rejected elsewhere)."""

    event_type: ClassVar[str] = "task.withdrawn"
    topic: ClassVar[Topic] = Topic.AGENCY_TASKS

    reason: str = Field(description="Why the task was withdrawn.")
    withdrawn_at: datetime = Field(description="When the task was withdrawn.")


class TaskSlaBreached(_TaskEvent):
    """The task passed its due date."""

    event_type: ClassVar[str] = "task.sla_breached"
    topic: ClassVar[Topic] = Topic.AGENCY_TASKS

    due_at: datetime = Field(description="When the task should have been done.")
    breached_at: datetime = Field(description="When the breach was detected.")
    escalation_target: str = Field(description="Who is told to act, e.g. the agency's head of service.")


class TaskClaimed(_TaskEvent):
    """An officer took the task; colleagues no longer see it until the claim expires."""

    event_type: ClassVar[str] = "task.claimed"
    topic: ClassVar[Topic] = Topic.AGENCY_DECISIONS

    officer: str = Field(description="The officer's user id within the agency.")
    claimed_at: datetime = Field(description="When the task was claimed.")
    expires_at: datetime = Field(description="When the claim lapses unless the officer decides.")


class TaskDecided(_TaskEvent):
    """The agency approved or rejected the task, or needs more information from the citizen."""

    event_type: ClassVar[str] = "task.decided"
    topic: ClassVar[Topic] = Topic.AGENCY_DECISIONS

    decision: Decision = Field(description="What the agency decided.")
    outputs: dict[str, JsonScalar] = Field(default_factory=dict, description="What an approval produced.")
    reason: str | None = Field(default=None, description="Why it was rejected (required for a rejection).")
    questions: tuple[str, ...] = Field(default=(), description="What the agency asks (for needs_information).")
    decided_at: datetime = Field(description="When the decision was made.")


class TaskDecisionAccepted(_TaskEvent):
    """Routing applied the agency's decision: the task is done (or waits for the citizen's answer)."""

    event_type: ClassVar[str] = "task.decision_accepted"
    topic: ClassVar[Topic] = Topic.AGENCY_TASKS

    decision: Decision = Field(description="The decision routing applied.")
    decision_event_id: str = Field(description="`ce_id` of the `task.decided` event routing applied.")
    outputs: dict[str, JsonScalar] = Field(
        default_factory=dict,
        description="The approval's outputs as routing applied them (what the issued document prints); empty for "
        "any other decision.",
    )
    accepted_at: datetime = Field(description="When routing applied the decision.")


class TaskDecisionRefused(_TaskEvent):
    """Routing refused the agency's decision on its own task and changed nothing: the task is still the agency's to
    decide (unless it was withdrawn or decided before)."""

    event_type: ClassVar[str] = "task.decision_refused"
    topic: ClassVar[Topic] = Topic.AGENCY_TASKS

    decision: Decision = Field(description="The decision routing refused.")
    decision_event_id: str = Field(description="`ce_id` of the `task.decided` event routing refused.")
    reason: str = Field(description="Why routing refused it, e.g. `task was already decided (approved)`.")
    refused_at: datetime = Field(description="When routing refused the decision.")
