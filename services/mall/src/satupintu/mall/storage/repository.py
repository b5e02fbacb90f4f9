"""Every query the mall makes, within the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, DateTime, and_, case, func, literal, or_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from satupintu.mall.domain import AppointmentState, ComplaintState, TicketState
from satupintu.mall.storage.tables import (
    ApplicationRecord,
    AppointmentRecord,
    AppointmentSlot,
    ComplaintRecord,
    ConsentEntry,
    ConsentLedger,
    ConsentLogEntry,
    CounterDocument,
    DailySequence,
    SurveyInvitation,
    SurveyResponse,
    TicketRecord,
)


class _Repository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, *records: Any) -> None:
        """Stage new rows for insertion."""
        self._session.add_all(records)

    async def flush(self) -> None:
        """Write staged rows now."""
        await self._session.flush()

    async def next_in_sequence(self, scope: str, day: date) -> int:
        """The next number of ``scope`` on ``day`` (1 for the first); safe under concurrency (row lock)."""
        statement = (
            insert(DailySequence)
            .values(scope=scope, day=day, last=1)
            .on_conflict_do_update(
                index_elements=["scope", "day"],
                set_={"last": DailySequence.__table__.c.last + 1},  # type: ignore[attr-defined]
            )
            .returning(DailySequence.__table__.c.last)  # type: ignore[attr-defined]
        )
        return int((await self._session.execute(statement)).scalar_one())


# ----------------------------------------------------------------------------------------------------------------------
# Applications and the board


@dataclass(frozen=True)
class PerformanceRow:
    """The board's figures for one group (a service, or an agency) of applications submitted in the period."""

    key: str
    agency: str
    received: int
    completed: int
    rejected: int
    cancelled: int
    open: int
    businesses: int
    median_working_days: float | None
    p90_working_days: float | None
    median_hours: float | None
    p90_hours: float | None
    on_time: int
    late: int


@dataclass(frozen=True)
class PaymentRow:
    """The board's payment figures for one group (a service, or the agency paid) of bills issued in the period."""

    key: str
    billed: int
    paid: int
    expired: int
    cancelled: int
    received: int
    median_days_to_pay: float | None
    p90_days_to_pay: float | None


