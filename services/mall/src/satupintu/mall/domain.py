"""The mall's rules, without I/O: the SKM index and its grades, queue numbers and wait estimates, complaint
states, which profile fields an agency may receive again, and the domain errors the use cases raise (documents
collected at the counter included)."""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction
from zoneinfo import ZoneInfo

from satupintu.common.catalogue import Catalogue
from satupintu.common.working_days import WorkingCalendar

# ----------------------------------------------------------------------------------------------------------------------
# Satisfaction survey (SKM, Permen PANRB 14/2017)


@dataclass(frozen=True)
class SkmElement:
    """One of the nine survey elements: its field name, its code (U1..U9) and what it asks, in both languages."""

    name: str
    code: str
    label_id: str
    label_en: str


SKM_ELEMENTS: tuple[SkmElement, ...] = (
    SkmElement("requirements", "U1", "Persyaratan", "Requirements"),
    SkmElement("procedure", "U2", "Sistem, mekanisme dan prosedur", "Systems, mechanisms and procedures"),
    SkmElement("completion_time", "U3", "Waktu penyelesaian", "Completion time"),
    SkmElement("cost", "U4", "Biaya/tarif", "Cost/tariff"),
    SkmElement("product", "U5", "Produk spesifikasi jenis pelayanan", "Product specification"),
    SkmElement("competence", "U6", "Kompetensi pelaksana", "Staff competence"),
    SkmElement("behaviour", "U7", "Perilaku pelaksana", "Staff behaviour"),
    SkmElement(
        "complaints_handling",
        "U8",
        "Penanganan pengaduan, saran dan masukan",
        "Handling of complaints, suggestions and input",
    ),
    SkmElement("facilities", "U9", "Sarana dan prasarana", "Facilities"),
)
SKM_ELEMENT_NAMES: tuple[str, ...] = tuple(element.name for element in SKM_ELEMENTS)

SKM_SCALE_LABELS: Mapping[int, tuple[str, str]] = {
    1: ("Tidak baik", "Poor"),
    2: ("Kurang baik", "Fair"),
    3: ("Baik", "Good"),
    4: ("Sangat baik", "Very good"),
}

_TWO_PLACES = Decimal("0.01")
_THREE_PLACES = Decimal("0.001")


@dataclass(frozen=True)
class SkmGrade:
    """A grade of the converted index: letter, what it means (mutu pelayanan) and the lowest value that earns it."""

    letter: str
    label_id: str
    label_en: str
    minimum: Decimal


SKM_GRADES: tuple[SkmGrade, ...] = (
    SkmGrade("A", "Sangat baik", "Very good", Decimal("88.31")),
    SkmGrade("B", "Baik", "Good", Decimal("76.61")),
    SkmGrade("C", "Kurang baik", "Fair", Decimal("65.00")),
    SkmGrade("D", "Tidak baik", "Poor", Decimal("25.00")),
)


def skm_grade(converted: Decimal) -> SkmGrade:
    """The grade of a converted index (25-100, already rounded to two decimals)."""
    return next((grade for grade in SKM_GRADES if converted >= grade.minimum), SKM_GRADES[-1])


@dataclass(frozen=True)
class SkmIndex:
    """The satisfaction index of a set of answers.

    ``element_averages`` are the NRR per element (sum / respondents), ``index`` the IKM (sum of NRR x 1/9, 1-4),
    ``converted`` the unit index (IKM x 25, 25-100) rounded half up to two decimals, and ``grade`` its grade.
    """

    respondents: int
    element_averages: Mapping[str, Decimal]
    index: Decimal
    converted: Decimal
    grade: SkmGrade


