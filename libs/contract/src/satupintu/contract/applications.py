"""The public lifecycle of applications, on the ``applications`` topic (key: application id)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from satupintu.contract.base import DocumentRef, EventPayload, TaskState, pii_field
from satupintu.contract.topics import Topic

JsonScalar = str | int | float | bool | None


class Business(BaseModel):
    """A business applying through a representative: its identifiers as registered (OSS and the tax office)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    nib: str = Field(
        pattern=r"^[0-9]{13}$", description="The business's 13-digit NIB (Nomor Induk Berusaha, from OSS); public."
    )
    npwp: str = pii_field(
        "The business's NPWP (16 digits, or the legacy 15), sealed (field `applicant/business/npwp`): a sole "
        "proprietor's NPWP is their NIK."
    )
    name: str = Field(max_length=200, description="The business's registered name, e.g. `PT Maju Jaya`; public.")


class Applicant(BaseModel):
    """Who applied, as given at submission: personal data, marked so. For a business (``kind`` `business`), the
    person fields (`nik`, `name`, `email`, `phone`) are its representative's: the person applying on its behalf,
    who is told about the application."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["person", "business"] = Field(
        default="person", description="Whether a person applies for themselves or a business through a representative."
    )
    business: Business | None = pii_field(
        "The business applying, when `kind` is `business`; none for a person.", default=None
    )
    nik: str = pii_field(
        "The applicant's (for a business: its representative's) 16-digit NIK, sealed (`sealed.v1...`, field "
        "`applicant/nik`)."
    )
    name: str = pii_field(
        "The applicant's (for a business: its representative's) full name, sealed (field `applicant/name`)."
    )
    email: str | None = pii_field("E-mail address for notifications, sealed (field `applicant/email`).", default=None)
    phone: str | None = pii_field(
        "Phone number for SMS/WhatsApp notifications, sealed (field `applicant/phone`).", default=None
    )
    language: Literal["id", "en"] = Field(description="Language the applicant is told things in.")
    citizen: str | None = Field(
        default=None,
        description="The citizen's pseudonym: a keyed hash of the NIK, the same for all their applications, with "
        "which the mall finds a citizen's records without holding the NIK (decision 0016).",
    )

    @model_validator(mode="after")
    def _business_when_kind_business(self) -> Applicant:
        if (self.kind == "business") != (self.business is not None):
            raise ValueError("a business applicant has `business`, and only a business applicant has it")
        return self


class _ApplicationEvent(EventPayload):
    topic: ClassVar[Topic] = Topic.APPLICATIONS

    application_id: str = Field(description="The application's id; also the Kafka key and `ce_subject`.")


class ApplicationSubmitted(_ApplicationEvent):
    """A citizen's application was accepted by intake."""

    event_type: ClassVar[str] = "application.submitted"

    tracking_code: str = Field(description="The code the citizen tracks the application with.")
    service_code: str = Field(description="The catalogue service applied for.")
    catalogue_version: str = Field(description="The catalogue version the application was submitted under.")
    applicant: Applicant = pii_field("The applicant and their contact details.")
    data: dict[str, JsonScalar] = pii_field(
        "The application form's fields, as the catalogue defines them; personal ones sealed (field: the field's name)."
    )
    documents: tuple[DocumentRef, ...] = Field(default=(), description="Documents submitted, by hash.")
    reused_fields: tuple[str, ...] = Field(
        default=(), description="Fields taken from the citizen's profile (with consent and proof), not typed again."
    )
    submitted_at: datetime = Field(description="When intake accepted the application.")
    channel: Literal["online", "counter"] = Field(
        default="online",
        description="Where it was submitted: `online` by the citizen, `counter` by a clerk at a mall's counter for "
        "the citizen in front of them (the clerk is the event's actor).",
    )
    ticket_id: str | None = Field(
        default=None,
        description="The mall's queue ticket of the citizen served at the counter, when the clerk named one: the "
        "mall links it to this application and marks it served.",
    )


