"""Routing's use cases: start a workflow, take decisions and claims, resume after information.

Each use case loads the workflow through its repository, lets the domain (:mod:`satupintu.routing.domain`) decide,
saves it, and emits the domain's events into the outbox, all in the transaction of the event it handles.

Every decision of an agency on one of its own tasks is answered on that agency's tasks topic, in the transaction that
applies or refuses it: ``task.decision_accepted``, or ``task.decision_refused`` with the reason (nothing else
changes). A record that is not a decision of that agency at all (unknown task, another agency's task, the wrong
topic) has no agency task to answer and is dead-lettered.

The form fields a workflow keeps for later stages are stored with its personal ones (the catalogue's ``personal``)
sealed with routing's data keys (:func:`store_form_data`); only the rest is in clear.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from satupintu.common.catalogue import Catalogue, ServiceDefinition
from satupintu.common.clock import Clock, utc_now
from satupintu.common.consumer import RejectEvent, UnitOfWork
from satupintu.common.crypto import FieldCipher
from satupintu.common.working_days import WorkingCalendar, agency_calendar
from satupintu.contract.applications import ApplicationInformationProvided, ApplicationSubmitted
from satupintu.contract.base import EventPayload
from satupintu.contract.envelope import Event, event_source
from satupintu.contract.payments import PaymentConfirmed, PaymentExpired
from satupintu.contract.tasks import TaskClaimed, TaskDecided, TaskDecisionRefused
from satupintu.routing.domain import InvalidTransition, Planning, Workflow, agency_of_topic, new_task_id
from satupintu.routing.storage.form_fields import form_data, personal_field_names, store_form_data
from satupintu.routing.storage.repository import SqlWorkflows
from satupintu.routing.storage.tables import EarlyPaymentRecord

__all__ = [
    "ACTOR",
    "SOURCE",
    "Clock",
    "WorkflowService",
    "Workflows",
    "WorkflowsFor",
    "form_data",
    "personal_field_names",
    "store_form_data",
    "utc_now",
]

SOURCE = event_source("routing")
ACTOR = "service:routing"
_logger = logging.getLogger(__name__)
WITH_WORKFLOW = "routing.applications_with_workflow"
"""What :meth:`UnitOfWork.load_for_batch` keeps under this name: the batch's submitted applications that have a
workflow."""


def submitted_applications(events: Sequence[Event[Any]]) -> list[str]:
    """The applications of the ``application.submitted`` events among ``events``."""
    return [event.payload.application_id for event in events if isinstance(event.payload, ApplicationSubmitted)]


class Workflows(Protocol):
    """Where the use cases find and keep workflows, within the transaction of the event they handle."""

    async def existing(self, application_ids: Sequence[str]) -> set[str]:
        """Which of ``application_ids`` have a stored workflow."""

    async def get(self, application_id: str) -> Workflow | None:
        """The workflow of ``application_id`` with its tasks, locked for the transaction."""

    def add(self, workflow: Workflow, service: ServiceDefinition) -> None:
        """Keep a new workflow and its tasks."""

    def save(self, workflow: Workflow, *, form_of: ServiceDefinition | None = None) -> None:
        """Keep the changes to a workflow got here (its form fields too when ``form_of`` is given)."""

    async def early_payment(self, application_id: str) -> EarlyPaymentRecord | None:
        """What was recorded of ``application_id``'s payment before its workflow existed, locked."""

    def add_early_payment(self, record: EarlyPaymentRecord) -> None:
        """Keep a new record of a payment that came before its application's workflow."""


WorkflowsFor = Callable[[UnitOfWork], Workflows]
"""The workflows repository of one unit of work."""


