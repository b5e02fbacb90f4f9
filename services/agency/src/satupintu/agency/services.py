"""The desk's use cases: keep the task inbox from the agencies' topics, list, show, claim and decide tasks, serve
documents, record who saw what (``access.recorded``), and the officers who log in.

A decision, made at the desk or seen on the agency's decisions topic, only sends the task to routing
(``decision_sent``): routing's answer on the tasks topic closes it (``task.decision_accepted``) or puts it back in
the pool with the reason (``task.decision_refused``).

Isolation is enforced here for every entry point (JSON API and pages): an officer's agency must own the task or a
task referencing the document, otherwise the answer is "not found" and the attempt is published as
``access.recorded`` with outcome ``denied``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.agency.documents import sniff
from satupintu.agency.domain import (
    ClaimedByColleague,
    ClaimRequired,
    DecisionInput,
    DeskError,
    DeskTaskState,
    DocumentUnavailable,
    SlaState,
    TaskNotFound,
    TaskNotOpen,
    agency_of_topic,
    checked_decision,
    sla_state,
    state_after,
)
from satupintu.agency.sdk import decision_event_id
from satupintu.agency.storage.repository import OfficerRepository, TaskRepository
from satupintu.agency.storage.tables import DeskTask, Officer
from satupintu.common.access_log import AccessLog
from satupintu.common.auth import Principal
from satupintu.common.catalogue import Catalogue
from satupintu.common.citizen_keys import KeyNotHeld, ReaderKeyRing
from satupintu.common.clock import Clock, utc_now
from satupintu.common.consumer import RejectEvent, UnitOfWork
from satupintu.common.crypto import FieldCipher
from satupintu.common.document_store import DamagedDocument, LocalDocumentStore, UnknownDocumentKey
from satupintu.common.events.applications import JsonScalar
from satupintu.common.events.base import Decision, DocumentRef
from satupintu.common.events.envelope import Event, event_source
from satupintu.common.events.tasks import (
    TaskAssigned,
    TaskClaimed,
    TaskDecided,
    TaskDecisionAccepted,
    TaskDecisionRefused,
    TaskSlaBreached,
    TaskWithdrawn,
)
from satupintu.common.outbox import Outbox
from satupintu.common.working_days import WorkingCalendar, agency_calendar

SOURCE = event_source("agency", "desk")
ACTOR = "service:agency-desk"
_logger = logging.getLogger(__name__)


NOT_READABLE = "(tidak dapat dibaca / not readable)"
"""What a sealed value reads as when its citizen key is not held (not yet arrived, or destroyed by an erasure)."""


@dataclass(frozen=True)
class FieldView:
    """One application field an agency may see, with its label from the catalogue."""

    name: str
    label: str
    value: JsonScalar


@dataclass(frozen=True)
class TaskView:
    """A task as an officer sees it; ``fields`` and ``answers`` only when the task is shown on its own."""

    task_id: str
    application_id: str
    agency: str
    service_code: str
    service_name: str
    action: str
    stage_index: int
    stage_name: str
    state: DeskTaskState
    due_at: datetime
    assigned_at: datetime
    sla_state: SlaState
    timezone: str
    claimed_by: str | None
    claimed_at: datetime | None
    claim_expires_at: datetime | None
    decision: str | None
    decided_at: datetime | None
    refusal_reason: str | None
    refused_at: datetime | None
    documents: tuple[DocumentRef, ...]
    previous_outputs: Mapping[str, Mapping[str, JsonScalar]]
    fields: tuple[FieldView, ...] = ()
    answers: Mapping[str, JsonScalar] = field(default_factory=dict)
    document_labels: Mapping[str, str] = field(default_factory=dict)

    def claimed_by_other(self, officer: str, now: datetime) -> bool:
        """Whether a colleague holds a live claim."""
        return self.claim_live(now) and self.claimed_by != officer

    def claim_live(self, now: datetime) -> bool:
        """Whether somebody holds a claim that has not expired."""
        return self.claimed_by is not None and self.claim_expires_at is not None and self.claim_expires_at > now


@dataclass(frozen=True)
class ClaimView:
    """A claim an officer holds."""

    task_id: str
    officer: str
    claimed_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class DecisionView:
    """A decision the desk published."""

    task_id: str
    decision: Decision
    decided_at: datetime
    event_id: str


@dataclass(frozen=True)
class DocumentContent:
    """A document's bytes and how to serve them."""

    sha256: str
    name: str
    media_type: str
    extension: str | None
    content: bytes


