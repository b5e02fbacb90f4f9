"""Routing's rules, no I/O: what a task or decision may do, in words an operator can act on."""

from __future__ import annotations

from satupintu.common.events.base import ApplicationState, TaskState

OPEN_TASK_STATES = frozenset({TaskState.ASSIGNED, TaskState.CLAIMED, TaskState.INFORMATION_REQUESTED})
FINAL_APPLICATION_STATES = frozenset({ApplicationState.COMPLETED, ApplicationState.REJECTED})


class InvalidTransition(Exception):
    """An event asks for a transition the workflow does not allow; it changes nothing and is dead-lettered."""


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
    """Raise :class:`InvalidTransition` unless an agency may decide (or claim) this task now."""
    if topic_agency is not None and decided_by != topic_agency:
        raise InvalidTransition(f"decision names agency {decided_by!r} but came on the topic of {topic_agency!r}")
    if decided_by != task_agency:
        raise InvalidTransition(f"task belongs to agency {task_agency!r}, not {decided_by!r}")
    if application_state in FINAL_APPLICATION_STATES:
        raise InvalidTransition(f"application is already {application_state.value}")
    if task_state is TaskState.WITHDRAWN:
        raise InvalidTransition("task was withdrawn")
    if task_state in (TaskState.APPROVED, TaskState.REJECTED):
        raise InvalidTransition(f"task was already decided ({task_state.value})")
    if task_state is TaskState.INFORMATION_REQUESTED:
        raise InvalidTransition("task is waiting for the citizen's information")
    if task_stage != current_stage:
        raise InvalidTransition(f"task is in stage {task_stage} but the application is in stage {current_stage}")
