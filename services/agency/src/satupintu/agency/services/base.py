"""What the desk's use cases share: their dependencies, the clock, the owned task and the events they publish."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.agency.domain import TaskNotFound
from satupintu.agency.issuing.issuer import DocumentIssuer
from satupintu.agency.storage.repository import TaskRepository
from satupintu.agency.storage.tables import DeskTask
from satupintu.common.access_log import AccessLog
from satupintu.common.auth import Principal
from satupintu.common.catalogue import Catalogue
from satupintu.common.citizen_keys import ReaderKeyRing
from satupintu.common.clock import Clock, utc_now
from satupintu.common.crypto import FieldCipher
from satupintu.common.document_store import LocalDocumentStore
from satupintu.common.outbox import Outbox
from satupintu.common.working_days import WorkingCalendar, agency_calendar
from satupintu.contract.envelope import Event, event_source
from satupintu.contract.tasks import TaskClaimed, TaskDecided

SOURCE = event_source("agency", "desk")
ACTOR = "service:agency-desk"


class DeskBase:
    """What every use case of the desk works with: sessions, outbox, catalogue, cipher, documents (intake's uploads
    and the PDFs the desk issues, one store), keys, the document issuer (none: the desk issues nothing), clock and
    the access log; and the helpers they share (the owned task, the events the desk publishes, the calendar)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        catalogue: Catalogue,
        cipher: FieldCipher,
        documents: LocalDocumentStore,
        *,
        claim_ttl: timedelta,
        due_soon_working_days: int = 1,
        collective_leave: frozenset[Any] = frozenset(),
        keys: ReaderKeyRing | None = None,
        issuer: DocumentIssuer | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._sessions = sessions
        self._outbox = outbox
        self._catalogue = catalogue
        self._cipher = cipher
        self._documents = documents
        self._claim_ttl = claim_ttl
        self._due_soon_working_days = due_soon_working_days
        self._collective_leave = collective_leave
        self._clock = clock
        self.access = AccessLog(outbox, SOURCE, clock)

    def now(self) -> datetime:
        """The desk's current time."""
        return self._clock()

    async def _owned(
        self, session: AsyncSession, officer: Principal, task_id: str, action: str, *, for_update: bool = False
    ) -> DeskTask | None:
        """The task if the officer's agency owns it; None otherwise, recording the attempt on another agency's task
        as denied (in the caller's transaction, which must commit)."""
        agency = agency_of_officer(officer)
        row = await TaskRepository(session).get(task_id, for_update=for_update)
        if row is None:
            return None
        if row.agency != agency:
            await self.access.record(
                session,
                officer.actor(),
                subject_id=row.application_id,
                resource=f"task/{task_id}",
                action=action,
                outcome="denied",
                reason=f"task belongs to another agency than {agency}",
            )
            return None
        return row

    async def record_refusal(
        self, actor: str, action: str, reason: str, *, task_id: str | None = None, document: str | None = None
    ) -> None:
        """Record, in a transaction of its own, that ``actor`` was refused ``action`` on a task, a document or (with
        neither) the task list: see :meth:`_record_refusal`."""
        async with self._sessions() as session, session.begin():
            await self._record_refusal(session, actor, action, reason, task_id=task_id, document=document)

    async def _record_refusal(
        self,
        session: AsyncSession,
        actor: str,
        action: str,
        reason: str,
        *,
        task_id: str | None = None,
        document: str | None = None,
    ) -> None:
        """Record the refusal against the application the task belongs to, or against each application whose tasks
        reference the document, so that it shows on their audit timelines (the caller is told nothing of them);
        against the id asked for when it belongs to no application the desk knows."""
        repository = TaskRepository(session)
        if task_id is not None:
            resource = f"task/{task_id}"
            row = await repository.get(task_id)
            subjects = [row.application_id] if row is not None else [task_id]
        elif document is not None:
            resource = f"document/{document}"
            subjects = await repository.applications_with_document(document) or [document]
        else:
            resource, subjects = "tasks", ["tasks"]
        for subject in subjects:
            await self.access.record(
                session, actor, subject_id=subject, resource=resource, action=action, outcome="denied", reason=reason
            )

    def _event(
        self, task: DeskTask, payload: TaskClaimed | TaskDecided, officer: Principal, event_id: str | None = None
    ) -> Event[Any]:
        return Event(
            payload=payload,
            source=SOURCE,
            subject=task.application_id,
            actor=officer.actor(),
            id=event_id or str(uuid.uuid4()),
            correlation_id=task.correlation_id,
            causation_id=task.assignment_id,
            traceparent=task.traceparent,
        )

    def calendar_for(self, agency: str) -> WorkingCalendar:
        """The working-day calendar of ``agency``'s time zone."""
        return agency_calendar(self._catalogue, agency, self._collective_leave)


def agency_of_officer(officer: Principal) -> str:
    """The agency the officer works for."""
    if officer.agency is None:  # pragma: no cover - require_roles(Role.OFFICER) guarantees an agency
        raise TaskNotFound("?")
    return officer.agency


def personal_context(task_id: str) -> str:
    """The cipher context of a task's sealed personal data."""
    return f"desk_tasks.personal_data:{task_id}"