def skm_index(answers: Iterable[Mapping[str, int]]) -> SkmIndex | None:
    """The SKM index of ``answers`` (each a score 1-4 by element name); None without respondents.

    The weight is exactly 1/9 (the regulation prints it as 0.111, a rounding of 1/9), computed in fractions so no
    rounding happens before the converted value is rounded to two decimals.
    """
    sums = dict.fromkeys(SKM_ELEMENT_NAMES, 0)
    respondents = 0
    for answer in answers:
        respondents += 1
        for name in SKM_ELEMENT_NAMES:
            score = answer[name]
            if score not in (1, 2, 3, 4):
                raise ValueError(f"{name}: a score is 1 to 4, not {score!r}")
            sums[name] += score
    if respondents == 0:
        return None
    averages = {name: Fraction(total, respondents) for name, total in sums.items()}
    index = sum(averages.values(), Fraction(0)) / len(SKM_ELEMENT_NAMES)
    converted = _decimal(index * 25, _TWO_PLACES)
    return SkmIndex(
        respondents=respondents,
        element_averages={name: _decimal(value, _THREE_PLACES) for name, value in averages.items()},
        index=_decimal(index, _THREE_PLACES),
        converted=converted,
        grade=skm_grade(converted),
    )


def _decimal(value: Fraction, places: Decimal) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(places, rounding=ROUND_HALF_UP)


# ----------------------------------------------------------------------------------------------------------------------
# Counter queue


class TicketState(StrEnum):
    """Where a queue ticket is."""

    WAITING = "waiting"
    CALLED = "called"
    SERVED = "served"
    NO_SHOW = "no_show"


def ticket_prefixes(catalogue: Catalogue) -> dict[str, str]:
    """The prefix of each service's queue numbers: the code in capitals (``PBG``), or the initials of a code in
    several words (``sim-perpanjangan`` → ``SP``); the whole code where initials would be shared."""
    proposed = {
        service.code: (
            "".join(part[0] for part in service.code.split("-")) if "-" in service.code else service.code
        ).upper()
        for service in catalogue.services
    }
    counts: dict[str, int] = {}
    for prefix in proposed.values():
        counts[prefix] = counts.get(prefix, 0) + 1
    return {code: prefix if counts[prefix] == 1 else code.upper() for code, prefix in proposed.items()}


def ticket_number(prefix: str, sequence: int) -> str:
    """A queue number as called out and shown: ``PBG-017``."""
    return f"{prefix}-{sequence:03d}"


def priority_goes_next(recent_calls_priority: Sequence[bool], ratio: int) -> bool:
    """Whether a counter's next call takes the oldest *priority* ticket (when one waits) rather than the oldest
    regular one: yes, unless the service's last ``ratio`` calls today (``recent_calls_priority``, the latest first)
    were all priority, so that walk-ins are not starved. A ratio of 0 gives priority tickets no precedence."""
    if ratio <= 0:
        return False
    latest = list(recent_calls_priority[:ratio])
    return len(latest) < ratio or not all(latest)


def estimate_wait_minutes(
    waiting_ahead: int, recent_service_seconds: Sequence[float], open_counters: int, default_minutes: float
) -> int:
    """Minutes until a new ticket is called: the visitors ahead, times the median time a counter took per visitor
    today (the default before any was served), shared among the counters calling now (at least one)."""
    if waiting_ahead <= 0:
        return 0
    per_visitor = statistics.median(recent_service_seconds) / 60 if recent_service_seconds else default_minutes
    return math.ceil(waiting_ahead * per_visitor / max(open_counters, 1))


class TicketNotFound(Exception):
    """No ticket has that id."""


class UnknownService(Exception):
    """The catalogue has no such service."""


class QueueEmpty(Exception):
    """Nobody is waiting for that service today."""


class TicketStateConflict(Exception):
    """The ticket is not in a state that allows the step (e.g. serving a ticket nobody called)."""

    def __init__(self, number: str, state: str, step: str) -> None:
        super().__init__(f"ticket {number} is {state.replace('_', ' ')}; it cannot be {step}")
        self.state = state
        self.number = number


class NotYourCounter(Exception):
    """An officer acted on the queue of a service their agency does not serve."""


# ----------------------------------------------------------------------------------------------------------------------
# Survey


class SurveyNotFound(Exception):
    """No invitation has that link."""


class SurveyAlreadyAnswered(Exception):
    """The application's survey was answered already; it is answerable once."""


class SurveyExpired(Exception):
    """The survey link is past its expiry."""


