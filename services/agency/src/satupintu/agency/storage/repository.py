"""Every query on the desk's tables. Claims and decisions are single conditional UPDATEs, so two officers racing for
one task are serialised by PostgreSQL's row lock and exactly one of them matches."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, or_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from satupintu.agency.domain import DeskTaskState
from satupintu.agency.storage.tables import DeskTask

_UPSERT_COLUMNS = (
    "application_id",
    "agency",
    "service_code",
    "stage_index",
    "state",
    "assignment_id",
    "correlation_id",
    "traceparent",
    "personal_data",
    "documents",
    "previous_outputs",
    "due_at",
    "assigned_at",
    "claimed_by",
    "claimed_at",
    "claim_expires_at",
    "decision",
    "decision_id",
    "decided_by",
    "decided_by_name",
    "decided_at",
    "refused_decision_ids",
    "refusal_reason",
    "refused_at",
    "withdrawn_reason",
    "updated_at",
)
_TASKS = DeskTask.__table__  # type: ignore[attr-defined]
_NEW_ASSIGNMENT = insert(_TASKS)
# Built once: constructing the upsert (its `excluded` alias above all) per event cost more than running it.
_SAVE_ASSIGNMENT = _NEW_ASSIGNMENT.on_conflict_do_update(
    index_elements=["task_id"],
    set_={name: _NEW_ASSIGNMENT.excluded[name] for name in _UPSERT_COLUMNS},
    where=_TASKS.c.assigned_at <= _NEW_ASSIGNMENT.excluded.assigned_at,
)


def _claim_is_free(officer: str, now: datetime) -> Any:
    """No live claim by anybody else: unclaimed, expired, or the officer's own."""
    return or_(
        col(DeskTask.claimed_by).is_(None),
        col(DeskTask.claim_expires_at) <= now,
        col(DeskTask.claimed_by) == officer,
    )


