"""Routing's use cases: start a workflow, take decisions and claims, resume after information.

Every decision of an agency on one of its own tasks is answered on that agency's tasks topic, in the transaction that
applies or refuses it: ``task.decision_accepted``, or ``task.decision_refused`` with the reason (nothing else
changes). A record that is not a decision of that agency at all (unknown task, another agency's task, the wrong
topic) has no agency task to answer and is dead-lettered.

The form fields a workflow keeps for later stages are stored with its personal ones (the catalogue's ``personal``)
sealed with routing's data keys (:func:`store_form_data`); only the rest is in clear.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from satupintu.common.catalogue import Catalogue, ServiceDefinition
from satupintu.common.clock import Clock, utc_now
from satupintu.common.consumer import RejectEvent, UnitOfWork
from satupintu.common.crypto import FieldCipher
from satupintu.common.events.applications import (
    ApplicationCompleted,
    ApplicationInformationProvided,
    ApplicationInformationRequested,
    ApplicationRejected,
    ApplicationStageStarted,
    ApplicationSubmitted,
    ApplicationTaskUpdated,
    StageTask,
)
from satupintu.common.events.base import ApplicationState, Decision, DocumentRef, EventPayload, TaskState
from satupintu.common.events.envelope import Event, event_source
from satupintu.common.events.tasks import (
    TaskAssigned,
    TaskClaimed,
    TaskDecided,
    TaskDecisionAccepted,
    TaskDecisionRefused,
    TaskWithdrawn,
)
from satupintu.common.working_days import WorkingCalendar, agency_calendar
from satupintu.routing.domain import (
    DecisionRefused,
    InvalidTransition,
    agency_of_topic,
    answers_for_asking_agency,
    check_decision_allowed,
    check_decision_complete,
)
from satupintu.routing.storage.repository import WorkflowRepository
from satupintu.routing.storage.tables import TaskRecord, WorkflowRecord

SOURCE = event_source("routing")
ACTOR = "service:routing"
_logger = logging.getLogger(__name__)


def personal_field_names(service: ServiceDefinition) -> frozenset[str]:
    """The form fields of ``service`` the catalogue marks personal."""
    return frozenset(field.name for field in service.fields if field.personal)


def _personal_context(application_id: str) -> str:
    """What a workflow's sealed personal fields are bound to: its column and its application (a value copied to
    another row does not open)."""
    return f"workflows.personal_data:{application_id}"


def form_data(workflow: WorkflowRecord, cipher: FieldCipher) -> dict[str, Any]:
    """Every form field ``workflow`` keeps: the clear ones and the sealed personal ones opened (a row stored before
    sealing holds them all in clear)."""
    data = dict(workflow.data)
    if workflow.personal_data_ciphertext:
        sealed = cipher.decrypt(workflow.personal_data_ciphertext, _personal_context(workflow.application_id))
        data |= json.loads(sealed)
    return data


def store_form_data(
    workflow: WorkflowRecord, service: ServiceDefinition, data: Mapping[str, Any], cipher: FieldCipher
) -> None:
    """Keep ``data`` as ``workflow``'s form fields: the personal ones sealed, the rest in clear."""
    personal_names = personal_field_names(service)
    personal = {name: value for name, value in data.items() if name in personal_names}
    workflow.data = {name: value for name, value in data.items() if name not in personal_names}
    workflow.personal_data_ciphertext = (
        cipher.encrypt(json.dumps(personal, ensure_ascii=False), _personal_context(workflow.application_id))
        if personal
        else None
    )