class ApplicationRepository(_Repository):
    """The applications the mall has seen."""

    async def get(self, application_id: str, *, for_update: bool = False) -> ApplicationRecord | None:
        """The application with ``application_id``."""
        statement = select(ApplicationRecord).where(ApplicationRecord.application_id == application_id)
        if for_update:
            statement = statement.with_for_update()
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def known(self, application_ids: Sequence[str]) -> set[str]:
        """Which of ``application_ids`` the mall has seen, in one query."""
        if not application_ids:
            return set()
        statement = select(ApplicationRecord.application_id).where(
            col(ApplicationRecord.application_id).in_(list(application_ids))
        )
        return set((await self._session.execute(statement)).scalars().all())

    async def by_tracking_code(self, tracking_code: str) -> ApplicationRecord | None:
        """The application with ``tracking_code``."""
        statement = select(ApplicationRecord).where(ApplicationRecord.tracking_code == tracking_code)
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def performance(self, since: datetime, until: datetime, now: datetime, by: str) -> list[PerformanceRow]:
        """Figures per ``by`` (``service_code`` or ``agency``) for applications submitted in [since, until)."""
        table = ApplicationRecord.__table__  # type: ignore[attr-defined]
        group = table.c.service_code if by == "service_code" else table.c.agency
        finished = table.c.finished_at.is_not(None)
        # A cancelled application ended without a decision: it is neither open nor timed against the standard.
        decided: ColumnElement[bool] = and_(finished, table.c.state != "cancelled")
        hours = case((decided, func.extract("epoch", table.c.finished_at - table.c.submitted_at) / 3600))
        on_time: ColumnElement[bool] = and_(
            decided, table.c.finished_at <= table.c.due_at, table.c.sla_breached.is_(False)
        )
        late: ColumnElement[bool] = or_(
            and_(decided, or_(table.c.finished_at > table.c.due_at, table.c.sla_breached.is_(True))),
            and_(~finished, or_(table.c.due_at < now, table.c.sla_breached.is_(True))),
        )
        statement = (
            select(  # type: ignore[call-overload]
                group.label("key"),
                func.min(table.c.agency).label("agency"),
                func.count().label("received"),
                func.count().filter(table.c.state == "completed").label("completed"),
                func.count().filter(table.c.state == "rejected").label("rejected"),
                func.count().filter(table.c.state == "cancelled").label("cancelled"),
                func.count().filter(~finished).label("open"),
                func.count().filter(table.c.applicant_kind == "business").label("businesses"),
                func.percentile_cont(0.5).within_group(table.c.working_days_taken).label("median_days"),
                func.percentile_cont(0.9).within_group(table.c.working_days_taken).label("p90_days"),
                func.percentile_cont(0.5).within_group(hours).label("median_hours"),
                func.percentile_cont(0.9).within_group(hours).label("p90_hours"),
                func.count().filter(on_time).label("on_time"),
                func.count().filter(late).label("late"),
            )
            .where(table.c.submitted_at >= since, table.c.submitted_at < until)
            .group_by(group)
            .order_by(group)
        )
        rows = (await self._session.execute(statement)).mappings().all()
        return [
            PerformanceRow(
                key=row["key"],
                agency=row["agency"],
                received=row["received"],
                completed=row["completed"],
                rejected=row["rejected"],
                cancelled=row["cancelled"],
                open=row["open"],
                businesses=row["businesses"],
                median_working_days=_float(row["median_days"]),
                p90_working_days=_float(row["p90_days"]),
                median_hours=_float(row["median_hours"]),
                p90_hours=_float(row["p90_hours"]),
                on_time=row["on_time"],
                late=row["late"],
            )
            for row in rows
        ]

    async def payments(self, since: datetime, until: datetime, by: str) -> list[PaymentRow]:
        """Payment figures per ``by`` (``service_code``, or ``agency``: the agency the fee is paid to) for bills
        issued in [since, until): how many were paid, expired or withdrawn, the rupiah received, and the median
        and p90 of the whole days (24-hour periods, rounded down) from billing to payment."""
        table = ApplicationRecord.__table__  # type: ignore[attr-defined]
        group = table.c.service_code if by == "service_code" else table.c.bill_agency
        paid = table.c.bill_status == "paid"
        days = case((paid, func.floor(func.extract("epoch", table.c.paid_at - table.c.billed_at) / 86400)))
        statement = (
            select(  # type: ignore[call-overload]
                group.label("key"),
                func.count().label("billed"),
                func.count().filter(paid).label("paid"),
                func.count().filter(table.c.bill_status == "expired").label("expired"),
                func.count().filter(table.c.bill_status == "cancelled").label("cancelled"),
                func.coalesce(func.sum(table.c.paid_amount).filter(paid), 0).label("received"),
                func.percentile_cont(0.5).within_group(days).label("median_days"),
                func.percentile_cont(0.9).within_group(days).label("p90_days"),
            )
            .where(table.c.billed_at >= since, table.c.billed_at < until)
            .group_by(group)
            .order_by(group)
        )
        rows = (await self._session.execute(statement)).mappings().all()
        return [
            PaymentRow(
                key=row["key"],
                billed=row["billed"],
                paid=row["paid"],
                expired=row["expired"],
                cancelled=row["cancelled"],
                received=int(row["received"]),
                median_days_to_pay=_float(row["median_days"]),
                p90_days_to_pay=_float(row["p90_days"]),
            )
            for row in rows
        ]


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------------------------------
# Queue


@dataclass(frozen=True)
class QueueRow:
    """Today's queue of one service."""

    service_code: str
    waiting: int
    called: int
    served: int
    no_show: int
    average_wait_seconds: float | None
    longest_wait_seconds: float | None
    oldest_waiting_since: datetime | None
    priority_waiting: int = 0
    priority_median_wait_seconds: float | None = None
    regular_median_wait_seconds: float | None = None


