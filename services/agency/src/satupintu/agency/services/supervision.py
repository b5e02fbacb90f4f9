"""What an agency's supervisor (an agency head: an officer holding the ``supervisor`` role) does at the desk: see the
agency's workload, the tasks overdue or due soon first, with who holds each claim until when; and move a task's claim
to another officer. The move is published as ``task.claimed`` (the new holder, the supervisor as actor) and recorded
as ``access.recorded`` naming the supervisor, the previous holder and the new one, in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from satupintu.agency.domain import (
    DeskError,
    SlaState,
    SupervisorRequired,
    TaskNotFound,
    TaskNotOpen,
    checked_officer,
)
from satupintu.agency.services.base import agency_of_officer
from satupintu.agency.services.views import TaskView, TaskViews
from satupintu.agency.storage.repository import TaskRepository
from satupintu.common.auth import Principal, Role
from satupintu.contract.tasks import TaskClaimed

_URGENCY = {SlaState.BREACHED: 0, SlaState.DUE_SOON: 1, SlaState.ON_TIME: 2}
NOBODY = "nobody"
"""The previous holder of a task nobody held a live claim on, as the audit trail names it."""


@dataclass(frozen=True)
class ReassignmentView:
    """A task's claim moved by a supervisor."""

    task_id: str
    officer: str
    previous_officer: str | None
    supervisor: str
    claimed_at: datetime
    expires_at: datetime


class SupervisorTasks(TaskViews):
    """The supervisor view and reassigning (JSON API and pages alike); anyone without the supervisor role is refused
    (:class:`SupervisorRequired`) and the refusal recorded."""

    async def supervised_tasks(self, supervisor: Principal) -> list[TaskView]:
        """The supervisor's agency's tasks still to be done (open, claimed or not; decision sent; waiting for the
        citizen), with their holders: overdue first, then due soon, then on time, each by due date."""
        agency = await self._supervising(supervisor, "supervise")
        now = self._clock()
        async with self._sessions() as session:
            rows = await TaskRepository(session).supervised_tasks(agency)
        views = [self._view(row, now) for row in rows]
        return sorted(views, key=lambda view: (_URGENCY[view.sla_state], view.due_at))

    async def reassign(self, supervisor: Principal, task_id: str, officer: str) -> ReassignmentView:
        """Give the open task's claim to ``officer`` (a user name of the supervisor's agency) with a fresh claim
        lifetime, whoever held it; ``task.claimed`` is published and the move recorded. Another agency's task is
        :class:`TaskNotFound` (recorded as denied), a task not open :class:`TaskNotOpen`."""
        await self._supervising(supervisor, "reassign", task_id=task_id)
        new_holder = checked_officer(officer)
        now = self._clock()
        expires_at = now + self._claim_ttl
        refusal: DeskError | None = None
        previous: str | None = None
        async with self._sessions() as session, session.begin():
            row = await self._owned(session, supervisor, task_id, "reassign", for_update=True)
            repository = TaskRepository(session)
            if row is None:
                refusal = TaskNotFound(task_id)
            else:
                live = row.claim_expires_at is not None and row.claim_expires_at > now
                previous = row.claimed_by if live else None
                moved = await repository.reassign(task_id, row.agency, new_holder, now, expires_at)
                if moved is None:
                    refusal = TaskNotOpen(row.state)
                else:
                    claimed = TaskClaimed(
                        application_id=moved.application_id,
                        task_id=moved.task_id,
                        agency=moved.agency,
                        officer=new_holder,
                        claimed_at=now,
                        expires_at=expires_at,
                    )
                    await self._outbox.add(session, self._event(moved, claimed, supervisor))
                    await self.access.record(
                        session,
                        supervisor.actor(),
                        subject_id=moved.application_id,
                        resource=f"task/{task_id}",
                        action="reassign",
                        outcome="granted",
                        reason=(
                            f"supervisor {supervisor.subject} moved the claim from {previous or NOBODY} to {new_holder}"
                        ),
                    )
        if refusal is not None:
            raise refusal
        return ReassignmentView(task_id, new_holder, previous, supervisor.subject, now, expires_at)

    async def _supervising(self, supervisor: Principal, action: str, *, task_id: str | None = None) -> str:
        """The supervisor's agency; :class:`SupervisorRequired`, with the refusal recorded, for anyone else."""
        if Role.SUPERVISOR in supervisor.roles and supervisor.agency is not None:
            return agency_of_officer(supervisor)
        error = SupervisorRequired()
        await self.record_refusal(supervisor.actor(), action, error.detail, task_id=task_id)
        raise error
