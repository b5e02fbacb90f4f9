"""What officers do with their agency's tasks: list the open ones, show one (the read is recorded), claim and
decide."""

from __future__ import annotations

from datetime import datetime

from satupintu.agency.domain import (
    ClaimedByColleague,
    ClaimRequired,
    DecisionInput,
    DeskError,
    DeskTaskState,
    TaskNotFound,
    TaskNotOpen,
    checked_decision,
)
from satupintu.agency.services.base import agency_of_officer
from satupintu.agency.services.views import ClaimView, DecisionView, TaskView, TaskViews
from satupintu.agency.storage.repository import TaskRepository
from satupintu.agency.storage.tables import DeskTask
from satupintu.agency_sdk import decision_event_id
from satupintu.common.auth import Principal
from satupintu.contract.tasks import TaskClaimed, TaskDecided


class OfficerTasks(TaskViews):
    """What officers do with tasks (JSON API and pages alike): list, show, claim and decide."""

    async def open_tasks(self, officer: Principal) -> list[TaskView]:
        """The officer's agency's open tasks, without colleagues' live claims: own claims first, then by due date."""
        agency = agency_of_officer(officer)
        now = self._clock()
        async with self._sessions() as session:
            rows = await TaskRepository(session).open_tasks(agency, officer.subject, now)
        return [self._view(row, now) for row in rows]

    async def task(self, officer: Principal, task_id: str) -> TaskView:
        """One task of the officer's agency, with its fields and answers; the read is recorded."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            row = await self._owned(session, officer, task_id, "read")
            if row is not None:
                await self.access.record(
                    session,
                    officer.actor(),
                    subject_id=row.application_id,
                    resource=f"task/{task_id}",
                    action="read",
                    outcome="granted",
                )
        if row is None:
            raise TaskNotFound(task_id)
        return await self._opened(self._view(row, now, personal=True))

    async def claim(self, officer: Principal, task_id: str) -> ClaimView:
        """Claim the task for the officer (renewing their own claim); ``task.claimed`` is published. Of two officers
        racing, exactly one wins; the other gets :class:`ClaimedByColleague`."""
        now = self._clock()
        expires_at = now + self._claim_ttl
        refusal: DeskError | None = None
        async with self._sessions() as session, session.begin():
            row = await self._owned(session, officer, task_id, "claim")
            repository = TaskRepository(session)
            if row is None:
                refusal = TaskNotFound(task_id)
            elif claimed := await repository.try_claim(task_id, row.agency, officer.subject, now, expires_at):
                await self._outbox.add(
                    session,
                    self._event(
                        claimed,
                        TaskClaimed(
                            application_id=claimed.application_id,
                            task_id=claimed.task_id,
                            agency=claimed.agency,
                            officer=officer.subject,
                            claimed_at=now,
                            expires_at=expires_at,
                        ),
                        officer,
                    ),
                )
            else:
                refusal = self._conflict(await repository.get(task_id), officer.subject, now)
        if refusal is not None:
            raise refusal
        return ClaimView(task_id=task_id, officer=officer.subject, claimed_at=now, expires_at=expires_at)

    async def decide(self, officer: Principal, task_id: str, proposed: DecisionInput) -> DecisionView:
        """Decide the task the officer holds a live claim on; ``task.decided`` is published and the task waits for
        routing's answer. The decision's id is derived from the assignment, like the worker SDK's, so the assignment
        is decided once whoever answers; after routing refused a decision, from the number of refusals too."""
        now = self._clock()
        refusal: DeskError | None = None
        decision_id = ""
        async with self._sessions() as session, session.begin():
            row = await self._owned(session, officer, task_id, "decide", for_update=True)
            repository = TaskRepository(session)
            if row is None:
                refusal = TaskNotFound(task_id)
            else:
                decision = checked_decision(proposed)
                decision_id = decision_event_id(row.assignment_id, len(row.refused_decision_ids))
                decided = await repository.try_decide(
                    task_id,
                    row.agency,
                    officer.subject,
                    now=now,
                    decision=decision.decision.value,
                    decision_id=decision_id,
                    actor=officer.actor(),
                    actor_name=officer.name,
                )
                if decided is None:
                    refusal = self._conflict(await repository.get(task_id), officer.subject, now, deciding=True)
                else:
                    event = self._event(
                        decided,
                        TaskDecided(
                            application_id=decided.application_id,
                            task_id=decided.task_id,
                            agency=decided.agency,
                            decision=decision.decision,
                            outputs=dict(decision.outputs),
                            reason=decision.reason,
                            questions=decision.questions,
                            decided_at=now,
                        ),
                        officer,
                        event_id=decision_id,
                    )
                    await self._outbox.add(session, event)
        if refusal is not None:
            raise refusal
        return DecisionView(task_id=task_id, decision=proposed.decision, decided_at=now, event_id=decision_id)

    @staticmethod
    def _conflict(row: DeskTask | None, officer: str, now: datetime, *, deciding: bool = False) -> DeskError:
        if row is None:  # pragma: no cover - the row was read in the same transaction
            return TaskNotFound("?")
        if row.state != DeskTaskState.OPEN:
            return TaskNotOpen(row.state)
        holder, until = row.claimed_by, row.claim_expires_at
        if holder is not None and until is not None and until > now and holder != officer:
            return ClaimedByColleague(holder, until)
        if deciding:
            return ClaimRequired(expired=row.claimed_by == officer)
        return TaskNotOpen(row.state)  # pragma: no cover - an open task without a live colleague's claim is claimable