class TicketRepository(_Repository):
    """Queue tickets."""

    async def get(self, ticket_id: str, *, for_update: bool = False) -> TicketRecord | None:
        """The ticket with ``ticket_id``."""
        statement = select(TicketRecord).where(TicketRecord.ticket_id == ticket_id)
        if for_update:
            statement = statement.with_for_update()
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def linked_to(self, tracking_code: str) -> TicketRecord | None:
        """The ticket last linked to the application with ``tracking_code`` (none if no ticket was)."""
        statement = (
            select(TicketRecord)
            .where(TicketRecord.tracking_code == tracking_code)
            .order_by(col(TicketRecord.issued_at).desc())
            .limit(1)
        )
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def by_number(self, day: date, number: str) -> TicketRecord | None:
        """The ticket numbered ``number`` on ``day`` (the services' prefixes differ, so numbers are unique per day)."""
        statement = select(TicketRecord).where(TicketRecord.day == day, TicketRecord.number == number).limit(1)
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def waiting_before(self, ticket: TicketRecord) -> int:
        """Tickets of the same service and day still waiting that will be called before ``ticket``, in the order of
        ``next_waiting`` (priority, then booked, then first come): for a priority ticket the priority ones before it
        in that order; for a regular one every priority ticket (the priority ratio may let it go sooner) and the
        regular ones before it in that order."""
        priority, booked = col(TicketRecord.priority).is_(True), col(TicketRecord.booked).is_(True)
        earlier = col(TicketRecord.sequence) < ticket.sequence
        before_in_its_lane = and_(booked, earlier) if ticket.booked else or_(booked, earlier)  # booked ones first
        statement = select(func.count()).where(
            TicketRecord.day == ticket.day,
            TicketRecord.service_code == ticket.service_code,
            TicketRecord.state == TicketState.WAITING,
            and_(priority, before_in_its_lane)
            if ticket.priority
            else or_(priority, and_(col(TicketRecord.priority).is_(False), before_in_its_lane)),
        )
        return int((await self._session.execute(statement)).scalar_one())

    async def recent_call_priorities(self, day: date, service_code: str, limit: int) -> list[bool]:
        """Whether each of the service's last ``limit`` calls on ``day`` was a priority ticket, the latest first."""
        statement = (
            select(TicketRecord.priority)
            .where(
                TicketRecord.day == day,
                TicketRecord.service_code == service_code,
                col(TicketRecord.called_at).is_not(None),
            )
            .order_by(col(TicketRecord.called_at).desc(), col(TicketRecord.sequence).desc())
            .limit(limit)
        )
        return [bool(value) for value in (await self._session.execute(statement)).scalars().all()]

    async def recent_service_seconds(self, day: date, service_code: str, limit: int = 20) -> list[float]:
        """How long the counters took (call to served) for the last ``limit`` visitors of the service on ``day``."""
        seconds = func.extract("epoch", col(TicketRecord.finished_at) - col(TicketRecord.called_at))
        statement = (
            select(seconds)
            .where(
                TicketRecord.day == day,
                TicketRecord.service_code == service_code,
                TicketRecord.state == TicketState.SERVED,
            )
            .order_by(col(TicketRecord.finished_at).desc())
            .limit(limit)
        )
        return [float(value) for value in (await self._session.execute(statement)).scalars().all()]

    async def open_counters(self, service_code: str, since: datetime) -> int:
        """Distinct counters that called a ticket of the service since ``since``."""
        statement = select(func.count(func.distinct(TicketRecord.counter))).where(
            TicketRecord.service_code == service_code, col(TicketRecord.called_at) >= since
        )
        return int((await self._session.execute(statement)).scalar_one())

    async def next_waiting(self, day: date, service_code: str, *, priority_first: bool = True) -> TicketRecord | None:
        """The ticket of the service on ``day`` a counter calls next, locked (other officers skip it): with
        ``priority_first`` the longest-waiting priority ticket if one waits, else (the priority ratio was reached)
        the longest-waiting regular one if one waits; then the longest-waiting of the rest."""
        priority_term = col(TicketRecord.priority).desc() if priority_first else col(TicketRecord.priority).asc()
        statement = (
            select(TicketRecord)
            .where(
                TicketRecord.day == day,
                TicketRecord.service_code == service_code,
                TicketRecord.state == TicketState.WAITING,
            )
            .order_by(
                priority_term,
                col(TicketRecord.booked).desc(),  # then booked visitors (checked in with a booking code)
                col(TicketRecord.sequence),
            )
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def tickets_of_day(self, day: date, states: Sequence[str] | None = None) -> Sequence[TicketRecord]:
        """The day's tickets (in some states), oldest first."""
        statement = select(TicketRecord).where(TicketRecord.day == day)
        if states is not None:
            statement = statement.where(col(TicketRecord.state).in_(list(states)))
        statement = statement.order_by(col(TicketRecord.issued_at))
        return (await self._session.execute(statement)).scalars().all()

    async def calls_of_day(
        self, day: date, *, limit: int, agency: str | None = None, states: Sequence[str] | None = None
    ) -> Sequence[TicketRecord]:
        """The day's called tickets (of one agency, in some states), the latest call first."""
        statement = select(TicketRecord).where(TicketRecord.day == day, col(TicketRecord.called_at).is_not(None))
        if agency is not None:
            statement = statement.where(TicketRecord.agency == agency)
        if states is not None:
            statement = statement.where(col(TicketRecord.state).in_(list(states)))
        statement = statement.order_by(col(TicketRecord.called_at).desc(), col(TicketRecord.sequence).desc()).limit(
            limit
        )
        return (await self._session.execute(statement)).scalars().all()

    async def link_pending(self, tracking_code: str, application_id: str) -> None:
        """Resolve tickets linked to ``tracking_code`` before the mall knew its application."""
        await self._session.execute(
            update(TicketRecord)
            .where(col(TicketRecord.tracking_code) == tracking_code, col(TicketRecord.application_id).is_(None))
            .values(application_id=application_id)
        )

    async def queue_today(self, day: date, now: datetime) -> list[QueueRow]:
        """Per service: tickets waiting (and of those, priority), called, served, no-shows, the average wait of those
        called, the longest wait (called, or still waiting now), and the median wait of the priority and of the
        regular tickets called."""
        table = TicketRecord.__table__  # type: ignore[attr-defined]
        waited = func.extract("epoch", table.c.called_at - table.c.issued_at)
        waiting_for = func.extract("epoch", literal(now, DateTime(timezone=True)) - table.c.issued_at)
        is_waiting = table.c.state == TicketState.WAITING
        is_priority = table.c.priority.is_(True)
        statement = (
            select(  # type: ignore[call-overload]
                table.c.service_code,
                func.count().filter(is_waiting).label("waiting"),
                func.count().filter(table.c.state == TicketState.CALLED).label("called"),
                func.count().filter(table.c.state == TicketState.SERVED).label("served"),
                func.count().filter(table.c.state == TicketState.NO_SHOW).label("no_show"),
                func.avg(waited).label("average_wait"),
                func.greatest(func.max(waited), func.max(waiting_for).filter(is_waiting)).label("longest_wait"),
                func.min(table.c.issued_at).filter(is_waiting).label("oldest_waiting"),
                func.count().filter(is_waiting, is_priority).label("priority_waiting"),
                func.percentile_cont(0.5).within_group(waited).filter(is_priority).label("priority_median_wait"),
                func.percentile_cont(0.5).within_group(waited).filter(~is_priority).label("regular_median_wait"),
            )
            .where(table.c.day == day)
            .group_by(table.c.service_code)
            .order_by(table.c.service_code)
        )
        rows = (await self._session.execute(statement)).mappings().all()
        return [
            QueueRow(
                service_code=row["service_code"],
                waiting=row["waiting"],
                called=row["called"],
                served=row["served"],
                no_show=row["no_show"],
                average_wait_seconds=_float(row["average_wait"]),
                longest_wait_seconds=_float(row["longest_wait"]),
                oldest_waiting_since=row["oldest_waiting"],
                priority_waiting=row["priority_waiting"],
                priority_median_wait_seconds=_float(row["priority_median_wait"]),
                regular_median_wait_seconds=_float(row["regular_median_wait"]),
            )
            for row in rows
        ]


# ----------------------------------------------------------------------------------------------------------------------
# Survey


class SurveyRepository(_Repository):
    """Survey invitations and answers."""

    async def invitation(self, application_id: str) -> SurveyInvitation | None:
        """The invitation of ``application_id``."""
        statement = select(SurveyInvitation).where(SurveyInvitation.application_id == application_id)
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def invitation_by_token(self, token_hash: str) -> SurveyInvitation | None:
        """The invitation whose link's token hashes to ``token_hash``."""
        statement = select(SurveyInvitation).where(SurveyInvitation.token_hash == token_hash)
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def response(self, application_id: str) -> SurveyResponse | None:
        """The answer given for ``application_id``."""
        statement = select(SurveyResponse).where(SurveyResponse.application_id == application_id)
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def add_response_once(self, response: SurveyResponse) -> bool:
        """Insert ``response`` unless the application was answered already; whether it was inserted."""
        values = {name: getattr(response, name) for name in SurveyResponse.model_fields}
        statement = (
            insert(SurveyResponse)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["application_id"])
            .returning(SurveyResponse.__table__.c.application_id)  # type: ignore[attr-defined]
        )
        return (await self._session.execute(statement)).scalar_one_or_none() is not None

    async def responses(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        service_code: str | None = None,
        agency: str | None = None,
        applicant_kind: str | None = None,
    ) -> Sequence[tuple[SurveyResponse, str]]:
        """Answers given in [since, until), of one service or agency, or by one kind of applicant, when asked; each
        with its application's applicant kind (``person`` when the mall no longer knows the application)."""
        kind = func.coalesce(ApplicationRecord.applicant_kind, "person")
        statement = select(SurveyResponse, kind).outerjoin(
            ApplicationRecord, col(ApplicationRecord.application_id) == col(SurveyResponse.application_id)
        )
        if since is not None:
            statement = statement.where(col(SurveyResponse.answered_at) >= since)
        if until is not None:
            statement = statement.where(col(SurveyResponse.answered_at) < until)
        if service_code is not None:
            statement = statement.where(SurveyResponse.service_code == service_code)
        if agency is not None:
            statement = statement.where(SurveyResponse.agency == agency)
        if applicant_kind is not None:
            statement = statement.where(kind == applicant_kind)
        return [(response, str(kind)) for response, kind in (await self._session.execute(statement)).all()]


