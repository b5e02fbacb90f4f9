"""Every query routing makes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Text, func
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from satupintu.routing.storage.tables import TaskRecord, WorkflowRecord


class WorkflowRepository:
    """Workflows and tasks, within the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, *records: WorkflowRecord | TaskRecord) -> None:
        """Stage new rows for insertion."""
        self._session.add_all(records)

    async def workflow(self, application_id: str, *, for_update: bool = False) -> WorkflowRecord | None:
        """The workflow of ``application_id``; locked for the transaction when ``for_update``."""
        statement = select(WorkflowRecord).where(WorkflowRecord.application_id == application_id)
        if for_update:
            statement = statement.with_for_update()
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def workflows_with_clear_fields(
        self, service_code: str, names: Sequence[str], limit: int
    ) -> Sequence[WorkflowRecord]:
        """Workflows of ``service_code`` that hold any of the form fields ``names`` in clear (stored before routing
        sealed personal fields), locked for this transaction (others skip them)."""
        statement = (
            select(WorkflowRecord)
            .where(
                WorkflowRecord.service_code == service_code,
                col(WorkflowRecord.data).op("?|")(array(list(names), type_=Text)),
            )
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self._session.execute(statement)).scalars().all()

    async def has_workflow(self, application_id: str) -> bool:
        """Whether ``application_id`` has a stored workflow; rows staged in this transaction are not written first
        (a batch's new workflows are inserted together at commit; a duplicate among them fails that insert)."""
        statement = select(WorkflowRecord.application_id).where(WorkflowRecord.application_id == application_id)
        with self._session.no_autoflush:
            return (await self._session.execute(statement)).first() is not None

    async def task(self, task_id: str) -> TaskRecord | None:
        """The task with ``task_id``."""
        return (
            await self._session.execute(select(TaskRecord).where(TaskRecord.task_id == task_id))
        ).scalar_one_or_none()

    async def tasks(self, application_id: str, stage_index: int | None = None) -> Sequence[TaskRecord]:
        """The application's tasks (of one stage when given), oldest stage first."""
        statement = select(TaskRecord).where(TaskRecord.application_id == application_id)
        if stage_index is not None:
            statement = statement.where(TaskRecord.stage_index == stage_index)
        statement = statement.order_by(col(TaskRecord.stage_index), col(TaskRecord.agency))
        return (await self._session.execute(statement)).scalars().all()

    async def late_tasks(self, now: datetime, limit: int) -> Sequence[TaskRecord]:
        """Open tasks past their due date and not yet reported, locked for this transaction (others skip them)."""
        statement = (
            select(TaskRecord)
            .where(
                col(TaskRecord.state).in_(["assigned", "claimed", "information_requested"]),
                col(TaskRecord.due_at) < now,
                col(TaskRecord.sla_breached_at).is_(None),
            )
            .order_by(col(TaskRecord.due_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self._session.execute(statement)).scalars().all()

    async def late_workflows(self, now: datetime, limit: int) -> Sequence[WorkflowRecord]:
        """Unfinished applications past their due date and not yet reported, locked for this transaction."""
        statement = (
            select(WorkflowRecord)
            .where(
                col(WorkflowRecord.state).in_(["in_progress", "information_requested"]),
                col(WorkflowRecord.due_at) < now,
                col(WorkflowRecord.sla_breached_at).is_(None),
            )
            .order_by(col(WorkflowRecord.due_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self._session.execute(statement)).scalars().all()

    async def open_tasks_per_agency(self) -> dict[str, int]:
        """How many tasks each agency has open."""
        statement = (
            select(TaskRecord.agency, func.count())
            .where(col(TaskRecord.state).in_(["assigned", "claimed", "information_requested"]))
            .group_by(TaskRecord.agency)
        )
        rows = (await self._session.execute(statement)).all()
        return {agency: int(count) for agency, count in rows}
