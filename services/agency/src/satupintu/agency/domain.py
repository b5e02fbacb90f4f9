"""The desk's rules, no I/O: a task's SLA state, who may claim and decide it, what a valid decision is, and the
errors a desk user can act on."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from satupintu.common.working_days import WorkingCalendar
from satupintu.contract.base import Decision

OUTPUT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_OUTPUTS = 20
MAX_OUTPUT_VALUE_LENGTH = 500
MAX_REASON_LENGTH = 2000
MAX_QUESTIONS = 10
MAX_QUESTION_LENGTH = 500


class DeskTaskState(StrEnum):
    """Where a task is, as the desk knows it from the agency's topics."""

    OPEN = "open"
    """Assigned and not yet decided: claimable (when no live claim holds it) and decidable by its claimant. Also
    where a task returns when routing refuses its decision (``task.decision_refused``), with the reason."""
    DECISION_SENT = "decision_sent"
    """Decided at the desk or by the agency's own system; routing has not accepted or refused the decision yet.
    Nobody can claim or decide it meanwhile."""
    INFORMATION_REQUESTED = "information_requested"
    """Routing accepted the agency's question to the citizen; the task comes back (re-assigned) with the answers."""
    DECIDED = "decided"
    """Routing accepted the approval or rejection (``task.decision_accepted``)."""
    WITHDRAWN = "withdrawn"
    """No longer needed (another agency rejected the application)."""


class SlaState(StrEnum):
    """How a task stands against its service-standard due date."""

    ON_TIME = "on_time"
    DUE_SOON = "due_soon"
    BREACHED = "breached"


def sla_state(
    due_at: datetime,
    now: datetime,
    calendar: WorkingCalendar,
    *,
    breached: bool = False,
    due_soon_working_days: int = 1,
) -> SlaState:
    """``breached`` past the due date (or once routing announced the breach); ``due_soon`` when the task is due
    before the end of the ``due_soon_working_days``-th working day after today in the agency's time zone (with the
    default 1: due today or on the next working day, so Friday afternoon already warns of Monday's deadline)."""
    if breached or now > due_at:
        return SlaState.BREACHED
    horizon = calendar.due_at(now, due_soon_working_days)
    return SlaState.DUE_SOON if due_at <= horizon else SlaState.ON_TIME


def agency_of_topic(topic: str) -> str | None:
    """The agency code in a per-agency topic name (``[prefix]agency.<code>.tasks|decisions``), if it is one."""
    parts = topic.split(".")
    if len(parts) >= 3 and parts[-3] == "agency":
        return parts[-2]
    return None


class DeskError(Exception):
    """A request the desk refuses; ``status`` and ``problem_type`` say how to answer it over HTTP."""

    status = 409
    problem_type = "conflict"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class TaskNotFound(DeskError):
    """No task with that id for the caller's agency (also the answer for another agency's task)."""

    status = 404
    problem_type = "task-not-found"

    def __init__(self, task_id: str) -> None:
        super().__init__(f"Your agency has no task {task_id}.")


class TaskNotOpen(DeskError):
    """The task was decided, withdrawn or is waiting for the citizen: nothing to claim or decide."""

    problem_type = "task-not-open"

    def __init__(self, state: str) -> None:
        messages = {
            DeskTaskState.DECISION_SENT: "A decision on the task was sent; routing has not accepted or refused it yet.",
            DeskTaskState.DECIDED: "The task was already decided.",
            DeskTaskState.WITHDRAWN: "The task was withdrawn: another agency rejected the application.",
            DeskTaskState.INFORMATION_REQUESTED: "The task waits for the citizen's answer; it comes back when given.",
        }
        super().__init__(messages.get(DeskTaskState(state), f"The task is {state}."))


class ClaimedByColleague(DeskError):
    """Another officer holds a live claim on the task."""

    problem_type = "task-claimed"

    def __init__(self, officer: str, until: datetime) -> None:
        super().__init__(f"{officer} claimed the task; the claim lasts until {until.isoformat()} unless decided.")
        self.officer = officer
        self.until = until


class ClaimRequired(DeskError):
    """Deciding needs a live claim by the caller."""

    problem_type = "claim-required"

    def __init__(self, expired: bool) -> None:
        super().__init__(
            "Your claim on the task expired; claim it again to decide."
            if expired
            else "Claim the task before deciding it."
        )


