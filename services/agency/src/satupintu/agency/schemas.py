"""The desk's JSON API models (requests and answers)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from satupintu.agency.domain import DeskTaskState, SlaState
from satupintu.agency.services import ClaimView, DecisionView, ReassignmentView, TaskView
from satupintu.agency.services.issuance import IssuedView
from satupintu.contract.applications import JsonScalar
from satupintu.contract.base import Decision


class DocumentLink(BaseModel):
    """A document the agency may see."""

    name: str = Field(description="The requirement it satisfies, e.g. `ktp`.")
    sha256: str = Field(description="Its content hash: its address.")
    url: str = Field(description="Where to read it: `GET /documents/{sha256}`.")


class TaskSummary(BaseModel):
    """A task in the agency's pool: open, or decided and waiting for routing to accept or refuse the decision."""

    task_id: str = Field(description="The task's id.")
    application_id: str = Field(description="The application it belongs to.")
    service_code: str = Field(description="The catalogue service.")
    service_name: str = Field(description="The service's name (Indonesian).")
    action: str = Field(description="What the agency must do, from the catalogue (Indonesian).")
    stage_index: int = Field(description="The workflow stage, from 0.")
    stage_name: str = Field(description="The stage's name in the catalogue.")
    assigned_at: datetime = Field(description="When routing assigned it.")
    due_at: datetime = Field(description="When the service standard says it must be done.")
    sla_state: SlaState = Field(
        description=(
            "`breached` past the due date; `due_soon` when due before the end of the next working day in the "
            "agency's time zone (configurable); `on_time` otherwise."
        )
    )
    claimed_by: str | None = Field(description="The officer holding a claim (only ever the caller in this list).")
    claim_expires_at: datetime | None = Field(description="When the claim lapses unless the task is decided.")
    state: DeskTaskState = Field(
        description=(
            "`open` (claimable when nobody else holds a live claim); `decision_sent`: decided, waiting for routing "
            "to accept the decision (then the task is `decided`, or `information_requested` for a question) or to "
            "refuse it (then it is `open` again, with `refusal_reason`); `withdrawn` when no longer needed."
        )
    )
    decision: Decision | None = Field(description="The decision sent to routing, or accepted by it.")
    refusal_reason: str | None = Field(
        description=(
            "Why routing refused the latest decision on the task (e.g. `a rejection needs a reason`): the task is "
            "open again. Cleared by the next decision and by a new assignment."
        )
    )
    refused_at: datetime | None = Field(description="When routing refused it.")

    @classmethod
    def of(cls, view: TaskView) -> TaskSummary:
        """The summary of a task view."""
        return cls.model_validate(view, from_attributes=True)


class TaskRead(TaskSummary):
    """One task with what the agency may see of the application."""

    agency: str = Field(description="The agency the task belongs to (the caller's).")
    fields: dict[str, JsonScalar] = Field(description="The application fields this agency may see.")
    field_labels: dict[str, str] = Field(description="Each field's label from the catalogue (Indonesian).")
    documents: list[DocumentLink] = Field(description="Documents this agency may see.")
    previous_outputs: dict[str, dict[str, JsonScalar]] = Field(description="Earlier stages' outputs, by agency.")
    answers: dict[str, JsonScalar] = Field(description="The citizen's answers, when re-assigned after a question.")

    @classmethod
    def of(cls, view: TaskView) -> TaskRead:
        """The full answer for a task view."""
        summary = TaskSummary.of(view).model_dump()
        return cls(
            **summary,
            agency=view.agency,
            fields={field.name: field.value for field in view.fields},
            field_labels={field.name: field.label for field in view.fields},
            documents=[
                DocumentLink(name=d.name, sha256=d.sha256, url=f"/documents/{d.sha256}") for d in view.documents
            ],
            previous_outputs={agency: dict(outputs) for agency, outputs in view.previous_outputs.items()},
            answers=dict(view.answers),
        )


class ClaimRead(BaseModel):
    """The caller's claim on a task."""

    task_id: str = Field(description="The task claimed.")
    officer: str = Field(description="The officer holding the claim.")
    claimed_at: datetime = Field(description="When it was claimed.")
    expires_at: datetime = Field(description="When the claim lapses and the task returns to the pool.")

    @classmethod
    def of(cls, view: ClaimView) -> ClaimRead:
        """The answer for a claim."""
        return cls.model_validate(view, from_attributes=True)


