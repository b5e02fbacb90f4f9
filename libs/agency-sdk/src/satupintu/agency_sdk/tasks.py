"""What an agency's logic sees and answers: the task, the outcome it decides (:func:`approve`, :func:`reject`,
:func:`request_information`), and the ids and names every decider of an assignment shares."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from satupintu.contract.applications import JsonScalar
from satupintu.contract.base import Decision, DocumentRef
from satupintu.contract.envelope import Event
from satupintu.contract.tasks import TaskAssigned

DECISION_NAMESPACE = uuid.UUID("6f1d3c1e-6a43-4c57-9c55-3b1f4f0d2a10")


def decision_event_id(assignment_id: str, refusals: int = 0) -> str:
    """The ``ce_id`` of the decision answering the assignment event ``assignment_id``; the same for every decider.

    ``refusals`` counts the decisions on that assignment routing refused: a decision made after a refusal is a new
    one, and needs an id routing's inbox has not seen (the desk's officers decide again after a refusal).
    """
    return str(uuid.uuid5(DECISION_NAMESPACE, assignment_id if refusals == 0 else f"{assignment_id}#{refusals}"))


def consumer_group(agency: str, worker_name: str) -> str:
    """The consumer group of an agency's worker, without the cluster prefix: ``satupintu.agency.<code>.<name>``.

    Every group of an agency shares the prefix ``satupintu.agency.<code>.``, which its broker ACL grants.
    """
    return f"satupintu.agency.{agency.lower()}.{worker_name}"


@dataclass(frozen=True)
class Task:
    """A task as the agency's system sees it: only the fields the agency may see."""

    task_id: str
    application_id: str
    agency: str
    service_code: str
    stage_index: int
    fields: Mapping[str, JsonScalar]
    documents: tuple[DocumentRef, ...]
    previous_outputs: Mapping[str, Mapping[str, JsonScalar]]
    answers: Mapping[str, JsonScalar]
    due_at: datetime
    assignment_id: str

    @classmethod
    def from_event(cls, event: Event[TaskAssigned]) -> Task:
        """The task carried by a ``task.assigned`` event."""
        assigned = event.payload
        return cls(
            task_id=assigned.task_id,
            application_id=assigned.application_id,
            agency=assigned.agency,
            service_code=assigned.service_code,
            stage_index=assigned.stage_index,
            fields=assigned.fields,
            documents=assigned.documents,
            previous_outputs=assigned.previous_outputs,
            answers=assigned.answers,
            due_at=assigned.due_at,
            assignment_id=event.id,
        )


@dataclass(frozen=True)
class Outcome:
    """What the agency decided; build one with :func:`approve`, :func:`reject` or :func:`request_information`."""

    decision: Decision
    outputs: Mapping[str, JsonScalar] | None = None
    reason: str | None = None
    questions: tuple[str, ...] = ()


def approve(outputs: Mapping[str, JsonScalar] | None = None) -> Outcome:
    """Approve the task, with what it produced (e.g. a certificate number)."""
    return Outcome(Decision.APPROVED, outputs=outputs or {})


def reject(reason: str) -> Outcome:
    """Reject the task (and so the application), with a reason the citizen will read."""
    if not reason.strip():
        raise ValueError("a rejection needs a reason")
    return Outcome(Decision.REJECTED, reason=reason)


def request_information(*questions: str) -> Outcome:
    """Pause the task until the citizen answers ``questions``."""
    if not questions or not all(question.strip() for question in questions):
        raise ValueError("ask at least one question, none of them empty")
    return Outcome(Decision.NEEDS_INFORMATION, questions=tuple(questions))


Decide = Callable[[Task], Awaitable[Outcome | None]]
"""The agency's logic: an outcome, or None to leave the task to an officer at the desk."""


class ForeignTaskError(ValueError):
    """A worker was asked to decide a task of another agency; it never publishes such a decision."""