class WorkflowService:
    """Drives each application through its service's stages, one transaction per event."""

    def __init__(
        self,
        catalogue: Catalogue,
        cipher: FieldCipher,
        collective_leave: frozenset[Any] = frozenset(),
        clock: Clock = utc_now,
    ) -> None:
        self._catalogue = catalogue
        self._cipher = cipher
        self._collective_leave = collective_leave
        self._clock = clock

    def calendar_for(self, agency: str) -> WorkingCalendar:
        """The working-day calendar of ``agency``'s time zone."""
        return agency_calendar(self._catalogue, agency, self._collective_leave)

    async def on_submitted(self, uow: UnitOfWork, event: Event[ApplicationSubmitted]) -> None:
        """Create the workflow and start its first stage."""
        submitted = event.payload
        service = self._catalogue.service(submitted.service_code)
        if service is None:
            raise RejectEvent(f"unknown service {submitted.service_code!r}")
        repository = WorkflowRepository(uow.session)
        if await repository.has_workflow(submitted.application_id):
            return
        now = self._clock()
        workflow = WorkflowRecord(
            application_id=submitted.application_id,
            service_code=service.code,
            catalogue_version=submitted.catalogue_version,
            state=ApplicationState.IN_PROGRESS,
            current_stage=0,
            stage_count=len(service.stages),
            correlation_id=event.correlation_id or event.id,
            data={},
            documents=[document.model_dump() for document in submitted.documents],
            outputs={},
            due_at=self.calendar_for(service.agency).due_at(now, service.sla_working_days),
            created_at=now,
            updated_at=now,
        )
        store_form_data(workflow, service, submitted.data, self._cipher)
        repository.add(workflow)
        await self._start_stage(uow, event, workflow, service, 0, now=now)

    async def _start_stage(
        self,
        uow: UnitOfWork,
        cause: Event[Any],
        workflow: WorkflowRecord,
        service: ServiceDefinition,
        index: int,
        *,
        now: datetime | None = None,
    ) -> None:
        now = now or self._clock()
        stage = service.stages[index]
        workflow.current_stage = index
        workflow.updated_at = now
        repository = WorkflowRepository(uow.session)
        tasks: list[TaskRecord] = []
        for definition in stage.tasks:
            task = TaskRecord(
                task_id=str(uuid.uuid4()),
                application_id=workflow.application_id,
                agency=definition.agency,
                stage_index=index,
                state=TaskState.ASSIGNED,
                due_at=self.calendar_for(definition.agency).due_at(now, definition.sla_working_days),
                outputs={},
                questions=[],
                updated_at=now,
            )
            tasks.append(task)
            repository.add(task)
        await uow.emit(
            self._caused(
                cause,
                ApplicationStageStarted(
                    application_id=workflow.application_id,
                    stage_index=index,
                    stage_name=stage.name,
                    stage_count=workflow.stage_count,
                    tasks=tuple(StageTask(task_id=t.task_id, agency=t.agency, due_at=t.due_at) for t in tasks),
                    started_at=now,
                ),
            )
        )
        for task in tasks:
            await uow.emit(self._caused(cause, self._assignment(workflow, service, task, now)))
            await uow.emit(self._caused(cause, self._task_updated(task, now)))

    def _assignment(
        self,
        workflow: WorkflowRecord,
        service: ServiceDefinition,
        task: TaskRecord,
        now: datetime,
        answers: Mapping[str, Any] | None = None,
    ) -> TaskAssigned:
        """The task for its agency with only what the catalogue lets that agency see: its visible fields and
        documents, the outputs it needs, and of the citizen's ``answers`` to its own request only those it may see
        (:func:`answers_for_asking_agency`)."""
        definition = next(t for t in service.stages[task.stage_index].tasks if t.agency == task.agency)
        data = form_data(workflow, self._cipher)
        return TaskAssigned(
            application_id=workflow.application_id,
            task_id=task.task_id,
            agency=task.agency,
            service_code=service.code,
            stage_index=task.stage_index,
            fields={name: data[name] for name in definition.visible_fields if name in data},
            documents=tuple(
                DocumentRef.model_validate(document)
                for document in workflow.documents
                if document["name"] in definition.visible_documents
            ),
            previous_outputs={
                agency: workflow.outputs[agency]
                for agency in definition.needs_outputs_from
                if agency in workflow.outputs
            },
            answers=answers_for_asking_agency(
                answers or {},
                form_fields={field.name for field in service.fields},
                visible_fields=definition.visible_fields,
                questions=task.questions,
            ),
            due_at=task.due_at,
            assigned_at=now,
        )

    async def on_claimed(self, uow: UnitOfWork, event: Event[TaskClaimed]) -> None:
        """Record that an officer took the task."""
        claim = event.payload
        try:
            workflow, task = await self._guarded(uow, claim.task_id, claim.agency, claim.application_id)
        except DecisionRefused as refused:  # nobody waits for a claim's answer: a refused one is a dead letter
            raise RejectEvent(str(refused)) from refused
        if task.state == TaskState.CLAIMED:
            task.claimed_by = claim.officer  # a new claim after the previous one expired
            return
        task.state = TaskState.CLAIMED
        task.claimed_by = claim.officer
        task.updated_at = self._clock()
        await uow.emit(self._caused(event, self._task_updated(task, task.updated_at)))
        del workflow

    async def on_decided(self, uow: UnitOfWork, event: Event[TaskDecided]) -> None:
        """Apply an agency's decision: approve (maybe finishing the stage), reject, or ask the citizen."""
        decided = event.payload
        now = self._clock()
        try:
            workflow, task = await self._guarded(uow, decided.task_id, decided.agency, decided.application_id)
            check_decision_complete(decided.decision, reason=decided.reason, questions=decided.questions)
        except DecisionRefused as refused:
            _logger.info("decision %s on task %s refused: %s", event.id, decided.task_id, refused)
            await uow.emit(
                self._caused(
                    event,
                    TaskDecisionRefused(
                        application_id=decided.application_id,
                        task_id=decided.task_id,
                        agency=decided.agency,
                        decision=decided.decision,
                        decision_event_id=event.id,
                        reason=str(refused),
                        refused_at=now,
                    ),
                )
            )
            return
        task.updated_at = now
        workflow.updated_at = now
        await uow.emit(
            self._caused(
                event,
                TaskDecisionAccepted(
                    application_id=decided.application_id,
                    task_id=decided.task_id,
                    agency=decided.agency,
                    decision=decided.decision,
                    decision_event_id=event.id,
                    accepted_at=now,
                ),
            )
        )
        if decided.decision is Decision.APPROVED:
            await self._approve(uow, event, workflow, task, now)
        elif decided.decision is Decision.REJECTED:
            await self._reject(uow, event, workflow, task, reason=decided.reason or "", now=now)
        else:
            task.state = TaskState.INFORMATION_REQUESTED
            task.questions = list(decided.questions)
            workflow.state = ApplicationState.INFORMATION_REQUESTED
            await uow.emit(self._caused(event, self._task_updated(task, now)))
            await uow.emit(
                self._caused(
                    event,
                    ApplicationInformationRequested(
                        application_id=workflow.application_id,
                        task_id=task.task_id,
                        agency=task.agency,
                        questions=decided.questions,
                        requested_at=now,
                    ),
                )
            )

    async def _approve(
        self, uow: UnitOfWork, cause: Event[TaskDecided], workflow: WorkflowRecord, task: TaskRecord, now: datetime
    ) -> None:
        task.state = TaskState.APPROVED
        task.outputs = dict(cause.payload.outputs)
        workflow.outputs = {**workflow.outputs, task.agency: dict(cause.payload.outputs)}
        await uow.emit(self._caused(cause, self._task_updated(task, now)))
        repository = WorkflowRepository(uow.session)
        stage_tasks = await repository.tasks(workflow.application_id, workflow.current_stage)
        if any(t.state != TaskState.APPROVED for t in stage_tasks):
            return
        service = self._service(workflow)
        if workflow.current_stage + 1 < workflow.stage_count:
            await self._start_stage(uow, cause, workflow, service, workflow.current_stage + 1)
            return
        workflow.state = ApplicationState.COMPLETED
        await uow.emit(
            self._caused(
                cause,
                ApplicationCompleted(
                    application_id=workflow.application_id, outputs=workflow.outputs, completed_at=now
                ),
            )
        )

    async def _reject(
        self,
        uow: UnitOfWork,
        cause: Event[TaskDecided],
        workflow: WorkflowRecord,
        task: TaskRecord,
        *,
        reason: str,
        now: datetime,
    ) -> None:
        task.state = TaskState.REJECTED
        task.reason = reason
        workflow.state = ApplicationState.REJECTED
        await uow.emit(self._caused(cause, self._task_updated(task, now)))
        for sibling in await WorkflowRepository(uow.session).tasks(workflow.application_id):
            if sibling.task_id == task.task_id or sibling.state not in _OPEN:
                continue
            sibling.state = TaskState.WITHDRAWN
            sibling.updated_at = now
            withdrawal = f"application rejected by {task.agency}"
            await uow.emit(
                self._caused(
                    cause,
                    TaskWithdrawn(
                        application_id=workflow.application_id,
                        task_id=sibling.task_id,
                        agency=sibling.agency,
                        reason=withdrawal,
                        withdrawn_at=now,
                    ),
                )
            )
            await uow.emit(self._caused(cause, self._task_updated(sibling, now)))
        await uow.emit(
            self._caused(
                cause,
                ApplicationRejected(
                    application_id=workflow.application_id,
                    agency=task.agency,
                    task_id=task.task_id,
                    reason=reason,
                    rejected_at=now,
                ),
            )
        )

    async def on_information_provided(self, uow: UnitOfWork, event: Event[ApplicationInformationProvided]) -> None:
        """Resume the paused task: re-assign it to the agency that asked with the citizen's answers it may see.

        Corrected form fields and added documents become the application's, by field and by requirement name: each
        agency sees them as it sees the rest of the application (its ``visible_fields`` and ``visible_documents``,
        now and in later stages). The answers as such go to the asking agency's task alone, cut to what it may see.
        """
        provided = event.payload
        repository = WorkflowRepository(uow.session)
        workflow = await repository.workflow(provided.application_id, for_update=True)
        task = await repository.task(provided.task_id)
        if workflow is None or task is None or task.application_id != provided.application_id:
            raise RejectEvent(f"no task {provided.task_id} for application {provided.application_id}")
        if task.state != TaskState.INFORMATION_REQUESTED:
            raise RejectEvent(f"task {provided.task_id} is {task.state}, not waiting for information")
        now = self._clock()
        task.state = TaskState.ASSIGNED
        task.updated_at = now
        service = self._service(workflow)
        form_fields = {field.name for field in service.fields}
        corrected = {name: value for name, value in provided.answers.items() if name in form_fields}
        store_form_data(workflow, service, {**form_data(workflow, self._cipher), **corrected}, self._cipher)
        known = {(document["name"], document["sha256"]) for document in workflow.documents}
        workflow.documents = [
            *workflow.documents,
            *(d.model_dump() for d in provided.documents if (d.name, d.sha256) not in known),
        ]
        open_requests = [
            t
            for t in await repository.tasks(workflow.application_id)
            if t.state == TaskState.INFORMATION_REQUESTED and t.task_id != task.task_id
        ]
        if not open_requests:
            workflow.state = ApplicationState.IN_PROGRESS
        workflow.updated_at = now
        await uow.emit(self._caused(event, self._assignment(workflow, service, task, now, provided.answers)))
        await uow.emit(self._caused(event, self._task_updated(task, now)))

    async def _guarded(
        self, uow: UnitOfWork, task_id: str, agency: str, application_id: str
    ) -> tuple[WorkflowRecord, TaskRecord]:
        repository = WorkflowRepository(uow.session)
        workflow = await repository.workflow(application_id, for_update=True)
        task = await repository.task(task_id)
        if workflow is None or task is None or task.application_id != application_id:
            raise RejectEvent(f"unknown task {task_id} for application {application_id}")
        try:
            check_decision_allowed(
                task_state=TaskState(task.state),
                task_agency=task.agency,
                decided_by=agency,
                topic_agency=agency_of_topic(uow.topic),
                task_stage=task.stage_index,
                current_stage=workflow.current_stage,
                application_state=ApplicationState(workflow.state),
            )
        except DecisionRefused:
            raise
        except InvalidTransition as invalid:
            raise RejectEvent(str(invalid)) from invalid
        return workflow, task

    def _service(self, workflow: WorkflowRecord) -> ServiceDefinition:
        service = self._catalogue.service(workflow.service_code)
        if service is None:
            raise RejectEvent(f"service {workflow.service_code!r} is no longer in the catalogue")
        return service

    @staticmethod
    def _task_updated(task: TaskRecord, now: datetime) -> ApplicationTaskUpdated:
        return ApplicationTaskUpdated(
            application_id=task.application_id,
            task_id=task.task_id,
            agency=task.agency,
            state=TaskState(task.state),
            at=now,
        )

    @staticmethod
    def _caused(cause: Event[Any], payload: EventPayload) -> Event[Any]:
        return cause.caused(payload, source=SOURCE, actor=ACTOR)


_OPEN = frozenset({TaskState.ASSIGNED, TaskState.CLAIMED, TaskState.INFORMATION_REQUESTED})
