"""The SLA watch: finds tasks and applications past their service-standard due date and publishes one breach
event for each, naming who must act. A late task is announced twice in one transaction: ``task.sla_breached`` on the
agency's own tasks topic, and ``application.task_sla_breached`` on ``applications`` for those who may not read agency
topics (notification tells the escalation target). What waits for the citizen is never late: its clock is stopped
(decision 0028). Safe with several routing instances (rows are claimed with SKIP LOCKED and
marked in the same transaction as the events)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from prometheus_client import Counter

from satupintu.common.watches import Watch
from satupintu.contract.applications import ApplicationSlaBreached, ApplicationTaskSlaBreached
from satupintu.contract.envelope import Event
from satupintu.contract.tasks import TaskSlaBreached
from satupintu.routing.services import ACTOR, SOURCE
from satupintu.routing.storage.repository import WorkflowRepository

_logger = logging.getLogger(__name__)


@dataclass
class SlaWatch(Watch):
    """Publishes ``task.sla_breached`` and ``application.task_sla_breached`` once per late task and
    ``application.sla_breached`` once per late application."""

    what = "SLA check"
    breaches: Counter | None = None
    """Counts the breaches published, by kind and agency."""

    async def check_once(self) -> int:
        """Mark and announce what is late now; the number of breaches published."""
        now = self.clock()
        published = 0
        async with self.sessions() as session, session.begin():
            repository = WorkflowRepository(session)
            for task in await repository.late_tasks(now, self.batch_size):
                task.sla_breached_at = now
                agency = self.catalogue.agency(task.agency)
                breach = TaskSlaBreached(
                    application_id=task.application_id,
                    task_id=task.task_id,
                    agency=task.agency,
                    due_at=task.due_at,
                    breached_at=now,
                    escalation_target=agency.escalation_target if agency else f"kepala-{task.agency}",
                )
                await self.outbox.add(
                    session,
                    self._event(breach, task.application_id),
                    self._event(ApplicationTaskSlaBreached(**breach.model_dump()), task.application_id),
                )
                published += 1
                if self.breaches is not None:
                    self.breaches.labels("task", task.agency).inc()
            for workflow in await repository.late_workflows(now, self.batch_size):
                workflow.sla_breached_at = now
                service = self.catalogue.service(workflow.service_code)
                owner = self.catalogue.agency(service.agency) if service else None
                await self.outbox.add(
                    session,
                    self._event(
                        ApplicationSlaBreached(
                            application_id=workflow.application_id,
                            due_at=workflow.due_at,
                            breached_at=now,
                            escalation_target=owner.escalation_target if owner else "pengelola-mpp",
                        ),
                        workflow.application_id,
                        correlation_id=workflow.correlation_id,
                    ),
                )
                published += 1
                if self.breaches is not None:
                    self.breaches.labels("application", service.agency if service else "unknown").inc()
        if published:
            _logger.info("published %d SLA breaches", published)
        return published

    @staticmethod
    def _event(
        payload: TaskSlaBreached | ApplicationTaskSlaBreached | ApplicationSlaBreached,
        application_id: str,
        correlation_id: str | None = None,
    ) -> Event[TaskSlaBreached | ApplicationTaskSlaBreached | ApplicationSlaBreached]:
        return Event(
            payload=payload,
            source=SOURCE,
            subject=application_id,
            actor=ACTOR,
            id=str(uuid.uuid4()),
            correlation_id=correlation_id,
        )
