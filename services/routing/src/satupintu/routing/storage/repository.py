"""Every query routing makes, and the workflows of the domain loaded from and saved to their rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Text, func
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col, select

from satupintu.common.catalogue import ServiceDefinition
from satupintu.common.crypto import FieldCipher
from satupintu.contract.base import ApplicationState, TaskState
from satupintu.routing.domain import Task, Workflow
from satupintu.routing.storage.form_fields import form_data, holder, store_form_data, store_holder
from satupintu.routing.storage.tables import EarlyPaymentRecord, TaskRecord, WorkflowRecord


class WorkflowRepository:
    """Workflows and tasks, within the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, *records: WorkflowRecord | TaskRecord | EarlyPaymentRecord) -> None:
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

    async def with_workflow(self, application_ids: Sequence[str]) -> set[str]:
        """Which of ``application_ids`` have a stored workflow, in one query; rows staged in this transaction are
        not written first (a batch's new workflows are inserted together at commit; the caller keeps track of
        those it added)."""
        if not application_ids:
            return set()
        statement = select(WorkflowRecord.application_id).where(
            col(WorkflowRecord.application_id).in_(list(application_ids))
        )
        with self._session.no_autoflush:
            return set((await self._session.execute(statement)).scalars().all())

    async def early_payment(self, application_id: str) -> EarlyPaymentRecord | None:
        """What was recorded of ``application_id``'s payment before its workflow existed, locked for the
        transaction."""
        statement = (
            select(EarlyPaymentRecord).where(EarlyPaymentRecord.application_id == application_id).with_for_update()
        )
        return (await self._session.execute(statement)).scalar_one_or_none()

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
        """Tasks the agency holds (not waiting for the citizen: their clock is stopped) past their due date and not
        yet reported, locked for this transaction (others skip them)."""
        statement = (
            select(TaskRecord)
            .where(
                col(TaskRecord.state).in_(["assigned", "claimed"]),
                col(TaskRecord.due_at) < now,
                col(TaskRecord.sla_breached_at).is_(None),
            )
            .order_by(col(TaskRecord.due_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self._session.execute(statement)).scalars().all()

    async def late_workflows(self, now: datetime, limit: int) -> Sequence[WorkflowRecord]:
        """Applications in progress (not waiting for the citizen's answer or fee: their clock is stopped) past their
        due date and not yet reported, locked for this transaction."""
        statement = (
            select(WorkflowRecord)
            .where(
                col(WorkflowRecord.state) == "in_progress",
                col(WorkflowRecord.waiting_since).is_(None),
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


class SqlWorkflows:
    """Domain workflows in the caller's transaction: loaded locked with their tasks, saved back into the same rows
    (only the columns that changed are written; the form fields are sealed again only when asked)."""

    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self._repository = WorkflowRepository(session)
        self._cipher = cipher
        self._rows: dict[str, tuple[WorkflowRecord, dict[str, TaskRecord]]] = {}

    async def existing(self, application_ids: Sequence[str]) -> set[str]:
        """Which of ``application_ids`` have a stored workflow, in one query (see
        :meth:`WorkflowRepository.with_workflow`)."""
        return await self._repository.with_workflow(application_ids)

    async def get(self, application_id: str) -> Workflow | None:
        """The workflow of ``application_id`` with its tasks (oldest stage first), locked for the transaction."""
        record = await self._repository.workflow(application_id, for_update=True)
        if record is None:
            return None
        tasks = await self._repository.tasks(application_id)
        self._rows[application_id] = (record, {task.task_id: task for task in tasks})
        return Workflow(
            application_id=record.application_id,
            service_code=record.service_code,
            catalogue_version=record.catalogue_version,
            state=ApplicationState(record.state),
            current_stage=record.current_stage,
            stage_count=record.stage_count,
            correlation_id=record.correlation_id,
            form=form_data(record, self._cipher),
            documents=list(record.documents),
            outputs=dict(record.outputs),
            due_at=record.due_at,
            created_at=record.created_at,
            updated_at=record.updated_at,
            tasks=[_task(task) for task in tasks],
            holder=holder(record, self._cipher),
            waiting_since=record.waiting_since,
            payment_stage=record.payment_stage,
            paid_at=record.paid_at,
            payment_expired_at=record.payment_expired_at,
        )

    async def early_payment(self, application_id: str) -> EarlyPaymentRecord | None:
        """What was recorded of ``application_id``'s payment before its workflow existed (locked)."""
        return await self._repository.early_payment(application_id)

    def add_early_payment(self, record: EarlyPaymentRecord) -> None:
        """Keep a new record of a payment that came before its application's workflow."""
        self._repository.add(record)

    def add(self, workflow: Workflow, service: ServiceDefinition) -> None:
        """Stage a new workflow and its tasks for insertion, its form fields sealed by ``service``'s catalogue."""
        record = WorkflowRecord(
            application_id=workflow.application_id,
            service_code=workflow.service_code,
            catalogue_version=workflow.catalogue_version,
            state=workflow.state,
            current_stage=workflow.current_stage,
            stage_count=workflow.stage_count,
            correlation_id=workflow.correlation_id,
            data={},
            documents=list(workflow.documents),
            outputs=dict(workflow.outputs),
            due_at=workflow.due_at,
            created_at=workflow.created_at,
            updated_at=workflow.updated_at,
        )
        store_form_data(record, service, workflow.form, self._cipher)
        store_holder(record, workflow.holder, self._cipher)
        self._repository.add(record)
        self._rows[workflow.application_id] = (record, {})
        self.save(workflow)

    def save(self, workflow: Workflow, *, form_of: ServiceDefinition | None = None) -> None:
        """Write ``workflow`` (got or added here) back to its rows, adding its new tasks; its form fields sealed
        again by ``form_of``'s catalogue when given."""
        record, tasks = self._rows[workflow.application_id]
        _update(
            record,
            state=workflow.state,
            current_stage=workflow.current_stage,
            documents=workflow.documents,
            outputs=workflow.outputs,
            due_at=workflow.due_at,
            waiting_since=workflow.waiting_since,
            payment_stage=workflow.payment_stage,
            paid_at=workflow.paid_at,
            payment_expired_at=workflow.payment_expired_at,
            updated_at=workflow.updated_at,
        )
        if form_of is not None:
            store_form_data(record, form_of, workflow.form, self._cipher)
        for task in workflow.tasks:
            row = tasks.get(task.task_id)
            if row is None:
                row = tasks[task.task_id] = TaskRecord(
                    task_id=task.task_id,
                    application_id=task.application_id,
                    agency=task.agency,
                    stage_index=task.stage_index,
                    state=task.state,
                    due_at=task.due_at,
                    outputs={},
                    questions=[],
                    updated_at=task.updated_at,
                )
                self._repository.add(row)
            _update(
                row,
                state=task.state,
                outputs=task.outputs,
                questions=task.questions,
                reason=task.reason,
                claimed_by=task.claimed_by,
                due_at=task.due_at,
                waiting_since=task.waiting_since,
                updated_at=task.updated_at,
            )


def _task(record: TaskRecord) -> Task:
    return Task(
        task_id=record.task_id,
        application_id=record.application_id,
        agency=record.agency,
        stage_index=record.stage_index,
        state=TaskState(record.state),
        due_at=record.due_at,
        updated_at=record.updated_at,
        outputs=dict(record.outputs),
        questions=list(record.questions),
        reason=record.reason,
        claimed_by=record.claimed_by,
        waiting_since=record.waiting_since,
    )


def _update(record: SQLModel, **values: Any) -> None:
    """Set the columns whose value differs (an unchanged row stays clean)."""
    for name, value in values.items():
        if getattr(record, name) != value:
            setattr(record, name, value)
