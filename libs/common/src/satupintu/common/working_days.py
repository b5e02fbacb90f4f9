"""Government working days: Monday to Friday, minus Indonesia's public holidays (from ``holidays``) and the
collective-leave days (cuti bersama) decreed each year, which are configured, not computed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import holidays

from satupintu.common.dates import DEFAULT_TIMEZONE

if TYPE_CHECKING:
    from satupintu.common.catalogue import Catalogue


@dataclass(frozen=True)
class WorkingCalendar:
    """Counts working days in one time zone (WIB, WITA or WIT)."""

    timezone: str = DEFAULT_TIMEZONE
    collective_leave: frozenset[date] = field(default_factory=frozenset)

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day."""
        return day.weekday() < 5 and day not in _public_holidays() and day not in self.collective_leave

    def due_at(self, start: datetime, working_days: int) -> datetime:
        """The end (23:59:59 local time) of the ``working_days``-th working day after ``start``'s local date."""
        zone = ZoneInfo(self.timezone)
        day = start.astimezone(zone).date()
        remaining = working_days
        while remaining > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return datetime.combine(day, time(23, 59, 59), tzinfo=zone)

    def working_days_started(self, since: datetime, until: datetime) -> int:
        """How many working days began after ``since`` up to ``until`` (local dates ``since < day <= until``): the
        day ``since`` falls on is not counted (it had begun already), the day of ``until`` is when it is one."""
        zone = ZoneInfo(self.timezone)
        day, last = since.astimezone(zone).date(), until.astimezone(zone).date()
        started = 0
        while day < last:
            day += timedelta(days=1)
            if self.is_working_day(day):
                started += 1
        return started


@cache
def _public_holidays() -> holidays.HolidayBase:
    """Indonesia's public holidays, one table per process (building it is slow; it fills in years as asked)."""
    return holidays.country_holidays("ID")


def parse_dates(values: Iterable[str]) -> frozenset[date]:
    """ISO dates from configuration, e.g. the year's cuti bersama."""
    return frozenset(date.fromisoformat(value.strip()) for value in values if value.strip())


def agency_calendar(catalogue: Catalogue, agency: str | None, collective_leave: frozenset[date]) -> WorkingCalendar:
    """The working-day calendar of ``agency``'s time zone (WIB for an agency the catalogue does not know)."""
    found = catalogue.agency(agency) if agency else None
    return WorkingCalendar(found.timezone if found else DEFAULT_TIMEZONE, collective_leave)
