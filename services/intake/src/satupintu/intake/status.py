"""The citizen's view of an application, projected from the ``applications`` topic: state, stages, each agency's
task, due dates, outputs and a timeline. Applied once per event (inbox); unknown applications are ignored."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from satupintu.common.consumer import UnitOfWork
from satupintu.common.runtime import ServiceRuntime
from satupintu.contract.applications import (
    ApplicationCancelled,
    ApplicationCompleted,
    ApplicationInformationProvided,
    ApplicationInformationRequested,
    ApplicationRejected,
    ApplicationSlaBreached,
    ApplicationStageStarted,
    ApplicationTaskUpdated,
)
from satupintu.contract.base import ApplicationState, TaskState
from satupintu.contract.documents import DocumentIssued, DocumentRevoked
from satupintu.contract.envelope import Event
from satupintu.contract.payments import PaymentBilled, PaymentCancelled, PaymentConfirmed, PaymentExpired
from satupintu.contract.topics import Topic
from satupintu.intake.bills import Bills
from satupintu.intake.issued import IssuedDocuments
from satupintu.intake.storage.repository import StatusRepository
from satupintu.intake.storage.tables import ApplicationRecord, TaskStatusRecord, TimelineEntry

_logger = logging.getLogger(__name__)

LIFECYCLE = (
    ApplicationStageStarted,
    ApplicationTaskUpdated,
    ApplicationInformationRequested,
    ApplicationInformationProvided,
    ApplicationCompleted,
    ApplicationRejected,
    ApplicationSlaBreached,
    ApplicationCancelled,
)
"""The events the projection applies, each about the application that is its subject."""
APPLICATIONS = "intake.status.applications"
"""What :meth:`UnitOfWork.load_for_batch` keeps under this name: the applications of the batch's lifecycle events
(None for one intake does not know), locked; the projection changes them but adds or removes none."""
TASKS = "intake.status.tasks"
"""And under this one: which of the tasks the batch's stages start the projection has (those it adds join it)."""


async def _load_applications(uow: UnitOfWork, events: Sequence[Event[Any]]) -> dict[str, ApplicationRecord | None]:
    subjects = dict.fromkeys(event.subject for event in events if isinstance(event.payload, LIFECYCLE))
    return await StatusRepository(uow.session).applications(list(subjects))


async def _load_tasks(uow: UnitOfWork, events: Sequence[Event[Any]]) -> set[str]:
    started = [event.payload for event in events if isinstance(event.payload, ApplicationStageStarted)]
    return await StatusRepository(uow.session).existing_tasks(
        [task.task_id for stage in started for task in stage.tasks]
    )


