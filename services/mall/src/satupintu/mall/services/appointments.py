"""Appointments: a citizen books a slot of a bookable service with their NIK and a one-time code sent to the contact
they give, cancels it, and checks in at the kiosk with the booking code (a queue ticket served ahead of walk-ins);
the watch sends the reminder the day before and releases bookings not checked in as no-shows
(docs/decisions/0033-appointments.md)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.catalogue import Catalogue, ServiceDefinition
from satupintu.common.clock import Clock
from satupintu.common.crypto import FieldCipher, KeyedHasher
from satupintu.common.outbox import Outbox
from satupintu.common.watches import Watch
from satupintu.common.working_days import WorkingCalendar
from satupintu.contract.mall import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentCheckedIn,
    AppointmentCodeIssued,
    AppointmentNoShow,
    AppointmentReminderDue,
)
from satupintu.mall.domain import (
    BOOKING_CODE_ALPHABET,
    AlreadyBooked,
    AppointmentNotFound,
    AppointmentState,
    AppointmentStateConflict,
    BookingCodeRefused,
    BookingRule,
    NotTheBooker,
    ServiceNotBookable,
    SlotFull,
    SlotNotBookable,
    slot_refusal,
)
from satupintu.mall.services import ACTOR, new_event
from satupintu.mall.services.queue import KIOSK_ACTOR, QueueService, TicketView
from satupintu.mall.storage.repository import AppointmentRepository
from satupintu.mall.storage.tables import AppointmentRecord

CONTACT_CONTEXT = "appointments.contact"
CITIZEN_ACTOR = "citizen"


@dataclass(frozen=True)
class AppointmentSettings:
    """How far ahead a slot may be booked, how long and how many tries a code has, the no-show grace and when the
    reminder goes."""

    days_ahead: int = 30
    code_valid: timedelta = timedelta(minutes=10)
    code_attempts: int = 5
    no_show_grace: timedelta = timedelta(minutes=15)
    reminder_before: timedelta = timedelta(hours=24)


@dataclass(frozen=True)
class BookingRequest:
    """What a citizen gives to book a slot."""

    service_code: str
    starts_at: datetime
    nik: str
    contact: str
    language: Literal["id", "en"]


@dataclass(frozen=True)
class SlotView:
    """A slot of a day and its places still free."""

    starts_at: datetime
    free: int


def _channel(contact: str) -> Literal["email", "sms"]:
    return "email" if "@" in contact else "sms"


def new_booking_code() -> str:
    """A fresh booking code, ``BK-`` and eight characters a person reads back without confusing them."""
    return "BK-" + "".join(secrets.choice(BOOKING_CODE_ALPHABET) for _ in range(8))


class AppointmentService:
    """Bookings of the services the mall's settings open for booking."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        catalogue: Catalogue,
        *,
        rules: Mapping[str, BookingRule],
        calendar: WorkingCalendar,
        cipher: FieldCipher,
        hasher: KeyedHasher,
        queue: QueueService,
        settings: AppointmentSettings,
        clock: Clock,
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._catalogue = catalogue
        self._rules = dict(rules)
        self._calendar = calendar
        self._cipher = cipher
        self._hasher = hasher
        self._queue = queue
        self._settings = settings
        self._clock = clock
        self._zone = ZoneInfo(calendar.timezone)

    @property
    def bookable(self) -> list[str]:
        """The codes of the services that take bookings."""
        return [code for code in self._rules if self._catalogue.service(code) is not None]

    @property
    def settings(self) -> AppointmentSettings:
        """How bookings behave."""
        return self._settings

    def _bookable(self, service_code: str) -> tuple[ServiceDefinition, BookingRule]:
        service = self._catalogue.service(service_code)
        rule = self._rules.get(service_code)
        if service is None or rule is None:
            raise ServiceNotBookable(service_code)
        return service, rule

    def _code_hash(self, appointment_id: str, code: str) -> str:
        return self._hasher.hash(f"{appointment_id}:{code}")

    def open_days(self, service_code: str) -> list[date]:
        """The days from today the service has a slot not yet started on (working days with opening hours)."""
        _, rule = self._bookable(service_code)
        now = self._clock()
        today = now.astimezone(self._zone).date()
        return [
            day
            for offset in range(self._settings.days_ahead + 1)
            for day in [today + timedelta(days=offset)]
            if any(start > now for start in rule.slots_of(day, self._calendar))
        ]

    async def slots(self, service_code: str, day: date) -> list[SlotView]:
        """The slots of ``day`` still in the future with the places left in each (full ones included, free 0)."""
        _, rule = self._bookable(service_code)
        starts = [start for start in rule.slots_of(day, self._calendar) if start > self._clock()]
        if not starts:
            return []
        async with self._sessions() as session:
            taken = await AppointmentRepository(session).places_taken(
                service_code, starts[0], starts[-1] + timedelta(minutes=rule.slot_minutes)
            )
        return [SlotView(start, max(0, rule.quota_per_slot - taken.get(start, 0))) for start in starts]

    async def request(self, booking: BookingRequest) -> AppointmentRecord:
        """Record a pending booking and send its one-time code to the contact given. Refuses a slot that cannot be
        booked (422), a full one (409) and a NIK that already holds a booking of the service (409)."""
        service, rule = self._bookable(booking.service_code)
        now = self._clock()
        refusal = slot_refusal(rule, self._calendar, booking.starts_at, now, self._settings.days_ahead)
        if refusal is not None:
            raise SlotNotBookable(refusal)
        nik_hash = self._hasher.hash(booking.nik)
        appointment_id = str(uuid.uuid4())
        code = f"{secrets.randbelow(1_000_000):06d}"
        async with self._sessions() as session, session.begin():
            repository = AppointmentRepository(session)
            if await repository.active_for(nik_hash, service.code) is not None:
                raise AlreadyBooked(service.code)
            taken = await repository.places_taken(
                service.code, booking.starts_at, booking.starts_at + timedelta(seconds=1)
            )
            if taken.get(booking.starts_at, 0) >= rule.quota_per_slot:
                raise SlotFull(booking.starts_at.isoformat())
            record = AppointmentRecord(
                appointment_id=appointment_id,
                service_code=service.code,
                agency=service.agency,
                starts_at=booking.starts_at,
                nik_hash=nik_hash,
                contact_ciphertext=self._cipher.encrypt(booking.contact, CONTACT_CONTEXT),
                channel=_channel(booking.contact),
                language=booking.language,
                state=AppointmentState.PENDING,
                code_hash=self._code_hash(appointment_id, code),
                code_expires_at=now + self._settings.code_valid,
                requested_at=now,
            )
            repository.add(record)
            await self._outbox.add(
                session,
                new_event(
                    AppointmentCodeIssued(
                        appointment_id=appointment_id,
                        service_code=service.code,
                        agency=service.agency,
                        channel=_channel(booking.contact),
                        recipient=booking.contact,
                        code=code,
                        language=booking.language,
                        expires_at=record.code_expires_at,
                    ),
                    appointment_id,
                    CITIZEN_ACTOR,
                ),
            )
        return record

    async def confirm(self, appointment_id: str, code: str) -> AppointmentRecord:
        """Confirm the one-time code and book: take a place in the slot (409 when it filled meanwhile, or when the
        NIK booked the service meanwhile) and give the booking code. A wrong code counts a try (nothing booked)."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            record = await AppointmentRepository(session).get(appointment_id, for_update=True)
            if record is None:
                raise AppointmentNotFound(appointment_id)
            if record.state != AppointmentState.PENDING:
                raise AppointmentStateConflict(f"the booking is {record.state}, not waiting for its code")
            usable = record.code_expires_at > now and record.code_attempts < self._settings.code_attempts
            right = secrets.compare_digest(record.code_hash, self._code_hash(appointment_id, code))
            if not (usable and right):
                record.code_attempts += 1
        if not (usable and right):
            raise BookingCodeRefused(appointment_id)
        try:
            async with self._sessions() as session, session.begin():
                return await self._book(session, appointment_id, now)
        except IntegrityError as taken:  # the partial unique index: the NIK booked the service meanwhile
            raise AlreadyBooked(appointment_id) from taken

    async def _book(self, session: AsyncSession, appointment_id: str, now: datetime) -> AppointmentRecord:
        repository = AppointmentRepository(session)
        record = await repository.get(appointment_id, for_update=True)
        if record is None or record.state != AppointmentState.PENDING:
            raise AppointmentStateConflict("the booking is no longer waiting for its code")
        rule = self._rules[record.service_code]
        if not await repository.take_place(record.service_code, record.starts_at, rule.quota_per_slot):
            raise SlotFull(record.starts_at.isoformat())
        record.state, record.booked_at = AppointmentState.BOOKED, now
        record.booking_code = new_booking_code()
        await repository.flush()
        await self._outbox.add(
            session,
            new_event(
                AppointmentBooked(
                    appointment_id=record.appointment_id,
                    service_code=record.service_code,
                    agency=record.agency,
                    booking_code=record.booking_code,
                    starts_at=record.starts_at,
                    language="en" if record.language == "en" else "id",
                    booked_at=now,
                ),
                record.appointment_id,
                CITIZEN_ACTOR,
            ),
        )
        return record

    async def find(self, booking_code: str) -> AppointmentRecord:
        """The booking with ``booking_code``."""
        async with self._sessions() as session:
            record = await AppointmentRepository(session).by_booking_code(booking_code)
        if record is None:
            raise AppointmentNotFound(booking_code)
        return record

    async def cancel(self, booking_code: str, nik: str) -> AppointmentRecord:
        """Cancel a booking (its NIK must match) and free its place."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            repository = AppointmentRepository(session)
            record = await repository.by_booking_code(booking_code, for_update=True)
            if record is None:
                raise AppointmentNotFound(booking_code)
            if not secrets.compare_digest(record.nik_hash, self._hasher.hash(nik)):
                raise NotTheBooker(booking_code)
            if record.state != AppointmentState.BOOKED:
                raise AppointmentStateConflict(f"the booking is {record.state}; only a booked one can be cancelled")
            record.state, record.finished_at = AppointmentState.CANCELLED, now
            await repository.give_back_place(record.service_code, record.starts_at)
            await self._outbox.add(
                session,
                new_event(
                    AppointmentCancelled(
                        appointment_id=record.appointment_id,
                        service_code=record.service_code,
                        agency=record.agency,
                        starts_at=record.starts_at,
                        cancelled_at=now,
                    ),
                    record.appointment_id,
                    CITIZEN_ACTOR,
                ),
            )
        return record

    async def check_in(self, booking_code: str) -> TicketView:
        """At the kiosk: turn today's booking into a queue ticket served ahead of walk-ins. An unknown code is 404;
        a used, cancelled or released one, or one for another day, 409; nothing changes then."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            record = await AppointmentRepository(session).by_booking_code(booking_code, for_update=True)
            if record is None:
                raise AppointmentNotFound(booking_code)
            if record.state != AppointmentState.BOOKED:
                raise AppointmentStateConflict(f"the booking is {record.state}; it cannot be checked in again")
            if record.starts_at.astimezone(self._zone).date() != self._queue.today():
                raise AppointmentStateConflict("the booking is for another day")
            if now > record.starts_at + self._settings.no_show_grace:
                raise AppointmentStateConflict("the booking's slot started too long ago; take a walk-in number")
            view = await self._queue.issue_in(session, record.service_code, booked=True)
            record.state, record.finished_at, record.ticket_id = AppointmentState.CHECKED_IN, now, view.ticket.ticket_id
            await self._outbox.add(
                session,
                new_event(
                    AppointmentCheckedIn(
                        appointment_id=record.appointment_id,
                        service_code=record.service_code,
                        agency=record.agency,
                        ticket_id=view.ticket.ticket_id,
                        number=view.ticket.number,
                        checked_in_at=now,
                    ),
                    record.appointment_id,
                    KIOSK_ACTOR,
                ),
            )
        return view


@dataclass
class AppointmentWatch(Watch):
    """Publishes the reminder the day before each booked visit, and releases bookings not checked in
    ``no_show_grace`` after their slot started as no-shows."""

    what = "appointment reminders and no-shows"

    cipher: FieldCipher | None = None
    settings: AppointmentSettings = AppointmentSettings()

    async def check_once(self) -> int:
        """Remind and release what is due now; how many (the larger batch)."""
        assert self.cipher is not None
        now: datetime = self.clock()
        async with self.sessions() as session, session.begin():
            repository = AppointmentRepository(session)
            due = await repository.reminders_due(now, self.settings.reminder_before, self.batch_size)
            for record in due:
                record.reminded_at = now
                await self.outbox.add(
                    session,
                    new_event(
                        AppointmentReminderDue(
                            appointment_id=record.appointment_id,
                            service_code=record.service_code,
                            agency=record.agency,
                            booking_code=record.booking_code or "",
                            starts_at=record.starts_at,
                            channel="email" if record.channel == "email" else "sms",
                            recipient=self.cipher.decrypt(record.contact_ciphertext, CONTACT_CONTEXT),
                            language="en" if record.language == "en" else "id",
                        ),
                        record.appointment_id,
                        ACTOR,
                    ),
                )
            late = await repository.no_shows(now, self.settings.no_show_grace, self.batch_size)
            for record in late:
                record.state, record.finished_at = AppointmentState.NO_SHOW, now
                await self.outbox.add(
                    session,
                    new_event(
                        AppointmentNoShow(
                            appointment_id=record.appointment_id,
                            service_code=record.service_code,
                            agency=record.agency,
                            starts_at=record.starts_at,
                            released_at=now,
                        ),
                        record.appointment_id,
                        ACTOR,
                    ),
                )
        return max(len(due), len(late))
