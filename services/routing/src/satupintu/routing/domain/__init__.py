"""Routing's domain, no I/O and no storage: the rules (:mod:`.rules`) and the workflow that follows them
(:mod:`.model`), stages, parallel tasks, decisions, information requests, withdrawals, completion and due dates."""

from satupintu.routing.domain.model import Planning, Task, Workflow, new_task_id
from satupintu.routing.domain.rules import (
    FINAL_APPLICATION_STATES,
    OPEN_TASK_STATES,
    WRITTEN_ANSWER,
    DecisionRefused,
    InvalidTransition,
    agency_of_topic,
    answers_for_asking_agency,
    check_decision_allowed,
    check_decision_complete,
)

__all__ = [
    "FINAL_APPLICATION_STATES",
    "OPEN_TASK_STATES",
    "WRITTEN_ANSWER",
    "DecisionRefused",
    "InvalidTransition",
    "Planning",
    "Task",
    "Workflow",
    "agency_of_topic",
    "answers_for_asking_agency",
    "check_decision_allowed",
    "check_decision_complete",
    "new_task_id",
]