class DocumentDamaged(DeskError):
    """The stored document does not authenticate or does not match its hash."""

    status = 500
    problem_type = "document-damaged"

    def __init__(self) -> None:
        super().__init__("The stored document is damaged; tell the operators.")


class DocumentKeyMissing(DeskError):
    """The stored document is sealed with a documents key the desk does not hold."""

    status = 500
    problem_type = "document-key-missing"

    def __init__(self) -> None:
        super().__init__(
            "The document is sealed with a key this desk does not have yet; tell the operators "
            "(AGENCY_DOCUMENT_KEYS must hold every key intake seals documents with)."
        )


class DeskService:
    """The officers' desk: the task inbox and what officers do with it."""

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
        clock: Clock = utc_now,
    ) -> None:
        self._keys = keys
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

    # -- the task inbox, kept from the agencies' tasks topics -----------------------------------------------------

    async def on_assigned(self, uow: UnitOfWork, event: Event[TaskAssigned]) -> None:
        """Put the task in the inbox, or reopen it when routing re-assigns it with the citizen's answers."""
        assigned = event.payload
        self._check_topic(uow, assigned.agency, assigned.task_id)
        now = self._clock()
        personal = json.dumps({"fields": assigned.fields, "answers": assigned.answers}, ensure_ascii=False)
        await TaskRepository(uow.session).save_assignment(
            {
                "task_id": assigned.task_id,
                "application_id": assigned.application_id,
                "agency": assigned.agency,
                "service_code": assigned.service_code,
                "stage_index": assigned.stage_index,
                "state": DeskTaskState.OPEN.value,
                "assignment_id": event.id,
                "correlation_id": event.correlation_id,
                "traceparent": event.traceparent,
                "personal_data": self._cipher.encrypt(personal, _personal_context(assigned.task_id)),
                "documents": [document.model_dump() for document in assigned.documents],
                "previous_outputs": assigned.previous_outputs,
                "due_at": assigned.due_at,
                "assigned_at": assigned.assigned_at,
                "claimed_by": None,
                "claimed_at": None,
                "claim_expires_at": None,
                "decision": None,
                "decision_id": None,
                "decided_by": None,
                "decided_at": None,
                "refused_decision_ids": [],
                "refusal_reason": None,
                "refused_at": None,
                "withdrawn_reason": None,
                "updated_at": now,
            }
        )

    async def on_withdrawn(self, uow: UnitOfWork, event: Event[TaskWithdrawn]) -> None:
        """Take a withdrawn task out of the pool."""
        withdrawn = event.payload
        self._check_topic(uow, withdrawn.agency, withdrawn.task_id)
        await TaskRepository(uow.session).mark_withdrawn(withdrawn.task_id, withdrawn.reason, withdrawn.withdrawn_at)

    async def on_sla_breached(self, uow: UnitOfWork, event: Event[TaskSlaBreached]) -> None:
        """Mark the task as breached, whatever the desk's clock says."""
        breached = event.payload
        self._check_topic(uow, breached.agency, breached.task_id)
        await TaskRepository(uow.session).mark_breached(breached.task_id, breached.breached_at)

    async def on_decision_accepted(self, uow: UnitOfWork, event: Event[TaskDecisionAccepted]) -> None:
        """Routing applied a decision on the task: close it (or pause it for the citizen's answer), whichever
        decision the desk was waiting for."""
        accepted = event.payload
        self._check_topic(uow, accepted.agency, accepted.task_id)
        repository = TaskRepository(uow.session)
        task = await repository.get(accepted.task_id, for_update=True)
        if task is None or task.agency != accepted.agency:
            return  # routing's task, never on this desk
        if task.state not in (DeskTaskState.OPEN, DeskTaskState.DECISION_SENT):
            return  # closed already (a redelivery, or withdrawn)
        decided_by, decided_at = None, accepted.accepted_at  # a decision the desk had not seen yet
        if task.state == DeskTaskState.DECISION_SENT and task.decision_id == accepted.decision_event_id:
            decided_by, decided_at = task.decided_by, task.decided_at or accepted.accepted_at
        await repository.close_accepted(
            task.task_id,
            state=state_after(accepted.decision),
            decision=accepted.decision.value,
            decision_id=accepted.decision_event_id,
            decided_by=decided_by,
            decided_at=decided_at,
            at=self._clock(),
        )

    async def on_decision_refused(self, uow: UnitOfWork, event: Event[TaskDecisionRefused]) -> None:
        """Routing refused a decision on the task: put a task waiting for that decision back in the pool with the
        reason; an open task shows the reason; a closed one stays closed. The refused decision is remembered, so
        seeing it on the decisions topic later does not hold the task again."""
        refused = event.payload
        self._check_topic(uow, refused.agency, refused.task_id)
        repository = TaskRepository(uow.session)
        task = await repository.get(refused.task_id, for_update=True)
        if task is None or task.agency != refused.agency:
            return
        if refused.decision_event_id in task.refused_decision_ids:
            return
        _logger.warning(
            "routing refused decision %s on task %s: %s", refused.decision_event_id, refused.task_id, refused.reason
        )
        refused_ids = [*task.refused_decision_ids, refused.decision_event_id]
        now = self._clock()
        if task.state == DeskTaskState.DECISION_SENT and task.decision_id == refused.decision_event_id:
            await repository.reopen_refused(task.task_id, refused_ids, refused.reason, now)
        else:
            shown = refused.reason if task.state == DeskTaskState.OPEN else None
            await repository.note_refusal(task.task_id, refused_ids, shown, now)

    @staticmethod
    def _check_topic(uow: UnitOfWork, agency: str, task_id: str) -> None:
        topic_agency = agency_of_topic(uow.topic)
        if topic_agency is not None and topic_agency != agency:
            raise RejectEvent(f"task {task_id} of agency {agency!r} came on the tasks topic of {topic_agency!r}")

    # -- watching the decisions topics: systems' decisions hold desk tasks; cross-agency attempts are recorded -----

    async def on_decision_seen(self, uow: UnitOfWork, event: Event[TaskDecided | TaskClaimed]) -> None:
        """Record a claim or decision by one agency on another agency's task (routing refuses it) as denied access;
        hold a desk task its agency's own system decided until routing answers."""
        payload = event.payload
        action = "decide" if isinstance(payload, TaskDecided) else "claim"
        topic_agency = agency_of_topic(uow.topic)
        repository = TaskRepository(uow.session)
        task = await repository.get(payload.task_id)
        reason = None
        if topic_agency is not None and payload.agency != topic_agency:
            reason = f"names agency {payload.agency} but came on the decisions topic of {topic_agency}"
        elif task is not None and task.agency != payload.agency:
            reason = f"task belongs to agency {task.agency}, not {payload.agency}"
        if reason is not None:
            await self.access.record(
                uow.session,
                event.actor,
                subject_id=payload.application_id,
                resource=f"task/{payload.task_id}",
                action=action,
                outcome="denied",
                reason=f"{action} over Kafka refused: {reason}",
            )
            return
        if isinstance(payload, TaskDecided) and task is not None and task.state == DeskTaskState.OPEN:
            # Decisions name the assignment they answer as their cause (the SDK's and the desk's do); one on an
            # earlier assignment must not hold the re-assigned task.
            in_force = event.causation_id is None or event.id == decision_event_id(task.assignment_id)
            answered = None if in_force else event.causation_id
            await repository.mark_decision_sent(
                payload.task_id,
                payload.agency,
                answered,
                decision=payload.decision.value,
                decision_id=event.id,
                actor=event.actor,
                at=payload.decided_at,
            )

    # -- what officers do (JSON API and pages alike) ------------------------------------------------------------

    async def open_tasks(self, officer: Principal) -> list[TaskView]:
        """The officer's agency's open tasks, without colleagues' live claims: own claims first, then by due date."""
        agency = _agency_of(officer)
        now = self._clock()
        async with self._sessions() as session:
            rows = await TaskRepository(session).open_tasks(agency, officer.subject, now)
        return [self._view(row, now) for row in rows]

    async def task(self, officer: Principal, task_id: str) -> TaskView:
        """One task of the officer's agency, with its fields and answers; the read is recorded."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            row = await self._owned(session, officer, task_id, "read")
            if row is not None:
                await self.access.record(
                    session,
                    officer.actor(),
                    subject_id=row.application_id,
                    resource=f"task/{task_id}",
                    action="read",
                    outcome="granted",
                )
        if row is None:
            raise TaskNotFound(task_id)
        return await self._opened(self._view(row, now, personal=True))

    async def _opened(self, view: TaskView) -> TaskView:
        """``view`` with its sealed fields and answers opened with the agency's citizen keys (decision 0016); a value
        whose key has not arrived yet, or was destroyed by an erasure, reads as :data:`NOT_READABLE`."""
        keys = self._keys
        if keys is None:
            return view

        async def opened(name: str, value: JsonScalar) -> JsonScalar:
            try:
                result: JsonScalar = await keys.open(value, subject=view.application_id, field=name)
            except KeyNotHeld:
                return NOT_READABLE
            return result

        fields = tuple([replace(item, value=await opened(item.name, item.value)) for item in view.fields])
        answers = {name: await opened(name, value) for name, value in view.answers.items()}
        return replace(view, fields=fields, answers=answers)

    async def claim(self, officer: Principal, task_id: str) -> ClaimView:
        """Claim the task for the officer (renewing their own claim); ``task.claimed`` is published. Of two officers
        racing, exactly one wins; the other gets :class:`ClaimedByColleague`."""
        now = self._clock()
        expires_at = now + self._claim_ttl
        refusal: DeskError | None = None
        async with self._sessions() as session, session.begin():
            row = await self._owned(session, officer, task_id, "claim")
            repository = TaskRepository(session)
            if row is None:
                refusal = TaskNotFound(task_id)
            elif claimed := await repository.try_claim(task_id, row.agency, officer.subject, now, expires_at):
                await self._outbox.add(
                    session,
                    self._event(
                        claimed,
                        TaskClaimed(
                            application_id=claimed.application_id,
                            task_id=claimed.task_id,
                            agency=claimed.agency,
                            officer=officer.subject,
                            claimed_at=now,
                            expires_at=expires_at,
                        ),
                        officer,
                    ),
                )
            else:
                refusal = self._conflict(await repository.get(task_id), officer.subject, now)
        if refusal is not None:
            raise refusal
        return ClaimView(task_id=task_id, officer=officer.subject, claimed_at=now, expires_at=expires_at)

    async def decide(self, officer: Principal, task_id: str, proposed: DecisionInput) -> DecisionView:
        """Decide the task the officer holds a live claim on; ``task.decided`` is published and the task waits for
        routing's answer. The decision's id is derived from the assignment, like the worker SDK's, so the assignment
        is decided once whoever answers; after routing refused a decision, from the number of refusals too."""
        now = self._clock()
        refusal: DeskError | None = None
        decision_id = ""
        async with self._sessions() as session, session.begin():
            row = await self._owned(session, officer, task_id, "decide", for_update=True)
            repository = TaskRepository(session)
            if row is None:
                refusal = TaskNotFound(task_id)
            else:
                decision = checked_decision(proposed)
                decision_id = decision_event_id(row.assignment_id, len(row.refused_decision_ids))
                decided = await repository.try_decide(
                    task_id,
                    row.agency,
                    officer.subject,
                    now=now,
                    decision=decision.decision.value,
                    decision_id=decision_id,
                    actor=officer.actor(),
                )
                if decided is None:
                    refusal = self._conflict(await repository.get(task_id), officer.subject, now, deciding=True)
                else:
                    event = self._event(
                        decided,
                        TaskDecided(
                            application_id=decided.application_id,
                            task_id=decided.task_id,
                            agency=decided.agency,
                            decision=decision.decision,
                            outputs=dict(decision.outputs),
                            reason=decision.reason,
                            questions=decision.questions,
                            decided_at=now,
                        ),
                        officer,
                        event_id=decision_id,
                    )
                    await self._outbox.add(session, event)
        if refusal is not None:
            raise refusal
        return DecisionView(task_id=task_id, decision=proposed.decision, decided_at=now, event_id=decision_id)

    async def document(self, officer: Principal, sha256: str) -> DocumentContent:
        """A document a task of the officer's agency references; the read (or the refusal) is recorded."""
        agency = _agency_of(officer)
        async with self._sessions() as session, session.begin():
            row = await TaskRepository(session).task_with_document(agency, sha256)
            if row is None:
                await self.access.record(
                    session,
                    officer.actor(),
                    subject_id=sha256,
                    resource=f"document/{sha256}",
                    action="read",
                    outcome="denied",
                    reason=f"no task of agency {agency} references the document",
                )
            else:
                await self.access.record(
                    session,
                    officer.actor(),
                    subject_id=row.application_id,
                    resource=f"document/{sha256}",
                    action="read",
                    outcome="granted",
                )
        if row is None:
            raise DocumentUnavailable
        try:
            content = await self._documents.read(sha256)
        except UnknownDocumentKey as unknown:
            _logger.error("%s", unknown)
            raise DocumentKeyMissing from unknown
        except DamagedDocument as damaged:
            _logger.error("%s", damaged)
            raise DocumentDamaged from damaged
        if content is None:
            _logger.warning("document %s of task %s is not in the document store", sha256, row.task_id)
            raise DocumentUnavailable
        media_type, extension = sniff(content)
        name = next((d["name"] for d in row.documents if d["sha256"] == sha256), "document")
        return DocumentContent(sha256, name, media_type, extension, content)

    # -- helpers ---------------------------------------------------------------------------------------------------

    async def _owned(
        self, session: AsyncSession, officer: Principal, task_id: str, action: str, *, for_update: bool = False
    ) -> DeskTask | None:
        """The task if the officer's agency owns it; None otherwise, recording the attempt on another agency's task
        as denied (in the caller's transaction, which must commit)."""
        agency = _agency_of(officer)
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

    @staticmethod
    def _conflict(row: DeskTask | None, officer: str, now: datetime, *, deciding: bool = False) -> DeskError:
        if row is None:  # pragma: no cover - the row was read in the same transaction
            return TaskNotFound("?")
        if row.state != DeskTaskState.OPEN:
            return TaskNotOpen(row.state)
        holder, until = row.claimed_by, row.claim_expires_at
        if holder is not None and until is not None and until > now and holder != officer:
            return ClaimedByColleague(holder, until)
        if deciding:
            return ClaimRequired(expired=row.claimed_by == officer)
        return TaskNotOpen(row.state)  # pragma: no cover - an open task without a live colleague's claim is claimable

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

    def _view(self, row: DeskTask, now: datetime, *, personal: bool = False) -> TaskView:
        calendar = self.calendar_for(row.agency)
        service = self._catalogue.service(row.service_code)
        service_name, stage_name, action = row.service_code, f"{row.stage_index + 1}", ""
        labels: dict[str, str] = {}
        document_labels: dict[str, str] = {}
        if service is not None:
            service_name = service.name.id
            labels = {definition.name: definition.label.id for definition in service.fields}
            document_labels = {document.name: document.label.id for document in service.documents}
            if row.stage_index < len(service.stages):
                stage = service.stages[row.stage_index]
                stage_name = stage.name
                action = next((t.action.id for t in stage.tasks if t.agency == row.agency), "")
        fields: tuple[FieldView, ...] = ()
        answers: dict[str, JsonScalar] = {}
        if personal:
            data = json.loads(self._cipher.decrypt(row.personal_data, _personal_context(row.task_id)))
            fields = tuple(FieldView(name, labels.get(name, name), value) for name, value in data["fields"].items())
            answers = data["answers"]
        return TaskView(
            task_id=row.task_id,
            application_id=row.application_id,
            agency=row.agency,
            service_code=row.service_code,
            service_name=service_name,
            action=action,
            stage_index=row.stage_index,
            stage_name=stage_name,
            state=DeskTaskState(row.state),
            due_at=row.due_at,
            assigned_at=row.assigned_at,
            sla_state=sla_state(
                row.due_at,
                now,
                calendar,
                breached=row.sla_breached_at is not None,
                due_soon_working_days=self._due_soon_working_days,
            ),
            timezone=calendar.timezone,
            claimed_by=row.claimed_by,
            claimed_at=row.claimed_at,
            claim_expires_at=row.claim_expires_at,
            decision=row.decision,
            decided_at=row.decided_at,
            refusal_reason=row.refusal_reason,
            refused_at=row.refused_at,
            documents=tuple(DocumentRef.model_validate(document) for document in row.documents),
            previous_outputs=row.previous_outputs,
            fields=fields,
            answers=answers,
            document_labels=document_labels,
        )


