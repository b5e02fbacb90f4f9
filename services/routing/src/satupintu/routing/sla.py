"""The SLA watch: finds tasks and applications past their service-standard due date and publishes one breach
event for each, naming who must act. Safe with several routing instances (rows are claimed with SKIP LOCKED and
marked in the same transaction as the events)."""

from __future__ import annotations

import logging
import uuid

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.catalogue import Catalogue
from satupintu.common.clock import Clock
from satupintu.common.outbox import Outbox
from satupintu.common.watches import Watch
from satupintu.contract.applications import ApplicationSlaBreached
from satupintu.contract.envelope import Event
from satupintu.contract.tasks import TaskSlaBreached
from satupintu.routing.services import ACTOR, SOURCE
from satupintu.routing.storage.repository import WorkflowRepository

_logger = logging.getLogger(__name__)


class SlaWatch(Watch):
    """Publishes ``task.sla_breached`` once per late task and ``application.sla_breached`` once per late application."""

    what = "SLA check"

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        catalogue: Catalogue,
        clock: Clock,
        *,
        interval: float = 30.0,
        batch_size: int = 200,
        breaches: Counter | None = None,
    ) -> None:
        super().__init__(sessions, outbox, catalogue, clock, interval=interval, batch_size=batch_size)
        self._breaches = breaches

    async def check_once(self) -> int:
        """Mark and announce what is late now; the number of breaches published."""
        now = self._clock()
        published = 0
        async with self._sessions() as session, session.begin():
            repository = WorkflowRepository(session)
            for task in await repository.late_tasks(now, self._batch_size):
                task.sla_breached_at = now
                agency = self._catalogue.agency(task.agency)
                await self._outbox.add(
                    session,
                    self._event(
                        TaskSlaBreached(
                            application_id=task.application_id,
                            task_id=task.task_id,
                            agency=task.agency,
                            due_at=task.due_at,
                            breached_at=now,
                            escalation_target=agency.escalation_target if agency else f"kepala-{task.agency}",
                        ),
                        task.application_id,
                    ),
                )
                published += 1
                if self._breaches is not None:
                    self._breaches.labels("task", task.agency).inc()
            for workflow in await repository.late_workflows(now, self._batch_size):
                workflow.sla_breached_at = now
                service = self._catalogue.service(workflow.service_code)
                owner = self._catalogue.agency(service.agency) if service else None
                await self._outbox.add(
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
                if self._breaches is not None:
                    self._breaches.labels("application", service.agency if service else "unknown").inc()
        if published:
            _logger.info("published %d SLA breaches", published)
        return published

    @staticmethod
    def _event(
        payload: TaskSlaBreached | ApplicationSlaBreached, application_id: str, correlation_id: str | None = None
    ) -> Event[TaskSlaBreached | ApplicationSlaBreached]:
        return Event(
            payload=payload,
            source=SOURCE,
            subject=application_id,
            actor=ACTOR,
            id=str(uuid.uuid4()),
            correlation_id=correlation_id,
        )