class DecisionCreate(BaseModel):
    """An officer's decision on a task they hold a claim on."""

    model_config = ConfigDict(extra="forbid")

    decision: Decision = Field(description="approved, rejected or needs_information.")
    outputs: dict[str, JsonScalar] = Field(
        default_factory=dict, description='What an approval produced, e.g. `{"birth_certificate_number": "..."}`.'
    )
    reason: str | None = Field(default=None, description="Why it is rejected; required for a rejection.")
    questions: list[str] = Field(default_factory=list, description="What to ask the citizen; for needs_information.")


class DecisionRead(BaseModel):
    """A decision the desk published on the agency's decisions topic; the task waits for routing's answer
    (`decision_sent`), then is closed, or open again with `refusal_reason`."""

    task_id: str = Field(description="The task decided.")
    decision: Decision = Field(description="What was decided.")
    decided_at: datetime = Field(description="When.")
    event_id: str = Field(description="`ce_id` of the `task.decided` event (derived from the assignment).")

    @classmethod
    def of(cls, view: DecisionView) -> DecisionRead:
        """The answer for a decision."""
        return cls.model_validate(view, from_attributes=True)


class IssuedDocumentRead(BaseModel):
    """A document the agency issued."""

    document_id: str = Field(description="Its id: the address of its public page `/verify/{document_id}` on intake.")
    application_id: str = Field(description="The application it was issued for.")
    service_code: str = Field(description="The catalogue service.")
    number: str = Field(description="Its number, unique per agency and year.")
    issued_at: datetime = Field(description="When it was issued.")
    valid_until: date | None = Field(description="The last day it is valid; none: it does not expire.")
    officer: str = Field(description="Who approved it (actor).")
    sha256: str = Field(description="Hex SHA-256 of the signed PDF.")
    revoked_at: datetime | None = Field(description="When it was revoked, if it was.")
    revoked_by: str | None = Field(description="Who revoked it (actor).")
    revocation_reason: str | None = Field(description="Why, as the public page shows it.")

    @classmethod
    def of(cls, view: IssuedView) -> IssuedDocumentRead:
        """The answer for an issued document."""
        return cls.model_validate(view, from_attributes=True)


class RevocationCreate(BaseModel):
    """Revoking an issued document."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=1000, description="Why it is revoked; shown on the public verification page.")


class SupervisedTask(TaskSummary):
    """A task of the supervisor's agency still to be done, with who holds it."""

    claimed_by: str | None = Field(
        description="The officer whose claim holds the task (a lapsed claim is still named until it is taken over)."
    )
    claimed_at: datetime | None = Field(description="When they claimed it (or a supervisor gave it to them).")
    claim_live: bool = Field(description="Whether the claim still holds: until `claim_expires_at`.")
    state: DeskTaskState = Field(
        description=(
            "`open` (unclaimed or claimed), `decision_sent` (waiting for routing to accept the decision) or "
            "`information_requested` (waiting for the citizen's answer)."
        )
    )

    @classmethod
    def at(cls, view: TaskView, now: datetime) -> SupervisedTask:
        """The supervisor's row of a task view at ``now``."""
        return cls.model_validate(
            {**TaskSummary.of(view).model_dump(), "claimed_at": view.claimed_at, "claim_live": view.claim_live(now)}
        )


class ReassignCreate(BaseModel):
    """Whom a supervisor gives an open task's claim to."""

    model_config = ConfigDict(extra="forbid")

    officer: str = Field(
        max_length=300, description="The user name of an officer of your agency, e.g. `officer-polres`."
    )


class ReassignRead(BaseModel):
    """A task's claim moved by a supervisor; `task.claimed` names the new holder."""

    task_id: str = Field(description="The task.")
    officer: str = Field(description="The officer now holding the claim.")
    previous_officer: str | None = Field(description="Who held a live claim before, if anybody.")
    supervisor: str = Field(description="The supervisor who moved it.")
    claimed_at: datetime = Field(description="When.")
    expires_at: datetime = Field(description="When the new claim lapses unless the task is decided.")

    @classmethod
    def of(cls, view: ReassignmentView) -> ReassignRead:
        """The answer for a reassignment."""
        return cls.model_validate(view, from_attributes=True)