class TaskRepository:
    """The desk's task inbox."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, task_id: str, *, for_update: bool = False) -> DeskTask | None:
        """The task with ``task_id``, whichever agency it belongs to (locked until the transaction ends when
        ``for_update``)."""
        return await self._session.get(DeskTask, task_id, populate_existing=True, with_for_update=for_update)

    async def save_assignment(self, values: dict[str, Any]) -> None:
        """Insert the task or, for a re-assignment (after an information request), reopen it with the new
        assignment; an assignment older than the one kept changes nothing."""
        await self._session.execute(_SAVE_ASSIGNMENT, values)

    async def open_tasks(self, agency: str, officer: str, now: datetime) -> Sequence[DeskTask]:
        """The agency's open tasks the officer may work on (hiding colleagues' live claims) and its tasks whose
        decision waits for routing, the officer's own claims first, then by due date."""
        result = await self._session.execute(
            select(DeskTask)
            .where(
                col(DeskTask.agency) == agency,
                or_(
                    and_(col(DeskTask.state) == DeskTaskState.OPEN.value, _claim_is_free(officer, now)),
                    col(DeskTask.state) == DeskTaskState.DECISION_SENT.value,
                ),
            )
            .order_by(
                case((and_(col(DeskTask.claimed_by) == officer, col(DeskTask.claim_expires_at) > now), 0), else_=1),
                col(DeskTask.due_at),
                col(DeskTask.task_id),
            )
        )
        return result.scalars().all()

    async def supervised_tasks(self, agency: str) -> Sequence[DeskTask]:
        """The agency's tasks still to be done, whoever holds them: open (claimed or not), waiting for routing's
        answer to a decision, and waiting for the citizen's answer; by due date."""
        result = await self._session.execute(
            select(DeskTask)
            .where(
                col(DeskTask.agency) == agency,
                col(DeskTask.state).in_(
                    [
                        DeskTaskState.OPEN.value,
                        DeskTaskState.DECISION_SENT.value,
                        DeskTaskState.INFORMATION_REQUESTED.value,
                    ]
                ),
            )
            .order_by(col(DeskTask.due_at), col(DeskTask.task_id))
        )
        return result.scalars().all()

    async def reassign(
        self, task_id: str, agency: str, officer: str, now: datetime, expires_at: datetime
    ) -> DeskTask | None:
        """Give the open task's claim to ``officer`` whoever held it (a supervisor's move); the task, or None when it
        is not open."""
        result = await self._session.execute(
            update(DeskTask)
            .where(
                col(DeskTask.task_id) == task_id,
                col(DeskTask.agency) == agency,
                col(DeskTask.state) == DeskTaskState.OPEN.value,
            )
            .values(claimed_by=officer, claimed_at=now, claim_expires_at=expires_at, updated_at=now)
            .returning(DeskTask)
            .execution_options(synchronize_session=False)
        )
        return result.scalars().first()

    async def try_claim(
        self, task_id: str, agency: str, officer: str, now: datetime, expires_at: datetime
    ) -> DeskTask | None:
        """Claim the open task for ``officer`` unless a colleague holds a live claim; the task, or None."""
        result = await self._session.execute(
            update(DeskTask)
            .where(
                col(DeskTask.task_id) == task_id,
                col(DeskTask.agency) == agency,
                col(DeskTask.state) == DeskTaskState.OPEN.value,
                _claim_is_free(officer, now),
            )
            .values(claimed_by=officer, claimed_at=now, claim_expires_at=expires_at, updated_at=now)
            .returning(DeskTask)
            .execution_options(synchronize_session=False)
        )
        return result.scalars().first()

    async def try_decide(
        self,
        task_id: str,
        agency: str,
        officer: str,
        *,
        now: datetime,
        decision: str,
        decision_id: str,
        actor: str,
        actor_name: str | None = None,
    ) -> DeskTask | None:
        """Send the decision if ``officer`` holds a live claim on the open task: it waits for routing; the task, or
        None."""
        result = await self._session.execute(
            update(DeskTask)
            .where(
                col(DeskTask.task_id) == task_id,
                col(DeskTask.agency) == agency,
                col(DeskTask.state) == DeskTaskState.OPEN.value,
                col(DeskTask.claimed_by) == officer,
                col(DeskTask.claim_expires_at) > now,
            )
            .values(
                state=DeskTaskState.DECISION_SENT.value,
                decision=decision,
                decision_id=decision_id,
                decided_by=actor,
                decided_by_name=actor_name,
                decided_at=now,
                claimed_by=None,
                claimed_at=None,
                claim_expires_at=None,
                refusal_reason=None,
                refused_at=None,
                updated_at=now,
            )
            .returning(DeskTask)
            .execution_options(synchronize_session=False)
        )
        return result.scalars().first()

    async def mark_decision_sent(
        self,
        task_id: str,
        agency: str,
        assignment_id: str | None,
        *,
        decision: str,
        decision_id: str,
        actor: str,
        at: datetime,
    ) -> bool:
        """Hold an open task the agency's own system decided until routing answers; a decision on an earlier
        assignment (``assignment_id`` not the one in force), or one routing already refused, changes nothing.
        Whether the task now waits for routing."""
        conditions = [
            col(DeskTask.task_id) == task_id,
            col(DeskTask.agency) == agency,
            col(DeskTask.state) == DeskTaskState.OPEN.value,
            ~col(DeskTask.refused_decision_ids).contains([decision_id]),
        ]
        if assignment_id is not None:
            conditions.append(col(DeskTask.assignment_id) == assignment_id)
        result = await self._session.execute(
            update(DeskTask)
            .where(*conditions)
            .values(
                state=DeskTaskState.DECISION_SENT.value,
                decision=decision,
                decision_id=decision_id,
                decided_by=actor,
                decided_by_name=None,  # an agency system's decision: no person's name
                decided_at=at,
                claimed_by=None,
                claimed_at=None,
                claim_expires_at=None,
                refusal_reason=None,
                refused_at=None,
                updated_at=at,
            )
            .returning(col(DeskTask.task_id))
            .execution_options(synchronize_session=False)
        )
        return result.first() is not None

    async def close_accepted(
        self,
        task_id: str,
        *,
        state: DeskTaskState,
        decision: str,
        decision_id: str,
        decided_by: str | None,
        decided_at: datetime,
        at: datetime,
        decided_by_name: str | None = None,
    ) -> None:
        """Close the task (or pause it for the citizen's answer): routing accepted the decision ``decision_id``."""
        await self._session.execute(
            update(DeskTask)
            .where(col(DeskTask.task_id) == task_id)
            .values(
                state=state.value,
                decision=decision,
                decision_id=decision_id,
                decided_by=decided_by,
                decided_by_name=decided_by_name,
                decided_at=decided_at,
                claimed_by=None,
                claimed_at=None,
                claim_expires_at=None,
                refusal_reason=None,
                refused_at=None,
                updated_at=at,
            )
            .execution_options(synchronize_session=False)
        )

    async def reopen_refused(self, task_id: str, refused_decision_ids: list[str], reason: str, at: datetime) -> None:
        """Put the task back in the pool, unclaimed, with routing's reason for refusing its decision."""
        await self._session.execute(
            update(DeskTask)
            .where(col(DeskTask.task_id) == task_id)
            .values(
                state=DeskTaskState.OPEN.value,
                decision=None,
                decision_id=None,
                decided_by=None,
                decided_by_name=None,
                decided_at=None,
                claimed_by=None,
                claimed_at=None,
                claim_expires_at=None,
                refused_decision_ids=refused_decision_ids,
                refusal_reason=reason,
                refused_at=at,
                updated_at=at,
            )
            .execution_options(synchronize_session=False)
        )

    async def note_refusal(
        self, task_id: str, refused_decision_ids: list[str], reason: str | None, at: datetime
    ) -> None:
        """Remember a refused decision without moving the task (and show ``reason`` unless None)."""
        values: dict[str, Any] = {"refused_decision_ids": refused_decision_ids, "updated_at": at}
        if reason is not None:
            values |= {"refusal_reason": reason, "refused_at": at}
        await self._session.execute(
            update(DeskTask)
            .where(col(DeskTask.task_id) == task_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    async def mark_withdrawn(self, task_id: str, reason: str, at: datetime) -> None:
        """Take the task out of the pool: another agency rejected the application."""
        await self._session.execute(
            update(DeskTask)
            .where(col(DeskTask.task_id) == task_id)
            .values(
                state=DeskTaskState.WITHDRAWN.value,
                withdrawn_reason=reason,
                claimed_by=None,
                claimed_at=None,
                claim_expires_at=None,
                updated_at=at,
            )
            .execution_options(synchronize_session=False)
        )

    async def mark_breached(self, task_id: str, at: datetime) -> None:
        """Remember that routing announced the task's SLA breach."""
        await self._session.execute(
            update(DeskTask)
            .where(col(DeskTask.task_id) == task_id, col(DeskTask.sla_breached_at).is_(None))
            .values(sla_breached_at=at)
            .execution_options(synchronize_session=False)
        )

    async def task_with_document(self, agency: str, sha256: str) -> DeskTask | None:
        """A task of ``agency`` (not withdrawn) that references the document ``sha256``, if any."""
        result = await self._session.execute(
            select(DeskTask)
            .where(
                col(DeskTask.agency) == agency,
                col(DeskTask.state) != DeskTaskState.WITHDRAWN.value,
                col(DeskTask.documents).contains([{"sha256": sha256}]),
            )
            .order_by(col(DeskTask.assigned_at).desc())
            .limit(1)
        )
        return result.scalars().first()

    async def applications_with_document(self, sha256: str) -> list[str]:
        """The applications whose tasks (of any agency, in any state) reference the document ``sha256``: what a
        refused read of it is recorded against."""
        result = await self._session.execute(
            select(DeskTask.application_id)
            .where(col(DeskTask.documents).contains([{"sha256": sha256}]))
            .group_by(col(DeskTask.application_id))
            .order_by(col(DeskTask.application_id))
        )
        return list(result.scalars().all())