class DocumentUnavailable(DeskError):
    """The document is not one the caller's agency may see, or it is not stored."""

    status = 404
    problem_type = "document-not-found"

    def __init__(self) -> None:
        super().__init__("No document with that hash is available to your agency.")


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with a decision, at a field path."""

    field: str
    message: str


class InvalidRequest(DeskError):
    """A request with malformed parts; ``problems`` say where."""

    status = 422
    problem_type = "invalid-request"

    def __init__(self, problems: Sequence[FieldProblem], detail: str = "The request is not valid") -> None:
        super().__init__(f"{detail}; see `errors` for each field.")
        self.problems = tuple(problems)


class InvalidDecision(InvalidRequest):
    """The decision is incomplete or malformed; ``problems`` say where."""

    problem_type = "invalid-decision"

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        super().__init__(problems, "The decision is not valid")


class InvalidReassignment(InvalidRequest):
    """The officer a task is to be reassigned to is not a user name."""

    problem_type = "invalid-reassignment"

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        super().__init__(problems, "The reassignment is not valid")


class SupervisorRequired(DeskError):
    """The supervisor view and reassigning need the ``supervisor`` role (an agency head), not only an officer's."""

    status = 403
    problem_type = "forbidden"

    def __init__(self) -> None:
        super().__init__("This needs the supervisor role: the agency's workload and reassigning are its heads'.")


@dataclass(frozen=True)
class DecisionInput:
    """A decision as an officer submits it, from the JSON API or the desk's form."""

    decision: Decision
    outputs: Mapping[str, Any] = field(default_factory=dict)
    reason: str | None = None
    questions: tuple[str, ...] = ()


def checked_decision(proposed: DecisionInput) -> DecisionInput:
    """``proposed`` normalised (trimmed, empty parts dropped) if valid; :class:`InvalidDecision` saying where not."""
    problems: list[FieldProblem] = []
    reason = (proposed.reason or "").strip() or None
    questions = tuple(question.strip() for question in proposed.questions if question.strip())
    outputs = dict(proposed.outputs)
    if len(outputs) > MAX_OUTPUTS:
        problems.append(FieldProblem("outputs", f"at most {MAX_OUTPUTS} outputs"))
    for name, value in outputs.items():
        if not OUTPUT_NAME.fullmatch(name):
            problems.append(FieldProblem(f"outputs/{name}", "names are lower-case letters, digits and _"))
        if value is not None and not isinstance(value, str | int | float | bool):
            problems.append(FieldProblem(f"outputs/{name}", "a value is a string, number, boolean or null"))
        elif isinstance(value, str) and len(value) > MAX_OUTPUT_VALUE_LENGTH:
            problems.append(FieldProblem(f"outputs/{name}", f"at most {MAX_OUTPUT_VALUE_LENGTH} characters"))
    if reason is not None and len(reason) > MAX_REASON_LENGTH:
        problems.append(FieldProblem("reason", f"at most {MAX_REASON_LENGTH} characters"))
    if len(questions) > MAX_QUESTIONS:
        problems.append(FieldProblem("questions", f"at most {MAX_QUESTIONS} questions"))
    problems += [
        FieldProblem(f"questions/{index}", f"at most {MAX_QUESTION_LENGTH} characters")
        for index, question in enumerate(questions)
        if len(question) > MAX_QUESTION_LENGTH
    ]
    if proposed.decision is Decision.REJECTED and reason is None:
        problems.append(FieldProblem("reason", "a rejection needs a reason the citizen will read"))
    if proposed.decision is Decision.NEEDS_INFORMATION and not questions:
        problems.append(FieldProblem("questions", "ask the citizen at least one question"))
    if proposed.decision is not Decision.APPROVED and outputs:
        problems.append(FieldProblem("outputs", "only an approval has outputs"))
    if problems:
        raise InvalidDecision(problems)
    return DecisionInput(
        proposed.decision,
        outputs=outputs,
        reason=reason if proposed.decision is Decision.REJECTED else None,
        questions=questions if proposed.decision is Decision.NEEDS_INFORMATION else (),
    )


OFFICER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,254}$")
"""A user name at the provider (Keycloak's: letters, digits and ``. _ @ -``), as the desk's claims hold it."""


def checked_officer(name: str) -> str:
    """``name`` trimmed if it is a user name an officer may have; :class:`InvalidReassignment` at ``officer`` if not."""
    officer = name.strip()
    if not officer:
        raise InvalidReassignment([FieldProblem("officer", "name the officer to reassign the task to")])
    if not OFFICER_NAME.fullmatch(officer):
        raise InvalidReassignment(
            [FieldProblem("officer", "a user name: letters, digits and . _ @ -, at most 255 characters")]
        )
    return officer


def state_after(decision: Decision) -> DeskTaskState:
    """Where a task goes once routing accepted its decision: a question pauses it, anything else closes it."""
    return DeskTaskState.INFORMATION_REQUESTED if decision is Decision.NEEDS_INFORMATION else DeskTaskState.DECIDED
