"""Counter queue tickets: issue a number per service and day with an estimated wait, call the next visitor, mark
them served or a no-show, and link the ticket to the application submitted at the counter."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.auth import Principal, Role
from satupintu.common.catalogue import Catalogue, ServiceDefinition
from satupintu.common.clock import Clock
from satupintu.common.outbox import Outbox
from satupintu.contract.envelope import Event
from satupintu.contract.mall import TicketCalled, TicketIssued, TicketLinked, TicketNoShow, TicketServed
from satupintu.mall.domain import (
    NotYourCounter,
    QueueEmpty,
    TicketNotFound,
    TicketState,
    TicketStateConflict,
    UnknownService,
    estimate_wait_minutes,
    priority_goes_next,
    ticket_number,
)
from satupintu.mall.services import new_event
from satupintu.mall.storage.repository import ApplicationRepository, QueueRow, TicketRepository
from satupintu.mall.storage.tables import TicketRecord

KIOSK_ACTOR = "kiosk"


@dataclass(frozen=True)
class TicketView:
    """A ticket as its visitor and the counters see it now: where it stands and the wait still expected."""

    ticket: TicketRecord
    waiting_ahead: int
    estimated_wait_minutes: int


@dataclass(frozen=True)
class QueueSettings:
    """How the queue estimates waits and when its day starts."""

    timezone: str = "Asia/Jakarta"
    default_minutes_per_ticket: float = 10.0
    serving_rate_window: timedelta = timedelta(minutes=60)
    priority_ratio: int = 3
    """Priority calls in a row at a service after which the oldest regular ticket goes next (0: no precedence)."""


class QueueService:
    """The counter queue of every service, one day at a time in the mall's time zone."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        catalogue: Catalogue,
        *,
        prefixes: dict[str, str],
        settings: QueueSettings,
        clock: Clock,
        issued: Counter | None = None,
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._catalogue = catalogue
        self._prefixes = prefixes
        self._settings = settings
        self._zone = ZoneInfo(settings.timezone)
        self._clock = clock
        self._issued = issued

    def now(self) -> datetime:
        """The queue's clock."""
        return self._clock()

    def today(self) -> date:
        """The mall's current local day."""
        return self._clock().astimezone(self._zone).date()

    def _service(self, service_code: str) -> ServiceDefinition:
        service = self._catalogue.service(service_code)
        if service is None:
            raise UnknownService(service_code)
        return service

    async def _estimate(self, repository: TicketRepository, day: date, service_code: str, ahead: int) -> int:
        now = self._clock()
        return estimate_wait_minutes(
            ahead,
            await repository.recent_service_seconds(day, service_code),
            await repository.open_counters(service_code, now - self._settings.serving_rate_window),
            self._settings.default_minutes_per_ticket,
        )

    async def issue(self, service_code: str, *, priority: bool = False) -> TicketView:
        """Give a walk-in visitor the service's next number today (``priority``: served first, for the elderly,
        the disabled, the pregnant and parents with small children), with the wait expected before their call."""
        async with self._sessions() as session, session.begin():
            view = await self.issue_in(session, service_code, priority=priority)
        if self._issued is not None:
            self._issued.labels(view.ticket.service_code).inc()
        return view

    async def issue_in(
        self, session: AsyncSession, service_code: str, *, booked: bool = False, priority: bool = False
    ) -> TicketView:
        """Issue the service's next number today within the caller's transaction (``booked``: a booking checked in
        at the kiosk, served ahead of walk-ins; ``priority``: called first, within the priority ratio)."""
        service = self._service(service_code)
        now, day = self._clock(), self.today()
        repository = TicketRepository(session)
        sequence = await repository.next_in_sequence(f"queue:{service.code}", day)
        ticket = TicketRecord(
            ticket_id=str(uuid.uuid4()),
            day=day,
            service_code=service.code,
            agency=service.agency,
            sequence=sequence,
            number=ticket_number(self._prefixes[service.code], sequence),
            state=TicketState.WAITING,
            estimated_wait_minutes=0,
            issued_at=now,
            booked=booked,
            priority=priority,
        )
        ahead = await repository.waiting_before(ticket)
        estimate = ticket.estimated_wait_minutes = await self._estimate(repository, day, service.code, ahead)
        repository.add(ticket)
        await self._outbox.add(
            session,
            new_event(
                TicketIssued(
                    ticket_id=ticket.ticket_id,
                    number=ticket.number,
                    service_code=ticket.service_code,
                    agency=ticket.agency,
                    day=day,
                    waiting_ahead=ahead,
                    estimated_wait_minutes=estimate,
                    issued_at=now,
                    priority=priority,
                ),
                ticket.ticket_id,
                KIOSK_ACTOR,
            ),
        )
        return TicketView(ticket, ahead, estimate)

    async def view(self, ticket_id: str) -> TicketView:
        """The ticket now: the visitors still ahead of it and the wait still expected."""
        async with self._sessions() as session:
            repository = TicketRepository(session)
            ticket = await repository.get(ticket_id)
            if ticket is None:
                raise TicketNotFound(ticket_id)
            if ticket.state != TicketState.WAITING:
                return TicketView(ticket, 0, 0)
            ahead = await repository.waiting_before(ticket)
            return TicketView(ticket, ahead, await self._estimate(repository, ticket.day, ticket.service_code, ahead))

    def _check_counter(self, principal: Principal, agency: str) -> None:
        if Role.OPERATOR in principal.roles:
            return
        if principal.agency != agency:
            raise NotYourCounter(f"this queue is served by {agency}; your token is for {principal.agency}")

    async def call_next(self, service_code: str, counter: str, principal: Principal) -> TicketView:
        """Call the service's next visitor today to ``counter``: the longest-waiting priority ticket first, unless the
        last ``priority_ratio`` calls were all priority and a regular ticket waits (:func:`priority_goes_next`)."""
        service = self._service(service_code)
        self._check_counter(principal, service.agency)
        now, day, ratio = self._clock(), self.today(), self._settings.priority_ratio
        async with self._sessions() as session, session.begin():
            repository = TicketRepository(session)
            recent = await repository.recent_call_priorities(day, service.code, ratio) if ratio > 0 else []
            ticket = await repository.next_waiting(day, service.code, priority_first=priority_goes_next(recent, ratio))
            if ticket is None:
                raise QueueEmpty(service.code)
            ticket.state, ticket.counter, ticket.called_at = TicketState.CALLED, counter, now
            waited = max(0, int((now - ticket.issued_at).total_seconds()))
            await self._outbox.add(
                session,
                new_event(
                    TicketCalled(
                        ticket_id=ticket.ticket_id,
                        number=ticket.number,
                        service_code=ticket.service_code,
                        agency=ticket.agency,
                        counter=counter,
                        waited_seconds=waited,
                        called_at=now,
                    ),
                    ticket.ticket_id,
                    principal.actor(),
                ),
            )
        return TicketView(ticket, 0, 0)

    async def mark_priority(self, ticket_id: str, principal: Principal) -> TicketRecord:
        """A clerk gives a waiting ticket priority (the visitor in front of them is elderly, disabled, pregnant or
        with a small child); a ticket already priority stays so."""
        async with self._sessions() as session, session.begin():
            repository = TicketRepository(session)
            ticket = await repository.get(ticket_id, for_update=True)
            if ticket is None:
                raise TicketNotFound(ticket_id)
            self._check_counter(principal, ticket.agency)
            if ticket.state != TicketState.WAITING:
                raise TicketStateConflict(ticket.number, ticket.state, "given priority")
            ticket.priority = True
        return ticket

    async def ticket_numbered(self, number: str) -> TicketRecord:
        """Today's ticket with ``number`` (as printed, ``PBG-017``; numbers are unique per day)."""
        async with self._sessions() as session:
            ticket = await TicketRepository(session).by_number(self.today(), number.strip().upper())
        if ticket is None:
            raise TicketNotFound(number)
        return ticket

    async def _finish(self, ticket_id: str, principal: Principal, state: TicketState) -> TicketRecord:
        now = self._clock()
        async with self._sessions() as session, session.begin():
            repository = TicketRepository(session)
            ticket = await repository.get(ticket_id, for_update=True)
            if ticket is None:
                raise TicketNotFound(ticket_id)
            self._check_counter(principal, ticket.agency)
            if ticket.state != TicketState.CALLED or ticket.called_at is None or ticket.counter is None:
                step = "served" if state is TicketState.SERVED else "marked a no-show"
                raise TicketStateConflict(ticket.number, ticket.state, step)
            ticket.state, ticket.finished_at = state, now
            common = {
                "ticket_id": ticket.ticket_id,
                "number": ticket.number,
                "service_code": ticket.service_code,
                "agency": ticket.agency,
                "counter": ticket.counter,
            }
            payload: TicketServed | TicketNoShow = (
                TicketServed(
                    **common,
                    service_seconds=max(0, int((now - ticket.called_at).total_seconds())),
                    tracking_code=ticket.tracking_code,
                    served_at=now,
                )
                if state is TicketState.SERVED
                else TicketNoShow(**common, marked_at=now)
            )
            await self._outbox.add(session, new_event(payload, ticket.ticket_id, principal.actor()))
        return ticket

    async def serve(self, ticket_id: str, principal: Principal) -> TicketRecord:
        """The called visitor was served."""
        return await self._finish(ticket_id, principal, TicketState.SERVED)

    async def no_show(self, ticket_id: str, principal: Principal) -> TicketRecord:
        """The called visitor did not come."""
        return await self._finish(ticket_id, principal, TicketState.NO_SHOW)

    async def link(self, ticket_id: str, tracking_code: str, principal: Principal) -> TicketRecord:
        """Link the ticket to the application submitted at the counter (known to the mall yet or not)."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            repository = TicketRepository(session)
            ticket = await repository.get(ticket_id, for_update=True)
            if ticket is None:
                raise TicketNotFound(ticket_id)
            self._check_counter(principal, ticket.agency)
            if ticket.state in {TicketState.NO_SHOW, TicketState.WAITING}:
                raise TicketStateConflict(ticket.number, ticket.state, "linked to an application")
            application = await ApplicationRepository(session).by_tracking_code(tracking_code)
            ticket.tracking_code = tracking_code
            ticket.application_id = application.application_id if application else None
            await self._outbox.add(
                session,
                new_event(
                    TicketLinked(
                        ticket_id=ticket.ticket_id,
                        number=ticket.number,
                        service_code=ticket.service_code,
                        agency=ticket.agency,
                        tracking_code=tracking_code,
                        application_id=ticket.application_id,
                        linked_at=now,
                    ),
                    ticket.ticket_id,
                    principal.actor(),
                ),
            )
        return ticket

    async def called_today(self, number: str) -> TicketRecord:
        """Today's ticket numbered ``number`` once it has been called to a counter (what the display announces)."""
        async with self._sessions() as session:
            ticket = await TicketRepository(session).by_number(self.today(), number)
        if ticket is None or ticket.called_at is None or ticket.counter is None:
            raise TicketNotFound(number)
        return ticket

    async def settle_at_submission(
        self, session: AsyncSession, ticket_id: str, *, tracking_code: str, application_id: str, clerk: str
    ) -> list[Event[Any]]:
        """A clerk submitted an application for the ticket's visitor at the counter (intake's ``application.submitted``
        with the ticket, decision 0036), in the caller's transaction: the ticket is linked to it at once and, if it is
        being served (called), marked served, intake's acceptance being the end of the visit. A ticket already served
        is only linked; an unknown one is left alone (another mall's, or gone). The events to emit."""
        repository = TicketRepository(session)
        ticket = await repository.get(ticket_id, for_update=True)
        if ticket is None or ticket.tracking_code == tracking_code:
            return []
        now = self._clock()
        ticket.tracking_code, ticket.application_id = tracking_code, application_id
        common = {
            "ticket_id": ticket.ticket_id,
            "number": ticket.number,
            "service_code": ticket.service_code,
            "agency": ticket.agency,
        }
        events = [
            new_event(
                TicketLinked(**common, tracking_code=tracking_code, application_id=application_id, linked_at=now),
                ticket.ticket_id,
                clerk,
            )
        ]
        if ticket.state == TicketState.CALLED and ticket.called_at is not None and ticket.counter is not None:
            ticket.state, ticket.finished_at = TicketState.SERVED, now
            served = TicketServed(
                **common,
                counter=ticket.counter,
                service_seconds=max(0, int((now - ticket.called_at).total_seconds())),
                tracking_code=tracking_code,
                served_at=now,
            )
            events.append(new_event(served, ticket.ticket_id, clerk))
        return events

    async def recent_calls(self, limit: int, agency: str | None = None) -> list[TicketRecord]:
        """Today's calls to the counters (of one agency), the latest first: what the now-calling display shows."""
        async with self._sessions() as session:
            return list(await TicketRepository(session).calls_of_day(self.today(), limit=limit, agency=agency))

    async def at_the_counters(self, principal: Principal, limit: int = 100) -> list[TicketRecord]:
        """Tickets called today and not yet finished: the officer's agency's, or every agency's for an operator."""
        agency = None if Role.OPERATOR in principal.roles else principal.agency
        async with self._sessions() as session:
            return list(
                await TicketRepository(session).calls_of_day(
                    self.today(), limit=limit, agency=agency, states=[TicketState.CALLED]
                )
            )

    async def estimate_for_new(self, service_code: str, waiting: int) -> int:
        """The wait a ticket of ``service_code`` taken now would be told, with ``waiting`` visitors ahead."""
        async with self._sessions() as session:
            return await self._estimate(TicketRepository(session), self.today(), service_code, waiting)

    async def today_queue(self) -> list[QueueRow]:
        """Today's queue per service."""
        async with self._sessions() as session:
            return await TicketRepository(session).queue_today(self.today(), self._clock())
