"""Limits that hold across a service's replicas and restarts: "N units per key per window", counted in the service's
PostgreSQL database (table ``limit_counters``), each decision one atomic statement (decision 0015).

A key is a namespace and a subject: ``intake.upload-bytes`` and a client address, later ``intake.codes`` and a
NIK's keyed hash (never a NIK itself), ``notification.sms`` and a channel. Windows are sliding: the count of the
current fixed window plus the previous window's count weighted by how much of it the sliding window still covers,
so a client cannot spend the limit twice across a window's edge. A refused take says when to retry.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import BigInteger, Column, DateTime, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Field, SQLModel

from satupintu.common.clock import Clock, utc_now

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_NAMESPACE = re.compile(r"[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+")


class LimitCounter(SQLModel, table=True):
    """Units a key took in one fixed window; a sliding window reads this window's row and the one before."""

    __tablename__ = "limit_counters"

    key: str = Field(primary_key=True, description="`<namespace>:<subject>`, e.g. `intake.upload-bytes:203.0.113.7`.")
    window_start: datetime = Field(
        sa_column=Column(DateTime(timezone=True), primary_key=True),
        description="Start of the fixed window (aligned to the Unix epoch in multiples of the window).",
    )
    used: int = Field(sa_column=Column(BigInteger, nullable=False), description="Units taken in this window.")
    expires_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, index=True),
        description="When the row stops mattering (two windows after its start) and may be removed.",
    )


@dataclass(frozen=True)
class Quota:
    """At most ``units`` per subject in any ``window``, under ``namespace`` (``<service>.<what>``)."""

    namespace: str
    units: int
    window: timedelta

    def __post_init__(self) -> None:
        if not _NAMESPACE.fullmatch(self.namespace):
            raise ValueError(f"namespace {self.namespace!r} is not `<service>.<what>` in lowercase")
        if self.units < 1:
            raise ValueError(f"a quota allows at least one unit, not {self.units}")
        if self.window < timedelta(seconds=1) or self.window % timedelta(seconds=1):
            raise ValueError(f"a quota's window is a whole number of seconds, not {self.window}")

    def key(self, subject: str) -> str:
        """The counter key of ``subject`` under this quota."""
        return f"{self.namespace}:{subject}"


@dataclass(frozen=True)
class Taken:
    """What :meth:`Limiter.take` decided: allowed (the units are counted) or refused (nothing counted, retry later)."""

    allowed: bool
    key: str
    units: int
    window_start: datetime
    remaining: int
    """Units the subject may still take now (after this take, when allowed)."""
    retry_after: timedelta
    """Zero when allowed; when refused, how long until ``units`` fit, if nobody else takes meanwhile."""


# One statement: the INSERT counts the units only where the sliding count stays within the limit; ON CONFLICT DO
# UPDATE locks the window's row, so concurrent takes of the same key (any replica) are decided one after another,
# each against the count the one before left. The previous window is closed, so reading it unlocked is safe.
_TAKE = text(
    """
    WITH previous AS (
        SELECT used FROM limit_counters WHERE key = :key AND window_start = :previous_start
    ), current_window AS (
        SELECT used FROM limit_counters WHERE key = :key AND window_start = :window_start
    ), taken AS (
        INSERT INTO limit_counters AS counter (key, window_start, used, expires_at)
        SELECT :key, :window_start, CAST(:units AS bigint), :expires_at
        WHERE COALESCE((SELECT used FROM previous), 0) * CAST(:previous_weight AS float8) + CAST(:units AS bigint)
              <= CAST(:limit AS bigint)
        ON CONFLICT (key, window_start) DO UPDATE SET used = counter.used + excluded.used
        WHERE COALESCE((SELECT used FROM previous), 0) * CAST(:previous_weight AS float8) + counter.used
              + excluded.used <= CAST(:limit AS bigint)
        RETURNING counter.used
    )
    SELECT (SELECT used FROM taken) AS taken_used,
           COALESCE((SELECT used FROM previous), 0) AS previous_used,
           COALESCE((SELECT used FROM current_window), 0) AS current_used
    """
)
_GIVE_BACK = text(
    "UPDATE limit_counters SET used = GREATEST(used - CAST(:units AS bigint), 0) "
    "WHERE key = :key AND window_start = :window_start"
)
_REMOVE_EXPIRED = text(
    "DELETE FROM limit_counters WHERE ctid IN "
    "(SELECT ctid FROM limit_counters WHERE expires_at <= :now LIMIT :batch_size)"
)


