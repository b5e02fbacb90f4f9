"""The desk's task inbox, kept from the agencies' tasks topics: assignments, withdrawals, SLA breaches, and
routing's answers to decisions."""

from __future__ import annotations

import json
import logging

from satupintu.agency.domain import DeskTaskState, agency_of_topic, state_after
from satupintu.agency.services.base import personal_context
from satupintu.agency.services.issuance import DocumentIssuance
from satupintu.agency.storage.repository import TaskRepository
from satupintu.common.consumer import RejectEvent, UnitOfWork
from satupintu.contract.envelope import Event
from satupintu.contract.tasks import (
    TaskAssigned,
    TaskDecisionAccepted,
    TaskDecisionRefused,
    TaskSlaBreached,
    TaskWithdrawn,
)

_logger = logging.getLogger(__name__)


class TaskInbox(DocumentIssuance):
    """The task inbox, kept from the agencies' tasks topics; an accepted approval that issues a document issues it."""

    async def on_assigned(self, uow: UnitOfWork, event: Event[TaskAssigned]) -> None:
        """Put the task in the inbox, or reopen it when routing re-assigns it with the citizen's answers."""
        assigned = event.payload
        self._check_topic(uow, assigned.agency, assigned.task_id)
        now = self._clock()
        holder = assigned.holder.model_dump() if assigned.holder else None
        personal = json.dumps(
            {"fields": assigned.fields, "answers": assigned.answers, "holder": holder}, ensure_ascii=False
        )
        await TaskRepository(uow.session).save_assignment(
            {
                "task_id": assigned.task_id,
                "application_id": assigned.application_id,
                "agency": assigned.agency,
                "service_code": assigned.service_code,
                "stage_index": assigned.stage_index,
                "state": DeskTaskState.OPEN.value,
                "assignment_id": event.id,
                "correlation_id": event.correlation_id,
                "traceparent": event.traceparent,
                "personal_data": self._cipher.encrypt(personal, personal_context(assigned.task_id)),
                "documents": [document.model_dump() for document in assigned.documents],
                "previous_outputs": assigned.previous_outputs,
                "due_at": assigned.due_at,
                "assigned_at": assigned.assigned_at,
                "claimed_by": None,
                "claimed_at": None,
                "claim_expires_at": None,
                "decision": None,
                "decision_id": None,
                "decided_by": None,
                "decided_by_name": None,
                "decided_at": None,
                "refused_decision_ids": [],
                "refusal_reason": None,
                "refused_at": None,
                "withdrawn_reason": None,
                "updated_at": now,
            }
        )

    async def on_withdrawn(self, uow: UnitOfWork, event: Event[TaskWithdrawn]) -> None:
        """Take a withdrawn task out of the pool."""
        withdrawn = event.payload
        self._check_topic(uow, withdrawn.agency, withdrawn.task_id)
        await TaskRepository(uow.session).mark_withdrawn(withdrawn.task_id, withdrawn.reason, withdrawn.withdrawn_at)

    async def on_sla_breached(self, uow: UnitOfWork, event: Event[TaskSlaBreached]) -> None:
        """Mark the task as breached, whatever the desk's clock says."""
        breached = event.payload
        self._check_topic(uow, breached.agency, breached.task_id)
        await TaskRepository(uow.session).mark_breached(breached.task_id, breached.breached_at)

    async def on_decision_accepted(self, uow: UnitOfWork, event: Event[TaskDecisionAccepted]) -> None:
        """Routing applied a decision on the task: close it (or pause it for the citizen's answer), whichever
        decision the desk was waiting for; issue the service's document when this approval issues it."""
        accepted = event.payload
        self._check_topic(uow, accepted.agency, accepted.task_id)
        repository = TaskRepository(uow.session)
        task = await repository.get(accepted.task_id, for_update=True)
        if task is None or task.agency != accepted.agency:
            return  # routing's task, never on this desk
        if task.state not in (DeskTaskState.OPEN, DeskTaskState.DECISION_SENT):
            return  # closed already (a redelivery, or withdrawn)
        decided_by, decided_at, name = None, accepted.accepted_at, None  # a decision the desk had not seen yet
        if task.state == DeskTaskState.DECISION_SENT and task.decision_id == accepted.decision_event_id:
            decided_by, decided_at, name = (
                task.decided_by,
                task.decided_at or accepted.accepted_at,
                task.decided_by_name,
            )
        await repository.close_accepted(
            task.task_id,
            state=state_after(accepted.decision),
            decision=accepted.decision.value,
            decision_id=accepted.decision_event_id,
            decided_by=decided_by,
            decided_at=decided_at,
            at=self._clock(),
            decided_by_name=name,
        )
        await self._issue_if_due(uow, task, event, decided_by, name)

    async def on_decision_refused(self, uow: UnitOfWork, event: Event[TaskDecisionRefused]) -> None:
        """Routing refused a decision on the task: put a task waiting for that decision back in the pool with the
        reason; an open task shows the reason; a closed one stays closed. The refused decision is remembered, so
        seeing it on the decisions topic later does not hold the task again."""
        refused = event.payload
        self._check_topic(uow, refused.agency, refused.task_id)
        repository = TaskRepository(uow.session)
        task = await repository.get(refused.task_id, for_update=True)
        if task is None or task.agency != refused.agency:
            return
        if refused.decision_event_id in task.refused_decision_ids:
            return
        _logger.warning(
            "routing refused decision %s on task %s: %s", refused.decision_event_id, refused.task_id, refused.reason
        )
        refused_ids = [*task.refused_decision_ids, refused.decision_event_id]
        now = self._clock()
        if task.state == DeskTaskState.DECISION_SENT and task.decision_id == refused.decision_event_id:
            await repository.reopen_refused(task.task_id, refused_ids, refused.reason, now)
        else:
            shown = refused.reason if task.state == DeskTaskState.OPEN else None
            await repository.note_refusal(task.task_id, refused_ids, shown, now)

    @staticmethod
    def _check_topic(uow: UnitOfWork, agency: str, task_id: str) -> None:
        topic_agency = agency_of_topic(uow.topic)
        if topic_agency is not None and topic_agency != agency:
            raise RejectEvent(f"task {task_id} of agency {agency!r} came on the tasks topic of {topic_agency!r}")