def _agency_of(officer: Principal) -> str:
    if officer.agency is None:  # pragma: no cover - require_roles(Role.OFFICER) guarantees an agency
        raise TaskNotFound("?")
    return officer.agency


def _personal_context(task_id: str) -> str:
    return f"desk_tasks.personal_data:{task_id}"


# -- officers ----------------------------------------------------------------------------------------------------

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD_LENGTH = 10
# argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): argon2-cffi's default takes 64 MiB per
# hash, which alone lifted the desk's peak memory past its 150 MB budget. Older hashes keep verifying (their
# parameters are stored in them).
PASSWORD_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the user name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = PASSWORD_HASHER.hash("satupintu-no-such-officer")


class OfficerError(ValueError):
    """An officer cannot be added or changed as asked; the message says why."""


def password_stamp(officer: Officer) -> str:
    """A short fingerprint of the officer's password hash, kept in the session: a password change logs them out."""
    return hashlib.sha256(officer.password_hash.encode()).hexdigest()[:16]


class OfficerService:
    """Officers of the desk: adding them, changing passwords, and checking a login (argon2id)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        catalogue: Catalogue,
        hasher: PasswordHasher | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._sessions = sessions
        self._catalogue = catalogue
        self._hasher = hasher or PASSWORD_HASHER
        self._clock = clock

    async def add(self, username: str, agency: str, password: str, display_name: str | None = None) -> Officer:
        """Add an officer of ``agency``; :class:`OfficerError` if the name is taken or anything is invalid."""
        username = username.strip().lower()
        agency = agency.strip().lower()
        if not USERNAME_PATTERN.fullmatch(username):
            raise OfficerError("a user name is 2-64 lower-case letters, digits, '.', '_' or '-'")
        if agency not in self._catalogue.agency_codes():
            raise OfficerError(f"unknown agency {agency!r}; known: {', '.join(sorted(self._catalogue.agency_codes()))}")
        self._check_password(password)
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        now = self._clock()
        officer = Officer(
            username=username,
            agency=agency,
            display_name=(display_name or username).strip(),
            password_hash=password_hash,
            created_at=now,
            password_changed_at=now,
        )
        async with self._sessions() as session, session.begin():
            repository = OfficerRepository(session)
            if await repository.get(username) is not None:
                raise OfficerError(f"an officer named {username!r} already exists")
            repository.add(officer)
        return officer

    async def set_password(self, username: str, password: str) -> None:
        """Change an officer's password (their desk sessions end)."""
        self._check_password(password)
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        async with self._sessions() as session, session.begin():
            officer = await OfficerRepository(session).get(username.strip().lower())
            if officer is None:
                raise OfficerError(f"no officer named {username!r}")
            officer.password_hash = password_hash
            officer.password_changed_at = self._clock()

    async def officers(self, agency: str | None = None) -> Sequence[Officer]:
        """Every officer (of ``agency``)."""
        async with self._sessions() as session:
            return await OfficerRepository(session).of_agency(agency)

    async def find(self, username: str) -> Officer | None:
        """The officer named ``username``."""
        async with self._sessions() as session:
            return await OfficerRepository(session).get(username)

    async def authenticate(self, username: str, password: str) -> Officer | None:
        """The officer if the password is theirs; None otherwise, taking as long for an unknown name."""
        officer = await self.find(username.strip().lower())
        try:
            await asyncio.to_thread(self._hasher.verify, officer.password_hash if officer else _DUMMY_HASH, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if officer is None:  # pragma: no cover - nobody knows the dummy password
            return None
        if self._hasher.check_needs_rehash(officer.password_hash):
            await self.set_password(officer.username, password)
            officer = await self.find(officer.username)
        return officer

    @staticmethod
    def _check_password(password: str) -> None:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise OfficerError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
