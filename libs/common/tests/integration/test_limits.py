"""Limits on the real database: concurrent takes of the last units (two "replicas", one table) allow exactly the
quota, a refused take counts nothing and says exactly when to retry, the window slides, reservations are given
back, keys do not share, and expired counters are removed."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from satupintu.common.database import create_engine, create_tables
from satupintu.common.limits import LimitCounter, Limiter, Quota, window_start
from satupintu.common.settings import DatabaseSettings
from satupintu.devtools.testing.clock import SettableClock
from satupintu.devtools.testing.plugin import service_database

pytestmark = pytest.mark.integration

HOUR = timedelta(hours=1)
START = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)  # a window's start: windows are aligned to the epoch


@pytest.fixture(scope="module")
async def engines(database_settings: DatabaseSettings) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """Two engines on one scratch database holding ``limit_counters``, as two replicas of a service would be."""
    await service_database(database_settings, "limits")
    owner = database_settings.owner().model_copy(update={"pool_size": 20})
    first, second = create_engine(owner, "limits"), create_engine(owner, "limits")
    await create_tables(first, [LimitCounter])
    try:
        yield first, second
    finally:
        await first.dispose()
        await second.dispose()


def fresh_quota(units: int, window: timedelta = HOUR) -> Quota:
    """A quota in a namespace no other test uses."""
    return Quota(f"test.q{uuid.uuid4().hex[:12]}", units, window)


async def test_concurrent_takes_of_the_last_units_from_two_replicas_allow_exactly_the_quota(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    clock = SettableClock(START)
    replicas = [Limiter(engine, clock) for engine in engines]
    quota = fresh_quota(50)
    first = await replicas[0].take(quota, "203.0.113.7", 45)
    assert first.allowed

    takes = await asyncio.gather(*(replicas[index % 2].take(quota, "203.0.113.7") for index in range(40)))

    assert sum(taken.allowed for taken in takes) == 5
    assert all(taken.retry_after > timedelta(0) for taken in takes if not taken.allowed)
    assert not (await replicas[1].take(quota, "203.0.113.7")).allowed


async def test_concurrent_takes_on_a_new_key_allow_exactly_the_quota(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    clock = SettableClock(START + timedelta(minutes=17))
    replicas = [Limiter(engine, clock) for engine in engines]
    quota = fresh_quota(7)

    takes = await asyncio.gather(*(replicas[index % 2].take(quota, "new") for index in range(30)))

    assert sum(taken.allowed for taken in takes) == 7


async def test_a_refused_take_counts_nothing_and_says_exactly_when_the_units_fit(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    clock = SettableClock(START)
    limiter = Limiter(engines[0], clock)
    quota = fresh_quota(100)
    assert (await limiter.take(quota, "client", 100)).allowed

    refused = await limiter.take(quota, "client", 10)

    assert not refused.allowed
    assert refused.remaining == 0
    # Next window, the 100 weigh 100 * (1 - elapsed); 10 more fit once that is 90: 6 minutes into it.
    assert refused.retry_after == HOUR + timedelta(minutes=6)
    clock.now = START + refused.retry_after - timedelta(seconds=1)
    assert not (await limiter.take(quota, "client", 10)).allowed
    clock.now = START + refused.retry_after
    assert (await limiter.take(quota, "client", 10)).allowed


async def test_the_window_slides_so_the_quota_cannot_be_spent_twice_across_its_edge(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    clock = SettableClock(START + timedelta(minutes=59))
    limiter = Limiter(engines[0], clock)
    quota = fresh_quota(100)
    assert (await limiter.take(quota, "client", 100)).allowed

    clock.now = START + HOUR + timedelta(minutes=1)  # a new fixed window, but 59/60 of the last one still counts
    assert not (await limiter.take(quota, "client", 5)).allowed
    clock.now = START + HOUR + timedelta(minutes=30)  # half of the last window's 100 counts
    half = await limiter.take(quota, "client", 50)
    assert half.allowed
    assert half.remaining == 0
    assert not (await limiter.take(quota, "client", 1)).allowed


async def test_units_given_back_can_be_taken_again(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    limiter = Limiter(engines[0], SettableClock(START))
    quota = fresh_quota(100)
    reservation = await limiter.take(quota, "client", 60)

    await limiter.give_back(reservation, 40)

    again = await limiter.take(quota, "client", 80)
    assert again.allowed
    assert again.remaining == 0


async def test_subjects_and_namespaces_do_not_share_counts(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    limiter = Limiter(engines[0], SettableClock(START))
    uploads, codes = fresh_quota(3), fresh_quota(3)

    assert (await limiter.take(uploads, "a", 3)).allowed
    assert (await limiter.take(uploads, "b", 3)).allowed
    assert (await limiter.take(codes, "a", 3)).allowed
    assert not (await limiter.take(uploads, "a")).allowed


async def test_more_units_than_a_quota_ever_allows_is_a_programming_error(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    limiter = Limiter(engines[0], SettableClock(START))

    with pytest.raises(ValueError, match="can never fit"):
        await limiter.take(fresh_quota(10), "client", 11)


async def test_counters_are_removed_once_no_window_reads_them(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    clock = SettableClock(datetime(2031, 1, 1, tzinfo=UTC))  # later than any other test's counters
    limiter = Limiter(engines[0], clock)
    quota = fresh_quota(10, window=timedelta(minutes=10))
    await limiter.take(quota, "old")
    clock.now += timedelta(minutes=10)
    await limiter.take(quota, "recent")

    clock.now = window_start(clock.now, quota.window) + timedelta(minutes=10)  # "old" is two windows back
    removed = await limiter.remove_expired()

    async with engines[0].connect() as connection:
        left = await connection.scalar(
            select(func.count()).select_from(LimitCounter).where(col(LimitCounter.key).startswith(quota.namespace))
        )
    assert removed >= 1
    assert left == 1


@pytest.mark.parametrize(
    ("namespace", "units", "window"),
    [
        ("uploads", 1, HOUR),
        ("Intake.Uploads", 1, HOUR),
        ("intake.uploads", 0, HOUR),
        ("intake.uploads", 1, timedelta(0)),
    ],
)
def test_a_quota_needs_a_namespaced_name_a_unit_and_a_window(namespace: str, units: int, window: timedelta) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (each case has its own message)
        Quota(namespace, units, window)