class StatusProjection:
    """Keeps each application's public state and timeline from routing's lifecycle events."""

    async def _application(self, uow: UnitOfWork, event: Event[Any]) -> ApplicationRecord | None:
        """The event's application, locked: the batch's applications are read in one query."""
        applications = await uow.load_for_batch(APPLICATIONS, event, lambda events: _load_applications(uow, events))
        if event.subject in applications:
            application = applications[event.subject]
        else:  # not among those loaded (an event applied alone not of the lifecycle): on its own
            application = await StatusRepository(uow.session).application(event.subject)
        if application is None:
            _logger.info("ignoring %s for an application intake does not know", event.type)
        return application

    def _timeline(self, uow: UnitOfWork, event: Event[Any], agency: str | None, detail: dict[str, Any]) -> None:
        StatusRepository(uow.session).add(
            TimelineEntry(
                application_id=event.subject,
                event_id=event.id,
                kind=event.type,
                agency=agency,
                at=event.time,
                detail=detail,
            )
        )

    async def on_stage_started(self, uow: UnitOfWork, event: Event[ApplicationStageStarted]) -> None:
        """A stage began: its tasks appear, each with its due date."""
        application = await self._application(uow, event)
        if application is None:
            return
        started = event.payload
        application.status = ApplicationState.IN_PROGRESS
        application.current_stage = started.stage_index
        application.stage_count = started.stage_count
        application.updated_at = event.time
        repository = StatusRepository(uow.session)
        known = await uow.load_for_batch(TASKS, event, lambda events: _load_tasks(uow, events))
        for task in started.tasks:
            if task.task_id not in known:
                known.add(task.task_id)
                repository.add(
                    TaskStatusRecord(
                        task_id=task.task_id,
                        application_id=application.id,
                        agency=task.agency,
                        stage_index=started.stage_index,
                        state=TaskState.ASSIGNED,
                        due_at=task.due_at,
                        questions=[],
                        updated_at=event.time,
                    )
                )
        latest_due = max((task.due_at for task in started.tasks), default=None)
        if latest_due is not None and (application.due_at is None or latest_due > application.due_at):
            application.due_at = latest_due
        self._timeline(
            uow,
            event,
            None,
            {
                "stage_index": started.stage_index,
                "stage_name": started.stage_name,
                "agencies": [t.agency for t in started.tasks],
            },
        )

    async def on_task_updated(self, uow: UnitOfWork, event: Event[ApplicationTaskUpdated]) -> None:
        """An agency's task changed state."""
        if await self._application(uow, event) is None:
            return
        updated = event.payload
        task = await StatusRepository(uow.session).task(updated.task_id)
        if task is not None:
            task.state = updated.state
            task.updated_at = updated.at
        self._timeline(uow, event, updated.agency, {"task_id": updated.task_id, "state": updated.state.value})

    async def on_information_requested(self, uow: UnitOfWork, event: Event[ApplicationInformationRequested]) -> None:
        """An agency asked the citizen something; the status page offers to answer."""
        application = await self._application(uow, event)
        if application is None:
            return
        requested = event.payload
        application.status = ApplicationState.INFORMATION_REQUESTED
        application.updated_at = event.time
        task = await StatusRepository(uow.session).task(requested.task_id)
        if task is not None:
            task.state = TaskState.INFORMATION_REQUESTED
            task.questions = list(requested.questions)
            task.information_answered_at = None
            task.updated_at = requested.requested_at
        self._timeline(
            uow, event, requested.agency, {"task_id": requested.task_id, "questions": list(requested.questions)}
        )

    async def on_information_provided(self, uow: UnitOfWork, event: Event[ApplicationInformationProvided]) -> None:
        """The citizen's answer, as published (the timeline shows that it was given, not what it says)."""
        if await self._application(uow, event) is None:
            return
        provided = event.payload
        self._timeline(uow, event, provided.agency, {"task_id": provided.task_id})

    async def on_completed(self, uow: UnitOfWork, event: Event[ApplicationCompleted]) -> None:
        """Every stage approved: done, with each agency's outputs."""
        application = await self._application(uow, event)
        if application is None:
            return
        application.status = ApplicationState.COMPLETED
        application.outputs = dict(event.payload.outputs)
        application.updated_at = event.time
        self._timeline(uow, event, None, {"outputs": dict(event.payload.outputs)})

    async def on_rejected(self, uow: UnitOfWork, event: Event[ApplicationRejected]) -> None:
        """An agency rejected the application, with its reason."""
        application = await self._application(uow, event)
        if application is None:
            return
        rejected = event.payload
        application.status = ApplicationState.REJECTED
        application.outcome_reason = rejected.reason
        application.updated_at = event.time
        self._timeline(uow, event, rejected.agency, {"reason": rejected.reason})

    async def on_cancelled(self, uow: UnitOfWork, event: Event[ApplicationCancelled]) -> None:
        """Routing cancelled the application: its fee was not paid in time."""
        application = await self._application(uow, event)
        if application is None:
            return
        application.status = ApplicationState.CANCELLED
        application.outcome_reason = None
        application.updated_at = event.time
        self._timeline(uow, event, None, {"reason": event.payload.reason})

    async def on_sla_breached(self, uow: UnitOfWork, event: Event[ApplicationSlaBreached]) -> None:
        """The service standard's completion time passed."""
        application = await self._application(uow, event)
        if application is None:
            return
        application.sla_breached = True
        self._timeline(uow, event, None, {"due_at": event.payload.due_at.isoformat()})


def subscribe(runtime: ServiceRuntime, projection: StatusProjection, issued: IssuedDocuments, bills: Bills) -> None:
    """Consume routing's lifecycle events into the status projection, the documents agencies issue and revoke
    into the record their verification page reads, and the payment service's bills and their fate."""
    runtime.consume(
        Topic.APPLICATIONS.name_for(),
        name="intake-status",
        gather=True,
        handlers={
            ApplicationStageStarted: projection.on_stage_started,
            ApplicationTaskUpdated: projection.on_task_updated,
            ApplicationInformationRequested: projection.on_information_requested,
            ApplicationInformationProvided: projection.on_information_provided,
            ApplicationCompleted: projection.on_completed,
            ApplicationRejected: projection.on_rejected,
            ApplicationSlaBreached: projection.on_sla_breached,
            ApplicationCancelled: projection.on_cancelled,
            DocumentIssued: issued.on_issued,
            DocumentRevoked: issued.on_revoked,
            PaymentBilled: bills.on_billed,
            PaymentConfirmed: bills.on_confirmed,
            PaymentExpired: bills.on_expired,
            PaymentCancelled: bills.on_cancelled,
        },
    )