class ApplicationInformationProvided(_ApplicationEvent):
    """The citizen answered an agency's request for more information."""

    event_type: ClassVar[str] = "application.information_provided"

    task_id: str = Field(description="The task whose question was answered.")
    agency: str = Field(description="Lower-case code of the agency that asked.")
    answers: dict[str, JsonScalar] = pii_field("The answers, by field or question key, each sealed (field: its key).")
    documents: tuple[DocumentRef, ...] = Field(default=(), description="Documents added with the answer.")
    provided_at: datetime = Field(description="When the answer was accepted.")


class StageTask(BaseModel):
    """One task started in a stage."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task_id: str = Field(description="The task's id.")
    agency: str = Field(description="Lower-case code of the agency that must act.")
    due_at: datetime = Field(description="When the service standard says the task must be done.")


class ApplicationStageStarted(_ApplicationEvent):
    """Routing started a stage of the application's workflow."""

    event_type: ClassVar[str] = "application.stage_started"

    stage_index: int = Field(ge=0, description="Position of the stage in the service's workflow, from 0.")
    stage_name: str = Field(description="The stage's name in the catalogue.")
    stage_count: int = Field(ge=1, description="How many stages the workflow has.")
    tasks: tuple[StageTask, ...] = Field(description="The tasks run in parallel in this stage.")
    started_at: datetime = Field(description="When the stage started.")


class ApplicationTaskUpdated(_ApplicationEvent):
    """One agency's task of the application changed state."""

    event_type: ClassVar[str] = "application.task_updated"

    task_id: str = Field(description="The task's id.")
    agency: str = Field(description="Lower-case code of the agency the task belongs to.")
    state: TaskState = Field(description="The task's new state.")
    at: datetime = Field(description="When the task changed state.")


class ApplicationInformationRequested(_ApplicationEvent):
    """An agency needs more information from the citizen before it can decide."""

    event_type: ClassVar[str] = "application.information_requested"

    task_id: str = Field(description="The task that is paused until the citizen answers.")
    agency: str = Field(description="Lower-case code of the agency that asks.")
    questions: tuple[str, ...] = Field(min_length=1, description="What the agency asks, in its words.")
    requested_at: datetime = Field(description="When the agency asked.")


class ApplicationCompleted(_ApplicationEvent):
    """Every stage was approved: the application is done."""

    event_type: ClassVar[str] = "application.completed"

    outputs: dict[str, dict[str, JsonScalar]] = Field(
        description="Each agency's outputs (e.g. a certificate number), by lower-case agency code."
    )
    completed_at: datetime = Field(description="When the last stage was approved.")


class ApplicationRejected(_ApplicationEvent):
    """An agency rejected the application; its open tasks are withdrawn."""

    event_type: ClassVar[str] = "application.rejected"

    agency: str = Field(description="Lower-case code of the rejecting agency.")
    task_id: str = Field(description="The task that was rejected.")
    reason: str = Field(description="The agency's reason, shown to the citizen.")
    rejected_at: datetime = Field(description="When the rejection was decided.")


class ApplicationSlaBreached(_ApplicationEvent):
    """The application passed the total completion time of its service standard."""

    event_type: ClassVar[str] = "application.sla_breached"

    due_at: datetime = Field(description="When the application should have been done.")
    breached_at: datetime = Field(description="When the breach was detected.")
    escalation_target: str = Field(description="Who is told to act: the service's owning agency or the mall.")


class ApplicationTaskSlaBreached(_ApplicationEvent):
    """One agency's task of the application passed its due date: the public twin of ``task.sla_breached`` (which
    stays on the agency's own tasks topic), published in the same transaction, so that services without access to
    agency topics (notification) can tell the escalation target."""

    event_type: ClassVar[str] = "application.task_sla_breached"

    task_id: str = Field(description="The late task.")
    agency: str = Field(description="Lower-case code of the agency whose task is late.")
    due_at: datetime = Field(description="When the task should have been done.")
    breached_at: datetime = Field(description="When the breach was detected.")
    escalation_target: str = Field(description="Who is told to act, e.g. the agency's head of service.")


class ApplicationCancelled(_ApplicationEvent):
    """The application ended without a decision on it: its fee was not paid before the bill expired. Nothing of it
    goes on; open tasks are withdrawn."""

    event_type: ClassVar[str] = "application.cancelled"

    reason: Literal["payment_expired"] = Field(description="Why it was cancelled: `payment_expired`.")
    cancelled_at: datetime = Field(description="When routing cancelled it.")