# ----------------------------------------------------------------------------------------------------------------------
# Complaints


class ComplaintState(StrEnum):
    """Where a complaint is on the agency's desk."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    """An officer of the desk took it up; the complainant is told."""
    RESOLVED = "resolved"

    @property
    def awaits_answer(self) -> bool:
        """Whether the complaint is still to be answered (open, or in progress): it counts against its due date."""
        return self is not ComplaintState.RESOLVED


def complaint_reference(day: date, sequence: int) -> str:
    """A complaint's reference as given to the citizen: ``ADU-20260814-0007``."""
    return f"ADU-{day:%Y%m%d}-{sequence:04d}"


class ComplaintNotFound(Exception):
    """No complaint has that id."""


class ComplaintClosed(Exception):
    """The complaint was answered already."""


class ComplaintTakenUp(Exception):
    """The complaint is in progress already: someone on the desk took it up."""


class UnknownComplaintCategory(Exception):
    """The catalogue has no such complaint category."""


class UnknownAgency(Exception):
    """The catalogue has no such agency."""


class ApplicationNotKnown(Exception):
    """The mall has not seen an application with that tracking code (yet)."""


# ----------------------------------------------------------------------------------------------------------------------
# Documents collected at the counter

COLLECTOR_NAME_MAX = 120
"""The longest name of a collector the contract carries (``document.collected``'s ``collected_by``)."""


class DocumentNotAtCounter(Exception):
    """No document with that id (or number) waits at the counter: unknown, or not collected at the counter."""


class DocumentAlreadyCollected(Exception):
    """The document was handed over already: when and by which clerk."""

    def __init__(self, number: str, collected_at: datetime, handed_over_by: str) -> None:
        super().__init__(f"document {number} was handed over at {collected_at.isoformat()} by {handed_over_by}")
        self.number = number
        self.collected_at = collected_at
        self.handed_over_by = handed_over_by


class DocumentWasRevoked(Exception):
    """The issuing agency revoked the document: its original is not handed over."""

    def __init__(self, number: str, revoked_at: datetime) -> None:
        super().__init__(f"document {number} was revoked at {revoked_at.isoformat()}")
        self.number = number
        self.revoked_at = revoked_at


# ----------------------------------------------------------------------------------------------------------------------
# Consent


def reusable_fields(catalogue: Catalogue) -> dict[str, tuple[str, ...]]:
    """Agency → the profile fields it may be given again with consent: the catalogue's ``profile`` fields that a
    task of that agency sees."""
    found: dict[str, set[str]] = {}
    for service in catalogue.services:
        profile = {definition.name for definition in service.fields if definition.profile}
        for stage in service.stages:
            for task in stage.tasks:
                shared = profile & set(task.visible_fields)
                if shared:
                    found.setdefault(task.agency, set()).update(shared)
    return {agency: tuple(sorted(fields)) for agency, fields in sorted(found.items())}


