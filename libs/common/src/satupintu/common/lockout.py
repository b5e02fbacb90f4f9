"""Locking a subject out after too many failed attempts, on the shared limiter (decision 0015): wrong one-time codes
per NIK, wrong NIKs per tracking code (decision 0018). Held in the service's PostgreSQL database, so the lock holds
across replicas and restarts.

Every attempt reserves a unit of the subject's quota before it is checked, so a subject that is locked is refused
whether the attempt would have been right or not (a right guess gets no answer while locked); a right attempt gives
its unit back, a wrong one keeps it. The wrong attempt that takes the last unit starts the lock; the lock lasts until
the sliding window lets a unit in again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from satupintu.common.limits import Limiter, Quota, Taken
from satupintu.common.problems import Problem


class LockedOut(Exception):
    """The subject has had too many failed attempts; nothing is checked until ``retry_after`` has passed."""

    def __init__(self, quota: Quota, retry_after: timedelta) -> None:
        super().__init__(f"too many failed attempts; try again in {retry_after_seconds(retry_after)} seconds")
        self.quota = quota
        self.retry_after = retry_after

    @property
    def retry_after_seconds(self) -> int:
        """``Retry-After`` in whole seconds (at least one)."""
        return retry_after_seconds(self.retry_after)


def retry_after_seconds(wait: timedelta) -> int:
    """A wait as ``Retry-After`` says it: whole seconds, rounded up, at least one."""
    return max(1, math.ceil(wait.total_seconds()))


@dataclass(frozen=True)
class Attempt:
    """One reserved attempt; say how it went with :meth:`succeeded` or :meth:`failed`."""

    _limiter: Limiter
    _taken: Taken

    async def succeeded(self) -> None:
        """The attempt was right: it does not count."""
        await self._limiter.give_back(self._taken, self._taken.units)

    def failed(self) -> bool:
        """The attempt was wrong: it counts. True when it was the last one allowed, so the lock starts now."""
        return self._taken.remaining <= 0


class Lockout:
    """At most ``quota.units`` failed attempts per subject in any ``quota.window``."""

    def __init__(self, limiter: Limiter, quota: Quota) -> None:
        self._limiter = limiter
        self.quota = quota

    async def attempt(self, subject: str) -> Attempt:
        """Reserve an attempt for ``subject``; raises :class:`LockedOut` when none is left."""
        taken = await self._limiter.take(self.quota, subject)
        if not taken.allowed:
            raise LockedOut(self.quota, taken.retry_after)
        return Attempt(self._limiter, taken)


def locked_problem(locked: LockedOut, field: str) -> Problem:
    """The answer to a request refused by a lock: 429 problem+json naming the ``field`` checked, with
    ``Retry-After``. Nothing of the request was stored, sent or published."""
    return Problem(
        429,
        "locked",
        f"Too many attempts; nothing was checked or changed. Try again in {locked.retry_after_seconds} seconds.",
        errors=[{"field": field, "message": "too many attempts: locked for now", "code": "locked"}],
        headers={"Retry-After": str(locked.retry_after_seconds)},
    )
