"""Watching the agencies' decisions topics: a decision an agency's own system made holds its desk task until routing
answers; a claim or decision on another agency's task is recorded as denied access."""

from __future__ import annotations

from satupintu.agency.domain import DeskTaskState, agency_of_topic
from satupintu.agency.services.base import DeskBase
from satupintu.agency.storage.repository import TaskRepository
from satupintu.agency_sdk import decision_event_id
from satupintu.common.consumer import UnitOfWork
from satupintu.contract.envelope import Event
from satupintu.contract.tasks import TaskClaimed, TaskDecided


class DecisionWatch(DeskBase):
    """Watches the decisions topics: systems' decisions hold desk tasks; cross-agency attempts are recorded."""

    async def on_decision_seen(self, uow: UnitOfWork, event: Event[TaskDecided | TaskClaimed]) -> None:
        """Record a claim or decision by one agency on another agency's task (routing refuses it) as denied access;
        hold a desk task its agency's own system decided until routing answers."""
        payload = event.payload
        action = "decide" if isinstance(payload, TaskDecided) else "claim"
        topic_agency = agency_of_topic(uow.topic)
        repository = TaskRepository(uow.session)
        task = await repository.get(payload.task_id)
        reason = None
        if topic_agency is not None and payload.agency != topic_agency:
            reason = f"names agency {payload.agency} but came on the decisions topic of {topic_agency}"
        elif task is not None and task.agency != payload.agency:
            reason = f"task belongs to agency {task.agency}, not {payload.agency}"
        if reason is not None:
            await self.access.record(
                uow.session,
                event.actor,
                subject_id=payload.application_id,
                resource=f"task/{payload.task_id}",
                action=action,
                outcome="denied",
                reason=f"{action} over Kafka refused: {reason}",
            )
            return
        if isinstance(payload, TaskDecided) and task is not None and task.state == DeskTaskState.OPEN:
            # Decisions name the assignment they answer as their cause (the SDK's and the desk's do); one on an
            # earlier assignment must not hold the re-assigned task.
            in_force = event.causation_id is None or event.id == decision_event_id(task.assignment_id)
            answered = None if in_force else event.causation_id
            await repository.mark_decision_sent(
                payload.task_id,
                payload.agency,
                answered,
                decision=payload.decision.value,
                decision_id=event.id,
                actor=event.actor,
                at=payload.decided_at,
            )
