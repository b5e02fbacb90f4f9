"""The workflow, no I/O: an application's way through its service's stages as plain objects.

A :class:`Workflow` holds its :class:`Task` objects; each method takes what happened (a submission, a claim, a
decision, the citizen's answer), changes the workflow and returns the events that say so, in the order they are
published. A decision an agency may make on its own task but not now is answered with ``task.decision_refused`` and
changes nothing; anything that is no agency's decision at all raises :class:`InvalidTransition` (dead-lettered).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from satupintu.common.catalogue import POWER_OF_ATTORNEY, ServiceDefinition
from satupintu.common.working_days import WorkingCalendar
from satupintu.contract.applications import (
    ApplicationCancelled,
    ApplicationCompleted,
    ApplicationInformationProvided,
    ApplicationInformationRequested,
    ApplicationRejected,
    ApplicationStageStarted,
    ApplicationSubmitted,
    ApplicationTaskUpdated,
    StageTask,
)
from satupintu.contract.base import ApplicationState, Decision, DocumentRef, EventPayload, TaskState
from satupintu.contract.tasks import (
    DocumentHolder,
    TaskAssigned,
    TaskClaimed,
    TaskDecided,
    TaskDecisionAccepted,
    TaskDecisionRefused,
    TaskWithdrawn,
)
from satupintu.routing.domain.rules import (
    FINAL_APPLICATION_STATES,
    OPEN_TASK_STATES,
    DecisionRefused,
    InvalidTransition,
    answers_for_asking_agency,
    check_decision_allowed,
    check_decision_complete,
)


def new_task_id() -> str:
    """A fresh random task id."""
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Planning:
    """What starting a stage needs besides the workflow: each agency's working-day calendar (its time zone and the
    year's collective leave) for the due dates, and where task ids come from."""

    calendar_for: Callable[[str], WorkingCalendar]
    task_ids: Callable[[], str] = new_task_id

    def due_at(self, agency: str, start: datetime, working_days: int) -> datetime:
        """The end of the ``working_days``-th working day of ``agency`` after ``start``."""
        return self.calendar_for(agency).due_at(start, working_days)

    def paused(self, agency: str, due_at: datetime, waiting_since: datetime, now: datetime) -> datetime:
        """``due_at`` moved later by the working days of ``agency`` that began while it waited for the citizen
        (from ``waiting_since`` to ``now``): the SLA pause rule (decision 0028). A wait within one day moves nothing."""
        calendar = self.calendar_for(agency)
        waited = calendar.working_days_started(waiting_since, now)
        return calendar.due_at(due_at, waited) if waited else due_at


@dataclass
class Task:
    """One agency's task in one stage."""

    task_id: str
    application_id: str
    agency: str
    stage_index: int
    state: TaskState
    due_at: datetime
    updated_at: datetime
    outputs: dict[str, Any] = field(default_factory=dict)
    questions: list[str] = field(default_factory=list)
    reason: str | None = None
    claimed_by: str | None = None
    waiting_since: datetime | None = None
    """When the task began to wait for the citizen's answer; its SLA clock is stopped until then."""

    @property
    def is_open(self) -> bool:
        """Whether the task still waits for its agency or the citizen."""
        return self.state in OPEN_TASK_STATES

    def updated(self, now: datetime) -> ApplicationTaskUpdated:
        """The event that tells the application's followers this task's state."""
        return ApplicationTaskUpdated(
            application_id=self.application_id, task_id=self.task_id, agency=self.agency, state=self.state, at=now
        )