class WorkflowService:
    """Drives each application through its service's stages, one transaction per event."""

    def __init__(
        self,
        catalogue: Catalogue,
        cipher: FieldCipher,
        collective_leave: frozenset[Any] = frozenset(),
        clock: Clock = utc_now,
        *,
        workflows: WorkflowsFor | None = None,
        task_ids: Callable[[], str] = new_task_id,
    ) -> None:
        self._catalogue = catalogue
        self._collective_leave = collective_leave
        self._clock = clock
        self._workflows = workflows or (lambda uow: SqlWorkflows(uow.session, cipher))
        self._planning = Planning(self.calendar_for, task_ids)

    def calendar_for(self, agency: str) -> WorkingCalendar:
        """The working-day calendar of ``agency``'s time zone."""
        return agency_calendar(self._catalogue, agency, self._collective_leave)

    async def on_submitted(self, uow: UnitOfWork, event: Event[ApplicationSubmitted]) -> None:
        """Create the workflow and start its first stage."""
        submitted = event.payload
        service = self._catalogue.service(submitted.service_code)
        if service is None:
            raise RejectEvent(f"unknown service {submitted.service_code!r}")
        workflows = self._workflows(uow)

        async def with_workflow(events: Sequence[Event[Any]]) -> set[str]:
            return await workflows.existing(submitted_applications(events))

        # one query for the batch's submissions; a workflow created here is added, so a later duplicate sees it
        known = await uow.load_for_batch(WITH_WORKFLOW, event, with_workflow)
        if submitted.application_id in known:
            return
        now = self._clock()
        # a payment can come before its submission only for a service with a fee: skip the locked lookup otherwise
        early = await workflows.early_payment(submitted.application_id) if service.fee is not None else None
        workflow, events = Workflow.start(
            submitted,
            service,
            correlation_id=event.correlation_id or event.id,
            planning=self._planning,
            now=now,
            paid_at=early.paid_at if early is not None else None,
        )
        if early is not None and early.expired_at is not None:
            events += workflow.expire_payment(expired_at=early.expired_at, now=now)
        workflows.add(workflow, service)
        known.add(submitted.application_id)
        await self._emit(uow, event, events)

    async def on_payment_confirmed(self, uow: UnitOfWork, event: Event[PaymentConfirmed]) -> None:
        """The fee was paid: a workflow held at its payment gate starts that stage; one not there yet will pass it;
        an application routing has not seen yet keeps the payment for its submission. Duplicates change nothing."""
        confirmed = event.payload
        workflows = self._workflows(uow)
        workflow = await workflows.get(confirmed.application_id)
        if workflow is None:
            await self._record_early(workflows, confirmed.application_id, paid_at=confirmed.paid_at)
            return
        service = self._catalogue.service(workflow.service_code)
        try:
            events = workflow.pay(
                paid_at=confirmed.paid_at, service=service, planning=self._planning, now=self._clock()
            )
        except InvalidTransition as invalid:
            raise RejectEvent(str(invalid)) from invalid
        workflows.save(workflow)
        await self._emit(uow, event, events)

    async def on_payment_expired(self, uow: UnitOfWork, event: Event[PaymentExpired]) -> None:
        """The bill expired unpaid: the application is cancelled and its open tasks withdrawn, unless it was paid or
        has ended; one routing has not seen yet keeps the expiry for its submission."""
        expired = event.payload
        workflows = self._workflows(uow)
        workflow = await workflows.get(expired.application_id)
        if workflow is None:
            await self._record_early(workflows, expired.application_id, expired_at=expired.expired_at)
            return
        events = workflow.expire_payment(expired_at=expired.expired_at, now=self._clock())
        workflows.save(workflow)
        await self._emit(uow, event, events)

    async def _record_early(
        self,
        workflows: Workflows,
        application_id: str,
        *,
        paid_at: datetime | None = None,
        expired_at: datetime | None = None,
    ) -> None:
        record = await workflows.early_payment(application_id)
        if record is None:
            record = EarlyPaymentRecord(application_id=application_id, recorded_at=self._clock())
            workflows.add_early_payment(record)
        if paid_at is not None and record.paid_at is None:
            record.paid_at = paid_at
        if expired_at is not None and record.expired_at is None:
            record.expired_at = expired_at

    async def on_claimed(self, uow: UnitOfWork, event: Event[TaskClaimed]) -> None:
        """Record that an officer took the task; nobody waits for a claim's answer, so a refused one is a dead
        letter."""
        claim = event.payload
        workflows = self._workflows(uow)
        workflow = await self._workflow(workflows, claim.application_id, claim.task_id)
        try:
            events = workflow.claim(claim, topic_agency=agency_of_topic(uow.topic), now=self._clock())
        except InvalidTransition as invalid:
            raise RejectEvent(str(invalid)) from invalid
        workflows.save(workflow)
        await self._emit(uow, event, events)

    async def on_decided(self, uow: UnitOfWork, event: Event[TaskDecided]) -> None:
        """Apply an agency's decision: approve (maybe finishing the stage), reject, or ask the citizen; or refuse
        it to the agency with the reason."""
        decided = event.payload
        now = self._clock()
        workflows = self._workflows(uow)
        workflow = await self._workflow(workflows, decided.application_id, decided.task_id)
        try:
            events = workflow.decide(
                decided,
                decision_event_id=event.id,
                topic_agency=agency_of_topic(uow.topic),
                service=self._catalogue.service(workflow.service_code),
                planning=self._planning,
                now=now,
            )
        except InvalidTransition as invalid:
            raise RejectEvent(str(invalid)) from invalid
        if isinstance(refused := events[0], TaskDecisionRefused):
            _logger.info("decision %s on task %s refused: %s", event.id, decided.task_id, refused.reason)
        else:
            workflows.save(workflow)
        await self._emit(uow, event, events)

    async def on_information_provided(self, uow: UnitOfWork, event: Event[ApplicationInformationProvided]) -> None:
        """Resume the paused task: re-assign it to the agency that asked with the citizen's answers it may see
        (:meth:`Workflow.provide_information`)."""
        provided = event.payload
        workflows = self._workflows(uow)
        workflow = await workflows.get(provided.application_id)
        if workflow is None:
            raise RejectEvent(f"no task {provided.task_id} for application {provided.application_id}")
        service = self._catalogue.service(workflow.service_code)
        try:
            events = workflow.provide_information(provided, service=service, planning=self._planning, now=self._clock())
        except InvalidTransition as invalid:
            raise RejectEvent(str(invalid)) from invalid
        workflows.save(workflow, form_of=service)
        await self._emit(uow, event, events)

    @staticmethod
    async def _workflow(workflows: Workflows, application_id: str, task_id: str) -> Workflow:
        workflow = await workflows.get(application_id)
        if workflow is None:
            raise RejectEvent(f"unknown task {task_id} for application {application_id}")
        return workflow

    @staticmethod
    async def _emit(uow: UnitOfWork, cause: Event[Any], payloads: Sequence[EventPayload]) -> None:
        for payload in payloads:
            await uow.emit(cause.caused(payload, source=SOURCE, actor=ACTOR))