class ConsentRefused(Exception):
    """The consent asked for names an agency or field that cannot be reused; ``field`` says where."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class NotTheApplicant(Exception):
    """The NIK given is not the one the application was submitted with."""


_CODE = re.compile(r"^[a-z][a-z0-9-]{1,31}$")


def is_code(value: str) -> bool:
    """Whether ``value`` looks like a catalogue code (service or agency)."""
    return bool(_CODE.fullmatch(value))


# ----------------------------------------------------------------------------------------------------------------------
# Service standard


def working_days_between(calendar: WorkingCalendar, start: datetime, end: datetime) -> int:
    """Working days from ``start``'s local date (exclusive) to ``end``'s local date (inclusive): 0 the same day.

    An application done within ``n`` of these met a service standard of ``n`` working days (``due_at`` is the end
    of the ``n``-th working day after the submission's date).
    """
    zone = ZoneInfo(calendar.timezone)
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    days = 0
    current = first
    while current < last:
        current += timedelta(days=1)
        if calendar.is_working_day(current):
            days += 1
    return days


# ----------------------------------------------------------------------------------------------------------------------
# Appointments: opening hours, slots and their quotas (docs/decisions/0033-appointments.md)

WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class AppointmentState(StrEnum):
    """Where a booking stands: ``pending`` until its one-time code is confirmed, then ``booked`` (it holds a place in
    its slot) until it is ``checked_in`` at the kiosk, ``cancelled`` by the citizen, or released as a ``no_show``."""

    PENDING = "pending"
    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


@dataclass(frozen=True)
class OpeningPeriod:
    """A stretch of a working day the counter takes booked visitors, in the mall's local time."""

    opens: time
    closes: time


@dataclass(frozen=True)
class BookingRule:
    """A bookable service's opening hours per weekday (working days only), slot length and places per slot."""

    hours: Mapping[str, tuple[OpeningPeriod, ...]]
    slot_minutes: int
    quota_per_slot: int

    def slots_of(self, day: date, calendar: WorkingCalendar) -> list[datetime]:
        """Every slot start of ``day`` (none on a day that is not a working day, holidays and cuti bersama
        included, or that has no opening hours)."""
        if not calendar.is_working_day(day):
            return []
        zone, length = ZoneInfo(calendar.timezone), timedelta(minutes=self.slot_minutes)
        starts: list[datetime] = []
        for period in self.hours.get(WEEKDAYS[day.weekday()], ()):
            start = datetime.combine(day, period.opens, tzinfo=zone)
            end = datetime.combine(day, period.closes, tzinfo=zone)
            while start + length <= end:
                starts.append(start)
                start += length
        return starts


@dataclass(frozen=True)
class SlotRefusal:
    """Why a slot cannot be booked: the field at fault, a code and a sentence."""

    field: str
    code: str
    message: str


def slot_refusal(
    rule: BookingRule, calendar: WorkingCalendar, starts_at: datetime, now: datetime, days_ahead: int
) -> SlotRefusal | None:
    """None when ``starts_at`` is a slot a citizen may book now; otherwise why not (past, too far ahead, not a
    working day, a holiday, outside opening hours, not on a slot boundary); ``starts_at`` is aware."""
    local = starts_at.astimezone(ZoneInfo(calendar.timezone))
    day = local.date()
    if starts_at <= now:
        return SlotRefusal("starts_at", "past", "the slot has already started")
    if day > now.astimezone(ZoneInfo(calendar.timezone)).date() + timedelta(days=days_ahead):
        return SlotRefusal("starts_at", "too_far", f"slots can be booked up to {days_ahead} days ahead")
    if day.weekday() < 5 and not calendar.is_working_day(day):
        return SlotRefusal("starts_at", "holiday", f"{day.isoformat()} is a public holiday or collective leave")
    if not calendar.is_working_day(day):
        return SlotRefusal("starts_at", "not_working_day", f"{day.isoformat()} is not a working day")
    if local not in rule.slots_of(day, calendar):
        return SlotRefusal("starts_at", "outside_hours", "the counter takes no booking at that time")
    return None


BOOKING_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
"""Letters and digits a person reads back without confusing them (no 0/O, 1/I)."""


def is_booking_code(value: str) -> bool:
    """Whether ``value`` looks like a booking code (``BK-`` and eight of the alphabet's characters)."""
    return re.fullmatch(rf"BK-[{BOOKING_CODE_ALPHABET}]{{8}}", value) is not None


class ServiceNotBookable(Exception):
    """The service takes no bookings (the mall's settings give it no opening hours)."""


class SlotNotBookable(Exception):
    """The slot cannot be booked (past, a holiday, outside hours...)."""

    def __init__(self, refusal: SlotRefusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


class SlotFull(Exception):
    """Every place of the slot is taken."""


class AlreadyBooked(Exception):
    """The NIK already holds an active booking for the service."""


class AppointmentNotFound(Exception):
    """No booking under that id or booking code."""


class AppointmentStateConflict(Exception):
    """The booking is not in a state that allows the step (already used, cancelled, released...)."""


class BookingCodeRefused(Exception):
    """The one-time code is wrong, expired or used up; nothing was booked."""


class NotTheBooker(Exception):
    """The NIK is not the one the booking was made with."""