@dataclass
class Workflow:
    """An application's way through its service's stages; ``tasks`` oldest stage first."""

    application_id: str
    service_code: str
    catalogue_version: str
    state: ApplicationState
    current_stage: int
    stage_count: int
    correlation_id: str
    form: dict[str, Any]
    """Every form field kept for later stages (personal ones included: sealing them is storage's business)."""
    documents: list[dict[str, str]]
    outputs: dict[str, Any]
    due_at: datetime
    created_at: datetime
    updated_at: datetime
    tasks: list[Task] = field(default_factory=list)
    holder: DocumentHolder | None = None
    """Who the service's document is for (the applicant's name and NIK, sealed by intake for the citizen's key, never
    opened here): kept only when the service issues a document, and passed on to the issuing agency's task alone."""
    waiting_since: datetime | None = None
    """When the application began to wait for the citizen (its first open information request, or its fee at the
    payment gate); its SLA clock is stopped until nothing waits any more."""
    payment_stage: int | None = None
    """The stage that may not start before the fee is paid (0: the first), from the catalogue at submission; None
    when the service has no fee."""
    paid_at: datetime | None = None
    """When the fee was paid (``payment.confirmed``)."""
    payment_expired_at: datetime | None = None
    """When the unpaid bill expired and the application was cancelled (``payment.expired``)."""

    @classmethod
    def start(
        cls,
        submitted: ApplicationSubmitted,
        service: ServiceDefinition,
        *,
        correlation_id: str,
        planning: Planning,
        now: datetime,
        paid_at: datetime | None = None,
    ) -> tuple[Workflow, list[EventPayload]]:
        """The workflow of a submitted application, with its first stage started (or waiting at the payment gate
        when the fee is due first and not yet paid: ``paid_at`` says a payment that came before the submission),
        and the events that say so."""
        workflow = cls(
            application_id=submitted.application_id,
            service_code=service.code,
            catalogue_version=submitted.catalogue_version,
            state=ApplicationState.IN_PROGRESS,
            current_stage=0,
            stage_count=len(service.stages),
            correlation_id=correlation_id,
            form=dict(submitted.data),
            documents=[document.model_dump() for document in submitted.documents],
            outputs={},
            payment_stage=service.payment_stage(),
            paid_at=paid_at,
            due_at=planning.due_at(service.agency, now, service.sla_working_days),
            created_at=now,
            updated_at=now,
            holder=(
                DocumentHolder(
                    name=submitted.applicant.name,
                    nik=submitted.applicant.nik,
                    business=submitted.applicant.business,
                )
                if service.document is not None
                else None
            ),
        )
        return workflow, workflow._enter_stage(service, 0, planning, now)

    @property
    def awaiting_payment(self) -> bool:
        """Whether the workflow is held at its payment gate: the next stage to start is the one the fee must be paid
        before, and it is not paid (no task of that stage exists yet)."""
        return (
            self.state is ApplicationState.IN_PROGRESS
            and self.paid_at is None
            and self.payment_stage == self.current_stage
            and not self.stage_tasks(self.current_stage)
        )

    def pay(
        self, *, paid_at: datetime, service: ServiceDefinition | None, planning: Planning, now: datetime
    ) -> list[EventPayload]:
        """The fee was paid: a workflow held at its payment gate starts that stage as it would have, its due date
        moved later by the working days it waited (:meth:`Planning.paused`); one not yet at its gate will pass it.
        A second confirmation, or one for an application already ended, changes nothing."""
        if self.paid_at is not None or self.state in FINAL_APPLICATION_STATES:
            return []
        held = self.awaiting_payment
        self.paid_at = paid_at
        self.updated_at = now
        if not held:
            return []
        service = self._known(service)
        if self.waiting_since is not None:
            self.due_at = planning.paused(service.agency, self.due_at, self.waiting_since, now)
            self.waiting_since = None
        return self._start_stage(service, self.current_stage, planning, now)

    def expire_payment(self, *, expired_at: datetime, now: datetime) -> list[EventPayload]:
        """The bill expired unpaid: the application is cancelled, its open tasks withdrawn. An application already
        paid or ended, or one without a fee, is left as it is."""
        if self.payment_stage is None or self.paid_at is not None or self.state in FINAL_APPLICATION_STATES:
            return []
        self.state = ApplicationState.CANCELLED
        self.payment_expired_at = expired_at
        self.waiting_since = None
        self.updated_at = now
        events: list[EventPayload] = []
        for task in self.tasks:
            if task.is_open:
                events += self._withdraw(task, "the fee was not paid before the bill expired", now)
        cancelled = ApplicationCancelled(application_id=self.application_id, reason="payment_expired", cancelled_at=now)
        return [*events, cancelled]

    def task(self, task_id: str) -> Task | None:
        """The task with ``task_id``, if it is one of this workflow's."""
        return next((task for task in self.tasks if task.task_id == task_id), None)

    def stage_tasks(self, index: int) -> list[Task]:
        """The tasks of stage ``index``."""
        return [task for task in self.tasks if task.stage_index == index]

    def claim(self, claimed: TaskClaimed, *, topic_agency: str | None, now: datetime) -> list[EventPayload]:
        """An officer took the task; a new claim of a claimed task (the previous one expired) changes only who.

        Raises :class:`InvalidTransition` (:class:`DecisionRefused` included: nobody waits for a claim's answer)
        when the agency may not take the task now."""
        task = self._decidable(claimed.task_id, claimed.agency, topic_agency)
        if task.state is TaskState.CLAIMED:
            task.claimed_by = claimed.officer
            return []
        task.state = TaskState.CLAIMED
        task.claimed_by = claimed.officer
        task.updated_at = now
        return [task.updated(now)]

    def decide(
        self,
        decided: TaskDecided,
        *,
        decision_event_id: str,
        topic_agency: str | None,
        service: ServiceDefinition | None,
        planning: Planning,
        now: datetime,
    ) -> list[EventPayload]:
        """Apply an agency's decision: approve (maybe finishing the stage or the application), reject (withdrawing
        every other open task), or ask the citizen; or refuse it with the reason and change nothing.

        Raises :class:`InvalidTransition` for what is not this agency's task to decide, and when the service to
        start the next stage of is no longer known."""
        try:
            task = self._decidable(decided.task_id, decided.agency, topic_agency)
            check_decision_complete(decided.decision, reason=decided.reason, questions=decided.questions)
        except DecisionRefused as refused:
            return [
                TaskDecisionRefused(
                    application_id=decided.application_id,
                    task_id=decided.task_id,
                    agency=decided.agency,
                    decision=decided.decision,
                    decision_event_id=decision_event_id,
                    reason=str(refused),
                    refused_at=now,
                )
            ]
        task.updated_at = now
        self.updated_at = now
        accepted = TaskDecisionAccepted(
            application_id=decided.application_id,
            task_id=decided.task_id,
            agency=decided.agency,
            decision=decided.decision,
            decision_event_id=decision_event_id,
            outputs=dict(decided.outputs) if decided.decision is Decision.APPROVED else {},
            accepted_at=now,
        )
        if decided.decision is Decision.APPROVED:
            return [accepted, *self._approve(task, decided.outputs, service, planning, now)]
        if decided.decision is Decision.REJECTED:
            return [accepted, *self._reject(task, decided.reason or "", now)]
        return [accepted, *self._ask(task, decided.questions, now)]

    def provide_information(
        self,
        provided: ApplicationInformationProvided,
        *,
        service: ServiceDefinition | None,
        planning: Planning,
        now: datetime,
    ) -> list[EventPayload]:
        """Resume the paused task: re-assign it to the agency that asked, with the citizen's answers it may see, and
        its due date moved later by the working days it waited (:meth:`Planning.paused`); the application's too
        once no task waits any more.

        Corrected form fields and added documents become the application's, by field and by requirement name: each
        agency sees them as it sees the rest of the application (now and in later stages). The answers as such go
        to the asking agency's task alone, cut to what it may see. Raises :class:`InvalidTransition` when the task
        is unknown or not waiting for the citizen."""
        task = self.task(provided.task_id)
        if task is None:
            raise InvalidTransition(f"no task {provided.task_id} for application {provided.application_id}")
        if task.state is not TaskState.INFORMATION_REQUESTED:
            raise InvalidTransition(f"task {provided.task_id} is {task.state}, not waiting for information")
        service = self._known(service)
        task.state = TaskState.ASSIGNED
        task.updated_at = now
        if task.waiting_since is not None:
            task.due_at = planning.paused(task.agency, task.due_at, task.waiting_since, now)
            task.waiting_since = None
        form_fields = {definition.name for definition in service.fields}
        self.form = {**self.form, **{name: v for name, v in provided.answers.items() if name in form_fields}}
        known = {(document["name"], document["sha256"]) for document in self.documents}
        self.documents = [
            *self.documents,
            *(d.model_dump() for d in provided.documents if (d.name, d.sha256) not in known),
        ]
        if not any(t.state is TaskState.INFORMATION_REQUESTED for t in self.tasks):
            self.state = ApplicationState.IN_PROGRESS
            if self.waiting_since is not None:
                self.due_at = planning.paused(service.agency, self.due_at, self.waiting_since, now)
                self.waiting_since = None
        self.updated_at = now
        return [self._assignment(service, task, now, provided.answers), task.updated(now)]

    def _decidable(self, task_id: str, agency: str, topic_agency: str | None) -> Task:
        task = self.task(task_id)
        if task is None:
            raise InvalidTransition(f"unknown task {task_id} for application {self.application_id}")
        check_decision_allowed(
            task_state=task.state,
            task_agency=task.agency,
            decided_by=agency,
            topic_agency=topic_agency,
            task_stage=task.stage_index,
            current_stage=self.current_stage,
            application_state=self.state,
        )
        return task

    def _approve(
        self,
        task: Task,
        outputs: Mapping[str, Any],
        service: ServiceDefinition | None,
        planning: Planning,
        now: datetime,
    ) -> list[EventPayload]:
        task.state = TaskState.APPROVED
        task.outputs = dict(outputs)
        self.outputs = {**self.outputs, task.agency: dict(outputs)}
        events: list[EventPayload] = [task.updated(now)]
        if any(t.state is not TaskState.APPROVED for t in self.stage_tasks(self.current_stage)):
            return events
        if self.current_stage + 1 < self.stage_count:
            return [*events, *self._enter_stage(self._known(service), self.current_stage + 1, planning, now)]
        self.state = ApplicationState.COMPLETED
        return [
            *events,
            ApplicationCompleted(application_id=self.application_id, outputs=self.outputs, completed_at=now),
        ]

    def _reject(self, task: Task, reason: str, now: datetime) -> list[EventPayload]:
        task.state = TaskState.REJECTED
        task.reason = reason
        self.state = ApplicationState.REJECTED
        events: list[EventPayload] = [task.updated(now)]
        for sibling in self.tasks:
            if sibling is task or not sibling.is_open:
                continue
            events += self._withdraw(sibling, f"application rejected by {task.agency}", now)
        rejected = ApplicationRejected(
            application_id=self.application_id, agency=task.agency, task_id=task.task_id, reason=reason, rejected_at=now
        )
        return [*events, rejected]

    def _withdraw(self, task: Task, reason: str, now: datetime) -> list[EventPayload]:
        task.state = TaskState.WITHDRAWN
        task.updated_at = now
        withdrawn = TaskWithdrawn(
            application_id=self.application_id,
            task_id=task.task_id,
            agency=task.agency,
            reason=reason,
            withdrawn_at=now,
        )
        return [withdrawn, task.updated(now)]

    def _ask(self, task: Task, questions: tuple[str, ...], now: datetime) -> list[EventPayload]:
        task.state = TaskState.INFORMATION_REQUESTED
        task.questions = list(questions)
        task.waiting_since = now
        self.state = ApplicationState.INFORMATION_REQUESTED
        if self.waiting_since is None:
            self.waiting_since = now
        requested = ApplicationInformationRequested(
            application_id=self.application_id,
            task_id=task.task_id,
            agency=task.agency,
            questions=questions,
            requested_at=now,
        )
        return [task.updated(now), requested]

    def _enter_stage(
        self, service: ServiceDefinition, index: int, planning: Planning, now: datetime
    ) -> list[EventPayload]:
        """Start stage ``index``, unless the fee must be paid before it and is not: then hold the workflow at the
        gate, its SLA clock stopped (decision 0032), until :meth:`pay`."""
        if self.payment_stage == index and self.paid_at is None:
            self.current_stage = index
            self.updated_at = now
            self.waiting_since = now
            return []
        return self._start_stage(service, index, planning, now)

    def _start_stage(
        self, service: ServiceDefinition, index: int, planning: Planning, now: datetime
    ) -> list[EventPayload]:
        stage = service.stages[index]
        self.current_stage = index
        self.updated_at = now
        started = [
            Task(
                task_id=planning.task_ids(),
                application_id=self.application_id,
                agency=definition.agency,
                stage_index=index,
                state=TaskState.ASSIGNED,
                due_at=planning.due_at(definition.agency, now, definition.sla_working_days),
                updated_at=now,
            )
            for definition in stage.tasks
        ]
        self.tasks.extend(started)
        events: list[EventPayload] = [
            ApplicationStageStarted(
                application_id=self.application_id,
                stage_index=index,
                stage_name=stage.name,
                stage_count=self.stage_count,
                tasks=tuple(StageTask(task_id=t.task_id, agency=t.agency, due_at=t.due_at) for t in started),
                started_at=now,
            )
        ]
        for task in started:
            events += [self._assignment(service, task, now), task.updated(now)]
        return events

    def _assignment(
        self, service: ServiceDefinition, task: Task, now: datetime, answers: Mapping[str, Any] | None = None
    ) -> TaskAssigned:
        """The task for its agency with only what the catalogue lets that agency see: its visible fields and
        documents, the outputs it needs, and of the citizen's ``answers`` to its own request only those it may see
        (:func:`answers_for_asking_agency`)."""
        definition = next(t for t in service.stages[task.stage_index].tasks if t.agency == task.agency)
        return TaskAssigned(
            application_id=self.application_id,
            task_id=task.task_id,
            agency=task.agency,
            service_code=service.code,
            stage_index=task.stage_index,
            fields={name: self.form[name] for name in definition.visible_fields if name in self.form},
            documents=tuple(
                DocumentRef.model_validate(document)
                for document in self.documents
                if document["name"] in definition.visible_documents or document["name"] == POWER_OF_ATTORNEY.name
            ),
            previous_outputs={
                agency: self.outputs[agency] for agency in definition.needs_outputs_from if agency in self.outputs
            },
            answers=answers_for_asking_agency(
                answers or {},
                form_fields={field.name for field in service.fields},
                visible_fields=definition.visible_fields,
                questions=task.questions,
            ),
            holder=self.holder if _issues_document(service, task) else None,
            due_at=task.due_at,
            assigned_at=now,
        )

    def _known(self, service: ServiceDefinition | None) -> ServiceDefinition:
        if service is None:
            raise InvalidTransition(f"service {self.service_code!r} is no longer in the catalogue")
        return service


def _issues_document(service: ServiceDefinition, task: Task) -> bool:
    """Whether ``task`` is the one whose approval issues the service's document: the issuing agency's task in the
    last stage it has one in."""
    return task.agency == service.issuing_agency() and task.stage_index == service.issuing_stage()
