"""Complaints (pengaduan) about an application or an agency: each is a task on the agency's complaint desk with its
own due date in working days; the desk answers it, auditors see every one, and a watch reports the late ones. An
officer refused another agency's complaint is recorded as ``access.recorded`` (denied) against the application the
complaint is about (or the complaint, when it is about an agency only), so the refusal is on its audit timeline."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.access_log import AccessLog
from satupintu.common.auth import Principal, Role
from satupintu.common.catalogue import Catalogue
from satupintu.common.clock import Clock
from satupintu.common.crypto import FieldCipher
from satupintu.common.outbox import Outbox
from satupintu.common.watches import Watch
from satupintu.common.working_days import WorkingCalendar, agency_calendar
from satupintu.contract.mall import ComplaintFiled, ComplaintResolved, ComplaintSlaBreached, ComplaintStatusChanged
from satupintu.mall.domain import (
    ApplicationNotKnown,
    ComplaintClosed,
    ComplaintNotFound,
    ComplaintState,
    ComplaintTakenUp,
    NotYourCounter,
    UnknownAgency,
    UnknownComplaintCategory,
    complaint_reference,
)
from satupintu.mall.services import ACTOR, SOURCE, new_event
from satupintu.mall.storage.repository import ApplicationRepository, ComplaintRepository
from satupintu.mall.storage.tables import ComplaintRecord

CITIZEN_ACTOR = "citizen"
_logger = logging.getLogger(__name__)


_DESCRIPTION, _CONTACT, _RESPONSE = "complaints.description", "complaints.contact", "complaints.response"


@dataclass(frozen=True)
class Complaint:
    """A complaint as the desk and the complainant read it (what the citizen wrote decrypted)."""

    complaint_id: str
    reference: str
    agency: str
    application_id: str | None
    tracking_code: str | None
    service_code: str | None
    category: str
    description: str
    contact: str | None
    state: str
    filed_at: datetime
    due_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    response: str | None
    sla_breached_at: datetime | None


@dataclass(frozen=True)
class NewComplaint:
    """What a citizen complains about: an application (by tracking code), an agency, or both."""

    category: str
    """A complaint category's code in the catalogue; its service standard is the complaint's due date."""
    description: str
    tracking_code: str | None = None
    agency: str | None = None
    contact: str | None = None
    language: Literal["id", "en"] = "id"
    """The language the complainant filed in: what they are told things in."""


class ComplaintService:
    """Files complaints onto the right desk and lets the desk answer them."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        catalogue: Catalogue,
        *,
        cipher: FieldCipher,
        collective_leave: frozenset[date],
        mall_timezone: str,
        clock: Clock,
        filed: Counter | None = None,
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._catalogue = catalogue
        self._cipher = cipher
        self._collective_leave = collective_leave
        self._zone = ZoneInfo(mall_timezone)
        self._clock = clock
        self._filed = filed
        self._access = AccessLog(outbox, SOURCE, clock)

    def _calendar(self, agency: str) -> WorkingCalendar:
        return agency_calendar(self._catalogue, agency, self._collective_leave)

    def _plain(self, record: ComplaintRecord) -> Complaint:
        def decrypt(value: str | None, context: str) -> str | None:
            return None if value is None else self._cipher.decrypt(value, context)

        return Complaint(
            complaint_id=record.complaint_id,
            reference=record.reference,
            agency=record.agency,
            application_id=record.application_id,
            tracking_code=record.tracking_code,
            service_code=record.service_code,
            category=record.category,
            description=self._cipher.decrypt(record.description_ciphertext, _DESCRIPTION),
            contact=decrypt(record.contact_ciphertext, _CONTACT),
            state=record.state,
            filed_at=record.filed_at,
            due_at=record.due_at,
            resolved_at=record.resolved_at,
            resolved_by=record.resolved_by,
            response=decrypt(record.response_ciphertext, _RESPONSE),
            sla_breached_at=record.sla_breached_at,
        )

    def now(self) -> datetime:
        """The service's clock, to tell whether a complaint is overdue."""
        return self._clock()

    async def file(self, complaint: NewComplaint) -> Complaint:
        """Put the complaint on the desk of the agency it is about (the application's owning agency by default),
        due at the end of its category's service standard in that agency's working days."""
        now = self._clock()
        category = self._catalogue.complaint_category(complaint.category)
        if category is None:
            raise UnknownComplaintCategory(complaint.category)
        async with self._sessions() as session, session.begin():
            application = None
            if complaint.tracking_code is not None:
                application = await ApplicationRepository(session).by_tracking_code(complaint.tracking_code)
                if application is None:
                    raise ApplicationNotKnown(complaint.tracking_code)
            agency = complaint.agency or (application.agency if application else None)
            if agency is None or self._catalogue.agency(agency) is None:
                raise UnknownAgency(agency or "")
            repository = ComplaintRepository(session)
            day = now.astimezone(self._zone).date()
            record = ComplaintRecord(
                complaint_id=str(uuid.uuid4()),
                reference=complaint_reference(day, await repository.next_in_sequence("complaints", day)),
                agency=agency,
                application_id=application.application_id if application else None,
                tracking_code=application.tracking_code if application else None,
                service_code=application.service_code if application else None,
                category=category.code,
                description_ciphertext=self._cipher.encrypt(complaint.description, _DESCRIPTION),
                contact_ciphertext=self._cipher.encrypt(complaint.contact, _CONTACT) if complaint.contact else None,
                state=ComplaintState.OPEN,
                filed_at=now,
                due_at=self._calendar(agency).due_at(now, category.sla_working_days),
            )
            repository.add(record)
            await self._outbox.add(
                session,
                new_event(
                    ComplaintFiled(
                        complaint_id=record.complaint_id,
                        reference=record.reference,
                        agency=record.agency,
                        application_id=record.application_id,
                        service_code=record.service_code,
                        category=record.category,
                        description=complaint.description,
                        contact=complaint.contact,
                        language=complaint.language,
                        due_at=record.due_at,
                        filed_at=now,
                    ),
                    record.complaint_id,
                    CITIZEN_ACTOR,
                ),
            )
        if self._filed is not None:
            self._filed.labels(agency).inc()
        return self._plain(record)

    async def status(self, complaint_id: str) -> Complaint:
        """The complaint, for the citizen who holds its id."""
        async with self._sessions() as session:
            record = await ComplaintRepository(session).get(complaint_id)
        if record is None:
            raise ComplaintNotFound(complaint_id)
        return self._plain(record)

    async def get(self, complaint_id: str, principal: Principal) -> Complaint:
        """A complaint, for its agency's desk, an auditor or an operator."""
        record = await self.status(complaint_id)
        try:
            _check_reader(principal, record.agency)
        except NotYourCounter as refused:
            subject = record.application_id or complaint_id
            await self._record_refusal(principal, subject, f"complaint/{complaint_id}", "read", refused)
            raise
        return record

    async def listing(
        self,
        principal: Principal,
        *,
        agency: str | None,
        state: ComplaintState | None,
        overdue: bool,
        awaiting_answer: bool = False,
    ) -> list[Complaint]:
        """Complaints by due date: an officer's own agency's; any agency's for auditors and operators."""
        if Role.AUDITOR not in principal.roles and Role.OPERATOR not in principal.roles:
            if agency is not None and agency != principal.agency:
                refused = NotYourCounter(f"you may read the complaints of {principal.agency} only")
                await self._record_refusal(principal, "complaints", f"complaints/{agency}", "list", refused)
                raise refused
            agency = principal.agency
        async with self._sessions() as session:
            records = await ComplaintRepository(session).listing(
                agency=agency,
                state=state,
                overdue_at=self._clock() if overdue else None,
                awaiting_answer=awaiting_answer,
            )
        return [self._plain(record) for record in records]

    async def take_up(self, complaint_id: str, principal: Principal) -> Complaint:
        """An officer of the agency's desk takes the complaint up (``in_progress``); the complainant is told. Another
        agency's officer is refused (and recorded); a complaint taken up or answered already is refused."""

        async def take_up(session: AsyncSession, record: ComplaintRecord, now: datetime) -> None:
            await self._take_up(session, record, principal, now)

        return await self._on_desk(complaint_id, principal, "take_up", take_up)

    async def resolve(self, complaint_id: str, response: str, principal: Principal) -> Complaint:
        """The agency's desk answers and closes the complaint; another agency's officer is refused (and recorded)."""

        async def close(session: AsyncSession, record: ComplaintRecord, now: datetime) -> None:
            await self._close(session, record, response, principal, now)

        return await self._on_desk(complaint_id, principal, "resolve", close)

    async def _on_desk(
        self,
        complaint_id: str,
        principal: Principal,
        action: str,
        act: Callable[[AsyncSession, ComplaintRecord, datetime], Awaitable[None]],
    ) -> Complaint:
        """Do ``act`` to the complaint, locked, if ``principal`` is on its agency's desk (or an operator); a refusal
        is recorded as ``access.recorded`` (denied) and committed before it is raised."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            record = await ComplaintRepository(session).get(complaint_id, for_update=True)
            if record is None:
                raise ComplaintNotFound(complaint_id)
            refused = None
            if Role.OPERATOR not in principal.roles and principal.agency != record.agency:
                refused = NotYourCounter(f"this complaint is on the desk of {record.agency}")
                await self._access.record(
                    session,
                    principal.actor(),
                    subject_id=record.application_id or complaint_id,
                    resource=f"complaint/{complaint_id}",
                    action=action,
                    outcome="denied",
                    reason=str(refused),
                )
            else:
                await act(session, record, now)
        if refused is not None:
            raise refused  # after the refusal is committed
        return self._plain(record)

    async def _take_up(
        self, session: AsyncSession, record: ComplaintRecord, principal: Principal, now: datetime
    ) -> None:
        if record.state == ComplaintState.RESOLVED:
            raise ComplaintClosed(record.reference)
        if record.state == ComplaintState.IN_PROGRESS:
            raise ComplaintTakenUp(record.reference)
        record.state = ComplaintState.IN_PROGRESS
        await self._outbox.add(
            session,
            new_event(
                ComplaintStatusChanged(
                    complaint_id=record.complaint_id,
                    reference=record.reference,
                    agency=record.agency,
                    state=ComplaintState.IN_PROGRESS.value,
                    changed_at=now,
                ),
                record.complaint_id,
                principal.actor(),
            ),
        )

    async def _close(
        self, session: AsyncSession, record: ComplaintRecord, response: str, principal: Principal, now: datetime
    ) -> None:
        if not ComplaintState(record.state).awaits_answer:
            raise ComplaintClosed(record.reference)
        record.state = ComplaintState.RESOLVED
        record.response_ciphertext = self._cipher.encrypt(response, _RESPONSE)
        record.resolved_at, record.resolved_by = now, principal.actor()
        await self._outbox.add(
            session,
            new_event(
                ComplaintResolved(
                    complaint_id=record.complaint_id,
                    reference=record.reference,
                    agency=record.agency,
                    response=response,
                    within_sla=now <= record.due_at,
                    resolved_at=now,
                ),
                record.complaint_id,
                principal.actor(),
            ),
        )

    async def _record_refusal(
        self, principal: Principal, subject_id: str, resource: str, action: str, refused: NotYourCounter
    ) -> None:
        """Record, in a transaction of its own, that ``principal`` was refused ``action`` on ``resource``."""
        await self._access.record_alone(
            self._sessions,
            principal.actor(),
            subject_id=subject_id,
            resource=resource,
            action=action,
            outcome="denied",
            reason=str(refused),
        )


def _check_reader(principal: Principal, agency: str) -> None:
    if Role.AUDITOR in principal.roles or Role.OPERATOR in principal.roles:
        return
    if principal.agency != agency:
        raise NotYourCounter(f"this complaint is on the desk of {agency}")


class ComplaintWatch(Watch):
    """Publishes ``complaint.sla_breached`` once per complaint left open past its due date."""

    what = "complaint SLA check"

    async def check_once(self) -> int:
        """Mark and announce the complaints late now; how many."""
        now: datetime = self.clock()
        async with self.sessions() as session, session.begin():
            late = await ComplaintRepository(session).late(now, self.batch_size)
            for record in late:
                record.sla_breached_at = now
                agency = self.catalogue.agency(record.agency)
                await self.outbox.add(
                    session,
                    new_event(
                        ComplaintSlaBreached(
                            complaint_id=record.complaint_id,
                            reference=record.reference,
                            agency=record.agency,
                            due_at=record.due_at,
                            breached_at=now,
                            escalation_target=agency.escalation_target if agency else f"kepala-{record.agency}",
                        ),
                        record.complaint_id,
                        ACTOR,
                    ),
                )
        return len(late)
