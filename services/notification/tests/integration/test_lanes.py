"""The dispatcher on the real database, with channels the tests hold and release: an urgent message is sent while a
backlog of routine ones is still waiting, no channel has more messages in flight than its slots, two dispatchers on
one database together keep to the channel's rate limit, and a message two attempts both delivered is recorded sent
once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import col, select

from satupintu.common.crypto import FieldCipher
from satupintu.common.database import create_engine, session_factory
from satupintu.common.limits import Limiter, window_start
from satupintu.common.outbox import Outbox, OutboxMessage
from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.devtools.testing.clock import SettableClock
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.waiting import eventually
from satupintu.notification.channels import OutgoingMessage
from satupintu.notification.config import RateLimit
from satupintu.notification.dispatcher import Claim, Dispatcher
from satupintu.notification.domain import ChannelKind, DeliveryStatus, Lane, lane_of, message_id
from satupintu.notification.messages import RenderedMessage
from satupintu.notification.services import CONTENT_CONTEXT, RECIPIENT_CONTEXT
from satupintu.notification.storage.tables import DeliveryRecord

pytestmark = pytest.mark.integration

ROUTINE = "application.submitted"
URGENT = "one_time_code"


@dataclass
class HeldChannel:
    """A channel that counts what is in flight and holds the templates in ``held`` until the test releases them."""

    kind: ChannelKind = ChannelKind.CONSOLE
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    held: set[str] = field(default_factory=set)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    in_flight: int = 0
    most_in_flight: int = 0
    sent: list[tuple[str, str, datetime]] = field(default_factory=list)
    """(message id, template, the clock's time) of each message accepted, in order."""

    async def send(self, message: OutgoingMessage) -> None:
        """Accept ``message``, after the test's release when its template is held."""
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if message.template in self.held:
                await self.release.wait()
            self.sent.append((message.message_id, message.template, self.clock()))
        finally:
            self.in_flight -= 1

    async def close(self) -> None:
        """Nothing to release."""


@dataclass
class Database:
    """Notification's schema in a database of this module's own: no other test's deliveries are claimed here."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    cipher: FieldCipher


@pytest.fixture(scope="module")
async def database(database_settings: DatabaseSettings) -> AsyncIterator[Database]:
    """A migrated notification database of this module's own."""
    settings = database_settings.model_copy(update={"name_prefix": f"{database_settings.name_prefix}lanes_"})
    await service_database(settings, "notification")
    engine = create_engine(settings, "notification")
    cipher = FieldCipher({"test": os.urandom(32)}, "test")
    try:
        yield Database(engine, session_factory(engine), cipher)
    finally:
        await engine.dispose()


@pytest.fixture
async def empty(database: Database) -> Database:
    """The module's database with no deliveries, attempts, outcome events or rate-limit counters."""
    async with database.engine.begin() as connection:
        for table in ("delivery_attempts", "deliveries", "outbox", "limit_counters"):
            await connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608 (fixed table names)
    return database


async def stage(database: Database, template: str, count: int, *, kind: ChannelKind, due: datetime) -> list[str]:
    """Stage ``count`` pending messages with ``template`` on ``kind``, due at ``due``; their message ids."""
    ids = []
    async with database.sessions() as session, session.begin():
        for _ in range(count):
            cause = str(uuid.uuid4())
            stable_id = message_id(cause, kind.value)
            session.add(
                DeliveryRecord(
                    cause_event_id=cause,
                    channel=kind.value,
                    kind=kind.value,
                    message_id=stable_id,
                    application_id=cause,
                    template=template,
                    language="id",
                    recipient_ciphertext=database.cipher.encrypt("siti@example.id", RECIPIENT_CONTEXT + stable_id),
                    recipient_masked="s***@example.id",
                    content_ciphertext=database.cipher.encrypt(
                        RenderedMessage("Subjek", "Isi").to_json(), CONTENT_CONTEXT + stable_id
                    ),
                    status=DeliveryStatus.PENDING.value,
                    priority=lane_of(template).priority,
                    next_attempt_at=due,
                    created_at=due,
                )
            )
            ids.append(stable_id)
    return ids


async def in_flight(channel: HeldChannel) -> int:
    """How many messages ``channel`` holds right now."""
    return channel.in_flight


async def count_sent(database: Database, template: str | None = None) -> int:
    """How many deliveries (with ``template``) are recorded sent."""
    statement = select(func.count()).where(DeliveryRecord.status == DeliveryStatus.SENT.value)
    if template is not None:
        statement = statement.where(DeliveryRecord.template == template)
    async with database.sessions() as session:
        return int((await session.execute(statement)).scalar_one())


def exactly(expected: int) -> Callable[[int], bool]:
    """The condition that a count is ``expected``."""
    return lambda count: count == expected


def dispatcher(database: Database, channel: HeldChannel, **options: Any) -> Dispatcher:
    """A dispatcher of ``channel`` on the module's database, polling often."""
    options.setdefault("poll_interval", 0.02)
    options.setdefault("urgent_poll_interval", 0.02)
    return Dispatcher(
        database.sessions,
        Outbox(KafkaSettings()),
        database.cipher,
        {channel.kind: channel},
        **options,
    )


@contextlib.asynccontextmanager
async def dispatching(*dispatchers: Dispatcher) -> AsyncIterator[None]:
    """Run ``dispatchers`` for the block."""
    tasks = [asyncio.create_task(each.run()) for each in dispatchers]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_one_time_code_is_sent_while_a_backlog_of_routine_messages_waits(empty: Database) -> None:
    earlier = datetime.now(UTC) - timedelta(minutes=5)
    routine = await stage(empty, ROUTINE, 200, kind=ChannelKind.CONSOLE, due=earlier)
    channel = HeldChannel(held={ROUTINE})

    async with dispatching(dispatcher(empty, channel, concurrency=4, urgent_concurrency=2)):
        await eventually(lambda: in_flight(channel), lambda busy: busy == 4, what="routine in flight")
        (code,) = await stage(empty, URGENT, 1, kind=ChannelKind.CONSOLE, due=datetime.now(UTC))
        await eventually(lambda: count_sent(empty, URGENT), lambda sent: sent == 1, what="the code sent")
        assert await count_sent(empty, ROUTINE) == 0  # every routine slot still held: the code did not wait for one
        channel.release.set()
        await eventually(lambda: count_sent(empty, ROUTINE), lambda sent: sent == len(routine), what="backlog drained")

    order = [sent_id for sent_id, _, _ in channel.sent]
    assert order[0] == code
    assert sorted(order[1:]) == sorted(routine)


async def test_urgent_messages_are_claimed_before_routine_ones_due_earlier(empty: Database) -> None:
    now = datetime.now(UTC)
    await stage(empty, ROUTINE, 5, kind=ChannelKind.CONSOLE, due=now - timedelta(minutes=10))
    (bill,) = await stage(empty, "payment.billed", 1, kind=ChannelKind.CONSOLE, due=now)
    one = dispatcher(empty, HeldChannel())

    urgent, _ = await one.claim(ChannelKind.CONSOLE, 10, lane=Lane.URGENT)
    routine, _ = await one.claim(ChannelKind.CONSOLE, 10, lane=Lane.ROUTINE)

    assert [claim.message_id for claim in urgent] == [bill]
    assert len(routine) == 5
    assert bill not in {claim.message_id for claim in routine}


async def test_a_channel_never_has_more_routine_messages_in_flight_than_its_slots(empty: Database) -> None:
    staged = await stage(empty, ROUTINE, 30, kind=ChannelKind.CONSOLE, due=datetime.now(UTC) - timedelta(seconds=1))
    channel = HeldChannel(held={ROUTINE})

    async with dispatching(dispatcher(empty, channel, concurrency=3)):
        await eventually(lambda: in_flight(channel), lambda busy: busy == 3, what="three in flight")
        channel.release.set()
        await eventually(lambda: count_sent(empty), lambda sent: sent == len(staged), what="all sent")

    assert channel.most_in_flight == 3


async def test_two_dispatchers_on_one_database_together_keep_to_the_channels_rate_limit(empty: Database) -> None:
    window = timedelta(seconds=5)
    clock = SettableClock(window_start(datetime.now(UTC), window))
    limit = RateLimit(per_minute=60, burst=5)  # 5 messages per 5-second window, shared
    staged = await stage(empty, ROUTINE, 20, kind=ChannelKind.CONSOLE, due=clock() - timedelta(seconds=1))
    channel = HeldChannel(clock=clock)
    replicas = [
        dispatcher(
            empty,
            channel,
            rate_limits={"console": limit},
            limiter=Limiter(empty.engine, clock),  # each its own limiter: they share only the database
            urgent_reserve=0,
            concurrency=4,
            clock=clock,
        )
        for _ in range(2)
    ]

    async with dispatching(*replicas):
        for step in range(1, 5):
            await eventually(lambda: count_sent(empty), exactly(5 * step), what=f"{5 * step} sent")
            clock.advance(2 * window)  # the sliding window forgets the last one's sends entirely

    per_window = Counter(window_start(when, window) for _, _, when in channel.sent)
    assert sum(per_window.values()) == len(staged)
    assert max(per_window.values()) <= 5


async def test_a_message_two_attempts_both_delivered_is_recorded_sent_once(empty: Database) -> None:
    clock = SettableClock()
    (staged,) = await stage(empty, ROUTINE, 1, kind=ChannelKind.EMAIL, due=clock() - timedelta(seconds=1))
    one = dispatcher(empty, HeldChannel(kind=ChannelKind.EMAIL), lease_seconds=30, clock=clock)
    (first,) = (await one.claim(ChannelKind.EMAIL, 1))[0]
    clock.advance(timedelta(seconds=60))  # the first attempt's lease runs out: another sender claims it
    second: Claim = (await one.claim(ChannelKind.EMAIL, 1))[0][0]

    await one.record_batch([(second, None)])
    await one.record_batch([(first, None)])  # the first sender comes back late: it also got the message through

    async with empty.sessions() as session:
        delivery = (
            await session.execute(select(DeliveryRecord).where(DeliveryRecord.message_id == staged))
        ).scalar_one()
        told = (
            await session.execute(select(func.count()).where(col(OutboxMessage.event_type) == "notification.sent"))
        ).scalar_one()
    assert (delivery.status, delivery.attempts, told) == (DeliveryStatus.SENT.value, 2, 1)
    assert (first.number, second.number) == (1, 2)