# ----------------------------------------------------------------------------------------------------------------------
# Complaints


_AWAITING_ANSWER = (ComplaintState.OPEN.value, ComplaintState.IN_PROGRESS.value)
"""The states of a complaint still to be answered: its due date runs."""


class ComplaintRepository(_Repository):
    """Complaints on the agencies' desks."""

    async def get(self, complaint_id: str, *, for_update: bool = False) -> ComplaintRecord | None:
        """The complaint with ``complaint_id``."""
        statement = select(ComplaintRecord).where(ComplaintRecord.complaint_id == complaint_id)
        if for_update:
            statement = statement.with_for_update()
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def by_reference(self, reference: str) -> ComplaintRecord | None:
        """The complaint with ``reference``."""
        statement = select(ComplaintRecord).where(ComplaintRecord.reference == reference)
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def listing(
        self,
        *,
        agency: str | None = None,
        state: str | None = None,
        overdue_at: datetime | None = None,
        awaiting_answer: bool = False,
    ) -> Sequence[ComplaintRecord]:
        """Complaints (of one agency, in one state, still to be answered, or unanswered past their due date at
        ``overdue_at``), by due date."""
        statement = select(ComplaintRecord)
        if agency is not None:
            statement = statement.where(ComplaintRecord.agency == agency)
        if state is not None:
            statement = statement.where(ComplaintRecord.state == state)
        if awaiting_answer or overdue_at is not None:
            statement = statement.where(col(ComplaintRecord.state).in_(_AWAITING_ANSWER))
        if overdue_at is not None:
            statement = statement.where(col(ComplaintRecord.due_at) < overdue_at)
        statement = statement.order_by(col(ComplaintRecord.due_at), col(ComplaintRecord.reference))
        return (await self._session.execute(statement)).scalars().all()

    async def late(self, now: datetime, limit: int) -> Sequence[ComplaintRecord]:
        """Unanswered complaints past their due date and not yet reported, locked (other instances skip them)."""
        statement = (
            select(ComplaintRecord)
            .where(
                col(ComplaintRecord.state).in_(_AWAITING_ANSWER),
                col(ComplaintRecord.due_at) < now,
                col(ComplaintRecord.sla_breached_at).is_(None),
            )
            .order_by(col(ComplaintRecord.due_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self._session.execute(statement)).scalars().all()

    async def open_per_agency(self) -> dict[str, int]:
        """Unanswered complaints (open or in progress) per agency."""
        statement = (
            select(ComplaintRecord.agency, func.count())
            .where(col(ComplaintRecord.state).in_(_AWAITING_ANSWER))
            .group_by(ComplaintRecord.agency)
        )
        return {agency: int(count) for agency, count in (await self._session.execute(statement)).all()}


# ----------------------------------------------------------------------------------------------------------------------
# Consent


class ConsentRepository(_Repository):
    """Consent ledgers, their entries and their log."""

    async def ledger_of(self, nik_hash: str, *, create_with_id: str | None = None, now: datetime) -> ConsentLedger:
        """The citizen's ledger, created (with ``create_with_id``) the first time; locked for the transaction, so
        one citizen's changes are made one after the other."""
        if create_with_id is not None:
            await self._session.execute(
                insert(ConsentLedger)
                .values(ledger_id=create_with_id, nik_hash=nik_hash, created_at=now)
                .on_conflict_do_nothing(index_elements=["nik_hash"])
            )
        statement = select(ConsentLedger).where(ConsentLedger.nik_hash == nik_hash).with_for_update()
        return (await self._session.execute(statement)).scalar_one()

    async def find_ledger(self, nik_hash: str) -> ConsentLedger | None:
        """The citizen's ledger, if they have one."""
        statement = select(ConsentLedger).where(ConsentLedger.nik_hash == nik_hash)
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def entries(self, ledger_id: str, *, for_update: bool = False) -> Sequence[ConsentEntry]:
        """Every (agency, field) the ledger has an entry for (``*``: every agency), locked when ``for_update``."""
        statement = (
            select(ConsentEntry)
            .where(ConsentEntry.ledger_id == ledger_id)
            .order_by(col(ConsentEntry.agency), col(ConsentEntry.field))
        )
        if for_update:
            statement = statement.with_for_update()
        return (await self._session.execute(statement)).scalars().all()

    async def log(self, ledger_id: str, limit: int = 200) -> Sequence[ConsentLogEntry]:
        """The ledger's history, newest first."""
        statement = (
            select(ConsentLogEntry)
            .where(ConsentLogEntry.ledger_id == ledger_id)
            .order_by(col(ConsentLogEntry.id).desc())
            .limit(limit)
        )
        return (await self._session.execute(statement)).scalars().all()


# ----------------------------------------------------------------------------------------------------------------------
# Documents collected at the counter


class CounterDocumentRepository(_Repository):
    """The issued documents whose originals wait at the counter, and their pickups."""

    async def add_once(self, document: CounterDocument) -> bool:
        """Keep ``document`` unless it is kept already (a redelivered issue); whether it was new."""
        statement = (
            insert(CounterDocument)
            .values(**document.model_dump())
            .on_conflict_do_nothing(index_elements=["document_id"])
        )
        return bool((await self._session.execute(statement)).rowcount)  # type: ignore[attr-defined]

    async def get(self, document_id: str, *, for_update: bool = False) -> CounterDocument | None:
        """The document with ``document_id`` (locked, with ``for_update``, until the transaction ends)."""
        statement = select(CounterDocument).where(CounterDocument.document_id == document_id)
        if for_update:
            statement = statement.with_for_update()
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def find(
        self, *, document_id: str | None = None, number: str | None = None, tracking_code: str | None = None
    ) -> Sequence[tuple[CounterDocument, str | None]]:
        """The document with ``document_id``, those with ``number``, or those of the application with
        ``tracking_code``, in any state, newest first, each with its application's tracking code when the mall
        knows it."""
        statement = select(CounterDocument, ApplicationRecord.tracking_code).outerjoin(
            ApplicationRecord, col(ApplicationRecord.application_id) == col(CounterDocument.application_id)
        )
        if document_id is not None:
            statement = statement.where(CounterDocument.document_id == document_id)
        if number is not None:
            statement = statement.where(CounterDocument.number == number)
        if tracking_code is not None:
            statement = statement.where(ApplicationRecord.tracking_code == tracking_code)
        statement = statement.order_by(col(CounterDocument.issued_at).desc())
        return [(document, code) for document, code in (await self._session.execute(statement)).all()]

    async def waiting(
        self, *, agency: str | None = None, limit: int = 200
    ) -> Sequence[tuple[CounterDocument, str | None]]:
        """Documents neither collected nor revoked (of one issuing agency), oldest first, with their tracking codes."""
        statement = (
            select(CounterDocument, ApplicationRecord.tracking_code)
            .outerjoin(ApplicationRecord, col(ApplicationRecord.application_id) == col(CounterDocument.application_id))
            .where(col(CounterDocument.collected_at).is_(None), col(CounterDocument.revoked_at).is_(None))
        )
        if agency is not None:
            statement = statement.where(CounterDocument.agency == agency)
        statement = statement.order_by(col(CounterDocument.issued_at), col(CounterDocument.number)).limit(limit)
        return [(document, code) for document, code in (await self._session.execute(statement)).all()]


# ----------------------------------------------------------------------------------------------------------------------
# Appointments


class AppointmentRepository(_Repository):
    """Bookings and the places taken in each slot."""

    async def get(self, appointment_id: str, *, for_update: bool = False) -> AppointmentRecord | None:
        """The booking with ``appointment_id``."""
        statement = select(AppointmentRecord).where(AppointmentRecord.appointment_id == appointment_id)
        if for_update:
            statement = statement.with_for_update()
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def by_booking_code(self, booking_code: str, *, for_update: bool = False) -> AppointmentRecord | None:
        """The booking with ``booking_code``."""
        statement = select(AppointmentRecord).where(AppointmentRecord.booking_code == booking_code)
        if for_update:
            statement = statement.with_for_update()
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def active_for(self, nik_hash: str, service_code: str) -> AppointmentRecord | None:
        """The NIK's booking of the service still holding a place, if any."""
        statement = select(AppointmentRecord).where(
            AppointmentRecord.nik_hash == nik_hash,
            AppointmentRecord.service_code == service_code,
            AppointmentRecord.state == AppointmentState.BOOKED,
        )
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def take_place(self, service_code: str, starts_at: datetime, quota: int) -> bool:
        """Take one place of the slot if one is left; False when it is full. One conditional update on the slot's
        counter row (created on first use), so concurrent bookings queue on its row lock and never overfill it."""
        await self._session.execute(
            insert(AppointmentSlot)
            .values(service_code=service_code, starts_at=starts_at, quota=quota, booked=0)
            .on_conflict_do_nothing(index_elements=["service_code", "starts_at"])
        )
        slots = AppointmentSlot.__table__.c  # type: ignore[attr-defined]
        taken = await self._session.execute(
            update(AppointmentSlot)
            .where(slots.service_code == service_code, slots.starts_at == starts_at, slots.booked < slots.quota)
            .values(booked=slots.booked + 1)
            .returning(slots.booked)
        )
        return taken.scalar_one_or_none() is not None

    async def give_back_place(self, service_code: str, starts_at: datetime) -> None:
        """Free one place of the slot (a booking was cancelled)."""
        slots = AppointmentSlot.__table__.c  # type: ignore[attr-defined]
        await self._session.execute(
            update(AppointmentSlot)
            .where(slots.service_code == service_code, slots.starts_at == starts_at, slots.booked > 0)
            .values(booked=slots.booked - 1)
        )

    async def places_taken(self, service_code: str, since: datetime, until: datetime) -> dict[datetime, int]:
        """Places taken per slot of the service starting in ``[since, until)``."""
        statement = select(AppointmentSlot).where(
            AppointmentSlot.service_code == service_code,
            col(AppointmentSlot.starts_at) >= since,
            col(AppointmentSlot.starts_at) < until,
        )
        return {slot.starts_at: slot.booked for slot in (await self._session.execute(statement)).scalars().all()}

    async def reminders_due(self, now: datetime, before: timedelta, limit: int) -> Sequence[AppointmentRecord]:
        """Bookings whose reminder is due (their slot starts within ``before``), not yet reminded, booked before
        the reminder time (one booked later needs none), locked (another replica skips them)."""
        statement = (
            select(AppointmentRecord)
            .where(
                AppointmentRecord.state == AppointmentState.BOOKED,
                col(AppointmentRecord.reminded_at).is_(None),
                col(AppointmentRecord.starts_at) > now,
                col(AppointmentRecord.starts_at) <= now + before,
                col(AppointmentRecord.booked_at) <= col(AppointmentRecord.starts_at) - before,
            )
            .order_by(col(AppointmentRecord.starts_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self._session.execute(statement)).scalars().all()

    async def no_shows(self, now: datetime, grace: timedelta, limit: int) -> Sequence[AppointmentRecord]:
        """Bookings not checked in ``grace`` after their slot started, locked (another replica skips them)."""
        statement = (
            select(AppointmentRecord)
            .where(
                AppointmentRecord.state == AppointmentState.BOOKED,
                col(AppointmentRecord.starts_at) < now - grace,
            )
            .order_by(col(AppointmentRecord.starts_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self._session.execute(statement)).scalars().all()