def window_start(moment: datetime, window: timedelta) -> datetime:
    """Start of the fixed window of length ``window`` that holds ``moment`` (windows are aligned to the epoch)."""
    elapsed = (moment - _EPOCH) // _MICROSECOND
    length = window // _MICROSECOND
    return _EPOCH + timedelta(microseconds=elapsed - elapsed % length)


def _retry_after(quota: Quota, units: int, previous: int, current: int, elapsed: float) -> timedelta:
    """How long until ``units`` fit, from the counts a refused take saw, ``elapsed`` being the fraction of the
    current window gone: the previous window's weight falls as time passes, and at the next window the current
    count becomes the previous one."""
    limit = quota.units
    if current + units <= limit:  # the previous window's share must shrink enough within this window
        if previous <= 0:  # counts read while another take changed them: try again soon
            return timedelta(seconds=1)
        needed = 1 - (limit - current - units) / previous
        return quota.window * max(0.0, needed - elapsed)
    needed = 1 - (limit - units) / current  # in the next window, the current count weighs as the previous one
    return quota.window * ((1 - elapsed) + max(0.0, needed))


class Limiter:
    """Takes units from quotas kept in the service's database; every replica on that database shares them."""

    def __init__(self, engine: AsyncEngine, clock: Clock = utc_now) -> None:
        self._engine = engine
        self._clock = clock

    async def take(self, quota: Quota, subject: str, units: int = 1) -> Taken:
        """Count ``units`` for ``subject`` if they fit in ``quota`` now; else count nothing and say when to retry.
        Raises ValueError for more units than the quota ever allows."""
        if not 0 < units <= quota.units:
            raise ValueError(f"{units} units can never fit a quota of {quota.units} per {quota.window}")
        now = self._clock()
        start = window_start(now, quota.window)
        elapsed = (now - start) / quota.window
        previous_weight = 1 - elapsed
        key = quota.key(subject)
        async with self._engine.begin() as connection:
            row = (
                await connection.execute(
                    _TAKE,
                    {
                        "key": key,
                        "window_start": start,
                        "previous_start": start - quota.window,
                        "expires_at": start + 2 * quota.window,
                        "units": units,
                        "previous_weight": previous_weight,
                        "limit": quota.units,
                    },
                )
            ).one()
        previous_share = row.previous_used * previous_weight
        if row.taken_used is not None:
            remaining = max(0, math.floor(quota.units - previous_share - row.taken_used))
            return Taken(True, key, units, start, remaining, timedelta(0))
        remaining = max(0, math.floor(quota.units - previous_share - row.current_used))
        wait = _retry_after(quota, units, row.previous_used, row.current_used, elapsed)
        return Taken(False, key, units, start, remaining, wait)

    async def give_back(self, taken: Taken, units: int) -> None:
        """Uncount ``units`` of an allowed take (a reservation larger than what was used); never below zero."""
        if not taken.allowed or units <= 0:
            return
        async with self._engine.begin() as connection:
            await connection.execute(
                _GIVE_BACK, {"key": taken.key, "window_start": taken.window_start, "units": min(units, taken.units)}
            )

    async def remove_expired(self, batch_size: int = 1000) -> int:
        """Delete up to ``batch_size`` counters no window reads any more; returns how many went."""
        async with self._engine.begin() as connection:
            result = await connection.execute(_REMOVE_EXPIRED, {"now": self._clock(), "batch_size": batch_size})
        return int(result.rowcount)
