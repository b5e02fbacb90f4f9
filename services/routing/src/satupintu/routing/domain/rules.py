"""Routing's rules, no I/O: what a task or decision may do, in words an operator can act on."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TypeVar

from satupintu.contract.base import ApplicationState, Decision, TaskState

V = TypeVar("V")

WRITTEN_ANSWER = "message"
"""The key of the citizen's written answer to an information request (intake's ``message``)."""

OPEN_TASK_STATES = frozenset({TaskState.ASSIGNED, TaskState.CLAIMED, TaskState.INFORMATION_REQUESTED})
FINAL_APPLICATION_STATES = frozenset(
    {ApplicationState.COMPLETED, ApplicationState.REJECTED, ApplicationState.CANCELLED}
)


class InvalidTransition(Exception):
    """An event asks for a transition the workflow does not allow; it changes nothing and is dead-lettered."""


class DecisionRefused(InvalidTransition):
    """An agency's decision on its own task that the workflow cannot take now (already decided, withdrawn, a
    rejection without a reason, ...): it changes nothing, and routing tells the agency why
    (``task.decision_refused``) instead of dead-lettering it."""


def agency_of_topic(topic: str) -> str | None:
    """The agency code in a per-agency topic name (``[prefix]agency.<code>.decisions``), if it is one."""
    parts = topic.split(".")
    if len(parts) >= 3 and parts[-3] == "agency":
        return parts[-2]
    return None


def check_decision_allowed(
    *,
    task_state: TaskState,
    task_agency: str,
    decided_by: str,
    topic_agency: str | None,
    task_stage: int,
    current_stage: int,
    application_state: ApplicationState,
) -> None:
    """Raise :class:`InvalidTransition` unless an agency may decide (or claim) this task now: plainly when it is not
    the agency's task to decide at all (wrong topic, another agency's task), :class:`DecisionRefused` when it is but
    the task cannot take a decision now."""
    if topic_agency is not None and decided_by != topic_agency:
        raise InvalidTransition(f"decision names agency {decided_by!r} but came on the topic of {topic_agency!r}")
    if decided_by != task_agency:
        raise InvalidTransition(f"task belongs to agency {task_agency!r}, not {decided_by!r}")
    if application_state in FINAL_APPLICATION_STATES:
        raise DecisionRefused(f"application is already {application_state.value}")
    if task_state is TaskState.WITHDRAWN:
        raise DecisionRefused("task was withdrawn")
    if task_state in (TaskState.APPROVED, TaskState.REJECTED):
        raise DecisionRefused(f"task was already decided ({task_state.value})")
    if task_state is TaskState.INFORMATION_REQUESTED:
        raise DecisionRefused("task is waiting for the citizen's information")
    if task_stage != current_stage:
        raise DecisionRefused(f"task is in stage {task_stage} but the application is in stage {current_stage}")


def check_decision_complete(decision: Decision, *, reason: str | None, questions: tuple[str, ...]) -> None:
    """Raise :class:`DecisionRefused` for a decision missing what it needs: a rejection's reason, a question."""
    if decision is Decision.REJECTED and not reason:
        raise DecisionRefused("a rejection needs a reason")
    if decision is Decision.NEEDS_INFORMATION and not questions:
        raise DecisionRefused("a request for information needs at least one question")


def answers_for_asking_agency(
    answers: Mapping[str, V],
    *,
    form_fields: Collection[str],
    visible_fields: Collection[str],
    questions: Collection[str],
) -> dict[str, V]:
    """The answers to an information request that the agency which asked may receive, judged by their keys alone
    (values pass through as they came, sealed or not): an answer naming a form field of the service only when the
    field is among the agency's ``visible_fields``; the answer to its own request (the written answer, or one keyed
    by one of its ``questions``); nothing else."""
    kept: dict[str, V] = {}
    for key, value in answers.items():
        if key in form_fields:
            if key in visible_fields:
                kept[key] = value
        elif key == WRITTEN_ANSWER or key in questions:
            kept[key] = value
    return kept
