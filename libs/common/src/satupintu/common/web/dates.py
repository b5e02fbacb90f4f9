"""Dates and times the way the pages write them, in a local time zone (``satupintu.common.dates`` writes them in
full, ``15 Juni 2026``, for letters and the citizen's pages)."""

from __future__ import annotations

from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from satupintu.common.dates import DEFAULT_TIMEZONE, ZONE_NAMES

_DAYS: Final = ("Sen", "Sel", "Rab", "Kam", "Jum", "Sab", "Min")
_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")


def local_time(value: datetime | None, timezone: str = DEFAULT_TIMEZONE) -> str:
    """``Sen, 16 Nov 2026 23:59 WIB``: a time in ``timezone``, the way Indonesian offices write it (``-`` for none)."""
    if value is None:
        return "-"
    local = value.astimezone(ZoneInfo(timezone))
    zone = ZONE_NAMES.get(timezone, local.tzname() or "")
    return f"{_DAYS[local.weekday()]}, {local.day} {_MONTHS[local.month - 1]} {local.year} {local:%H:%M} {zone}"


def numeric_moment(value: datetime | None, timezone: str = DEFAULT_TIMEZONE) -> str:
    """``16-11-2026 23:59``: a date and time in ``timezone`` (empty for none)."""
    return "" if value is None else value.astimezone(ZoneInfo(timezone)).strftime("%d-%m-%Y %H:%M")


def clock_time(value: datetime | None, timezone: str = DEFAULT_TIMEZONE) -> str:
    """``14:05``: a time of today in ``timezone`` (empty for none)."""
    return "" if value is None else value.astimezone(ZoneInfo(timezone)).strftime("%H:%M")
