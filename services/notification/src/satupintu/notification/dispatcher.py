"""The dispatcher: sends staged messages, two lanes per channel kind so neither a slow channel nor a backlog of
routine messages ever holds up an urgent one.

Each lane (urgent, routine; :func:`~satupintu.notification.domain.lane_of`) of each channel kind runs its own loop
with its own slots (``concurrency`` messages in flight at most). A loop claims due deliveries of its kind and
priority (``FOR UPDATE SKIP LOCKED``, so several instances share the work), takes sending tokens for them from the
channel's rate limit kept in PostgreSQL (every replica draws from one budget; the routine lane may not spend the
share reserved for urgent messages), counts the attempt and leases the rows it got tokens for, in one short
transaction; it sends outside any transaction, then records outcomes in batches (one transaction for all the
outcomes ready at once): sent (and ``notification.sent`` through the outbox), retried later with exponential
backoff and jitter, or failed (and ``notification.failed``); the console, which tells nobody, publishes neither.
A delivery is recorded ``sent`` once: the record locks its row and settles only a pending one. A sender that dies
between the channel accepting a message and the record leaves the lease to run out, and the message is sent again
with the same stable id (at least once on the channel, once in the records; receivers drop the repeat by its id).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.clock import Clock, utc_now
from satupintu.common.crypto import DecryptionError, FieldCipher
from satupintu.common.limits import Limiter, Quota
from satupintu.common.outbox import Outbox, wait_for_wake_up
from satupintu.contract.envelope import Event, event_source
from satupintu.contract.notifications import NotificationFailed, NotificationSent
from satupintu.notification.channels import Channel, OutgoingMessage
from satupintu.notification.config import RateLimit
from satupintu.notification.domain import (
    AttemptOutcome,
    ChannelKind,
    DeliveryFailed,
    DeliveryStatus,
    Lane,
    RetryPolicy,
    channel_kind,
)
from satupintu.notification.messages import RenderedMessage
from satupintu.notification.services import CONTENT_CONTEXT, RECIPIENT_CONTEXT
from satupintu.notification.storage.repository import DeliveryRepository
from satupintu.notification.storage.tables import DeliveryAttemptRecord, DeliveryRecord

_logger = logging.getLogger(__name__)

SOURCE = event_source("notification")
ACTOR = "service:notification"
RATE_LIMIT_NAMESPACE = "notification.channel"
RECORD_BATCH = 200
"""Most outcomes recorded in one transaction."""


def channel_quota(limit: RateLimit | None) -> Quota | None:
    """A channel's rate limit as a shared sliding-window quota: ``burst`` messages per the seconds ``burst`` takes
    at ``per_minute`` (rounded up to whole seconds); None when unlimited."""
    if limit is None or limit.per_minute <= 0:
        return None
    window = max(1, math.ceil(limit.burst * 60 / limit.per_minute))
    units = max(1, limit.per_minute * window // 60)
    return Quota(RATE_LIMIT_NAMESPACE, units, timedelta(seconds=window))


class ChannelRateLimit:
    """A channel's sending tokens, taken from the quota every replica shares (``limit_counters``); the routine lane
    stops short of the urgent reserve."""

    def __init__(self, kind: ChannelKind, quota: Quota | None, limiter: Limiter | None, urgent_reserve: float) -> None:
        self._kind = kind
        self._quotas: dict[Lane, Quota] = {}
        if quota is not None and limiter is not None:
            reserve = math.floor(quota.units * urgent_reserve) if quota.units > 1 else 0
            self._quotas[Lane.URGENT] = quota
            self._quotas[Lane.ROUTINE] = Quota(quota.namespace, max(1, quota.units - reserve), quota.window)
        self._limiter = limiter

    async def take(self, lane: Lane, wanted: int) -> tuple[int, float]:
        """Take up to ``wanted`` tokens for ``lane``: how many were granted and, when none, seconds until one may."""
        quota = self._quotas.get(lane)
        if quota is None or self._limiter is None or wanted <= 0:
            return wanted, 0.0
        asked = min(wanted, quota.units)
        taken = await self._limiter.take(quota, self._kind.value, asked)
        if not taken.allowed and 0 < taken.remaining < asked:
            asked = taken.remaining
            taken = await self._limiter.take(quota, self._kind.value, asked)
        if taken.allowed:
            return asked, 0.0
        return 0, max(taken.retry_after.total_seconds(), 0.01)


@dataclass(frozen=True)
class Claim:
    """One leased attempt at a delivery, as the sender needs it."""

    cause_event_id: str
    channel: str
    message_id: str
    number: int
    template: str
    language: str
    recipient_masked: str
    recipient_ciphertext: str
    content_ciphertext: str


Outcome = tuple[Claim, "DeliveryFailed | None"]


class _Recorder:
    """Records a lane's outcomes in batches: whatever finished while the previous batch was being written goes in
    the next transaction, so a backlog costs a commit per batch, not per message."""

    def __init__(self, record: Callable[[Sequence[Outcome]], Awaitable[None]]) -> None:
        self._record = record
        self._queue: asyncio.Queue[tuple[Claim, DeliveryFailed | None, asyncio.Future[None]]] = asyncio.Queue()

    async def record(self, claim: Claim, failure: DeliveryFailed | None) -> None:
        """Return once the outcome of ``claim`` is recorded (raise if recording it failed)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((claim, failure, done))
        await done

    async def run(self) -> None:
        """Write the queued outcomes, a batch per transaction, until cancelled."""
        while True:
            batch = [await self._queue.get()]
            while len(batch) < RECORD_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._record([(claim, failure) for claim, failure, _ in batch])
            except Exception as trouble:
                for _, _, done in batch:
                    if not done.done():
                        done.set_exception(trouble)
            else:
                for _, _, done in batch:
                    if not done.done():
                        done.set_result(None)


class Dispatcher:
    """Sends pending deliveries on every configured channel, each channel in two lanes (urgent, routine)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        cipher: FieldCipher,
        channels: Mapping[ChannelKind, Channel],
        *,
        policy: RetryPolicy | None = None,
        rate_limits: Mapping[str, RateLimit] | None = None,
        limiter: Limiter | None = None,
        urgent_reserve: float = 0.2,
        concurrency: int | Mapping[str, int] = 4,
        urgent_concurrency: int = 4,
        lease_seconds: float = 120.0,
        poll_interval: float = 1.0,
        urgent_poll_interval: float = 0.2,
        outcomes: Counter | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._outcomes = outcomes
        self._sessions = sessions
        self._outbox = outbox
        self._cipher = cipher
        self._channels = dict(channels)
        self._policy = policy or RetryPolicy()
        limits = dict(rate_limits or {})
        self._rate_limits = {
            kind: ChannelRateLimit(kind, channel_quota(limits.get(kind.value)), limiter, urgent_reserve)
            for kind in self._channels
        }
        self._concurrency = concurrency
        self._urgent_concurrency = urgent_concurrency
        self._lease = timedelta(seconds=lease_seconds)
        self._poll_interval = poll_interval
        self._urgent_poll_interval = urgent_poll_interval
        self._clock = clock

    def slots(self, kind: ChannelKind, lane: Lane) -> int:
        """How many messages of ``lane`` are sent at once on ``kind``."""
        if lane is Lane.URGENT:
            return self._urgent_concurrency
        if isinstance(self._concurrency, int):
            return self._concurrency
        return self._concurrency.get(kind.value, 4)

    async def run(self) -> None:
        """Dispatch on every channel until cancelled, then close the channels' connections."""
        try:
            async with asyncio.TaskGroup() as loops:
                for kind in self._channels:
                    for lane in Lane:
                        loops.create_task(self._run_lane(kind, lane), name=f"dispatch-{kind}-{lane}")
        finally:
            for channel in self._channels.values():
                await channel.close()

    async def _run_lane(self, kind: ChannelKind, lane: Lane) -> None:
        slots = self.slots(kind, lane)
        sending = asyncio.Semaphore(slots)
        # Twice as many claimed as sending: the next batch is claimed and waits for slots while the last one is
        # sent and recorded, so database round trips overlap with sending instead of alternating with it.
        held = 2 * slots
        low_water = 1 if lane is Lane.URGENT else max(1, slots // 2)
        poll_interval = self._urgent_poll_interval if lane is Lane.URGENT else self._poll_interval
        recorder = _Recorder(self.record_batch)
        in_flight: set[asyncio.Task[None]] = set()
        freed = asyncio.Event()

        def done(task: asyncio.Task[None]) -> None:
            in_flight.discard(task)
            freed.set()

        recording = asyncio.create_task(recorder.run(), name=f"record-{kind}-{lane}")
        try:
            while True:
                freed.clear()
                free = held - len(in_flight)
                claims: list[Claim] = []
                pause = poll_interval
                if free > 0:
                    try:
                        claims, pause = await self.claim(kind, free, lane=lane)
                    except Exception:
                        _logger.exception("claiming %s %s deliveries failed; trying again", lane, kind)
                for claim in claims:
                    task = asyncio.create_task(self._attempt(kind, sending, recorder, claim))
                    in_flight.add(task)
                    task.add_done_callback(done)
                if claims and len(claims) == free and pause == 0:
                    # Every slot busy, and more may be due: claim again once enough slots free (the routine lane
                    # waits for half of them, so a backlog is claimed and recorded in batches, not one by one).
                    while in_flight and held - len(in_flight) < low_water:
                        await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                    continue
                # Nothing more is due now, or no token yet, or no free slot: look again after a while or when a
                # slot frees.
                await wait_for_wake_up(freed, within=min(pause, poll_interval) if pause else poll_interval)
        finally:
            for task in in_flight:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)
            recording.cancel()
            await asyncio.gather(recording, return_exceptions=True)

    async def claim(self, kind: ChannelKind, limit: int, *, lane: Lane = Lane.ROUTINE) -> tuple[list[Claim], float]:
        """Lease up to ``limit`` due deliveries of ``kind`` in ``lane``, as many as the channel's rate limit has
        tokens for: count the attempt, record its start, push the due time to the lease's end. With the claims, the
        seconds until the rate limit has a token again (0 unless it ran out; the poll interval when nothing is due)."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            repository = DeliveryRepository(session)
            due = await repository.claim_due(kind.value, lane.priority, now, limit)
            if not due:
                return [], self._poll_interval
            # Tokens are taken while the rows are locked, and only the rows granted one are leased: the others
            # stay due, untouched, for the next claim of any replica.
            granted, pause = await self._rate_limits[kind].take(lane, len(due))
            claims = []
            for delivery in due[:granted]:
                delivery.attempts += 1
                delivery.next_attempt_at = now + self._lease
                repository.add_attempt(
                    DeliveryAttemptRecord(message_id=delivery.message_id, number=delivery.attempts, started_at=now)
                )
                claims.append(
                    Claim(
                        cause_event_id=delivery.cause_event_id,
                        channel=delivery.channel,
                        message_id=delivery.message_id,
                        number=delivery.attempts,
                        template=delivery.template,
                        language=delivery.language,
                        recipient_masked=delivery.recipient_masked,
                        recipient_ciphertext=delivery.recipient_ciphertext,
                        content_ciphertext=delivery.content_ciphertext,
                    )
                )
        return claims, pause

    async def _attempt(self, kind: ChannelKind, sending: asyncio.Semaphore, recorder: _Recorder, claim: Claim) -> None:
        failure: DeliveryFailed | None = None
        try:
            # Give up well before the lease ends (waiting for a slot included), so no second sender starts while
            # this one still might succeed.
            async with asyncio.timeout(self._lease.total_seconds() * 0.75), sending:
                await self._channels[kind].send(self._outgoing(claim))
        except DeliveryFailed as refused:
            failure = refused
        except TimeoutError:
            failure = DeliveryFailed("the attempt ran out of time", transient=True)
        except Exception as unexpected:
            _logger.exception("sending %s on %s failed unexpectedly", claim.message_id, claim.channel)
            failure = DeliveryFailed(f"unexpected {type(unexpected).__name__}", transient=True)
        try:
            await recorder.record(claim, failure)
        except Exception:
            _logger.exception("recording the outcome of %s failed; its lease will run out", claim.message_id)

    def _outgoing(self, claim: Claim) -> OutgoingMessage:
        try:
            address = self._cipher.decrypt(claim.recipient_ciphertext, RECIPIENT_CONTEXT + claim.message_id)
            content = RenderedMessage.from_json(
                self._cipher.decrypt(claim.content_ciphertext, CONTENT_CONTEXT + claim.message_id)
            )
        except DecryptionError as unreadable:
            raise DeliveryFailed(f"the stored message cannot be decrypted: {unreadable}", transient=False) from None
        return OutgoingMessage(
            message_id=claim.message_id,
            channel=claim.channel,
            address=address,
            recipient_masked=claim.recipient_masked,
            template=claim.template,
            language=claim.language,
            subject=content.subject,
            body=content.body,
        )

    async def record(self, claim: Claim, failure: DeliveryFailed | None) -> None:
        """Record how attempt ``claim`` ended and decide the delivery: sent, retried later, or failed."""
        await self.record_batch([(claim, failure)])

    async def record_batch(self, outcomes: Sequence[Outcome]) -> None:
        """Record how each attempt ended and decide its delivery, all in one transaction."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            repository = DeliveryRepository(session)
            deliveries = await repository.deliveries_for_update([(c.cause_event_id, c.channel) for c, _ in outcomes])
            attempts = await repository.attempts_numbered([(c.message_id, c.number) for c, _ in outcomes])
            told = False
            for claim, failure in outcomes:
                delivery = deliveries.get((claim.cause_event_id, claim.channel))
                attempt = attempts.get((claim.message_id, claim.number))
                if delivery is None or attempt is None:
                    continue
                told = await self._settle(session, delivery, attempt, claim, failure, now) or told
            if told:
                await self._outbox.wake_relay(session)  # once for the batch's outcome events

    async def _settle(  # noqa: PLR0917 (one outcome's parts, private)
        self,
        session: AsyncSession,
        delivery: DeliveryRecord,
        attempt: DeliveryAttemptRecord,
        claim: Claim,
        failure: DeliveryFailed | None,
        now: datetime,
    ) -> bool:
        """Settle one attempt's outcome; whether an outcome event was emitted."""
        kind = channel_kind(claim.channel)
        attempt.finished_at = now
        attempt.outcome = _outcome(failure).value
        attempt.detail = failure.reason if failure else None
        if delivery.status != DeliveryStatus.PENDING.value:
            return False  # another attempt (after this one's lease ran out) already settled it
        latest = delivery.attempts == claim.number
        if failure is None:
            delivery.status = DeliveryStatus.SENT.value
            delivery.sent_at = now
            if kind.reaches_someone:
                await self._outbox.add(session, self._sent(delivery, claim.number, now), wake_relay=False)
            _logger.debug("sent %s on %s after %d attempt(s)", claim.message_id, claim.channel, claim.number)
            return kind.reaches_someone
        if not latest:
            return False  # a later attempt is running; it decides
        if self._policy.gives_up(claim.number, failure):
            delivery.status = DeliveryStatus.FAILED.value
            delivery.failed_at = now
            delivery.last_error = failure.reason
            if kind.reaches_someone:
                await self._outbox.add(
                    session, self._failed(delivery, claim.number, failure.reason, now), wake_relay=False
                )
            _logger.warning("gave up on %s on %s: %s", claim.message_id, claim.channel, failure.reason)
            return kind.reaches_someone
        delay = self._policy.backoff(claim.number, failure.retry_after)
        delivery.next_attempt_at = now + timedelta(seconds=delay)
        delivery.last_error = failure.reason
        _logger.info(
            "attempt %d of %s failed (%s); retrying in %.1fs", claim.number, claim.message_id, failure.reason, delay
        )
        return False

    def _sent(self, delivery: DeliveryRecord, attempts: int, now: datetime) -> Event[Any]:
        if self._outcomes is not None:
            self._outcomes.labels(delivery.channel.split(":")[0], "sent").inc()
        return self._event(
            delivery,
            NotificationSent(
                application_id=delivery.application_id,
                cause_event_id=delivery.cause_event_id,
                channel=delivery.channel,
                template=delivery.template,
                language=delivery.language,
                recipient=delivery.recipient_masked,
                attempts=attempts,
                sent_at=now,
            ),
        )

    def _failed(self, delivery: DeliveryRecord, attempts: int, reason: str, now: datetime) -> Event[Any]:
        if self._outcomes is not None:
            self._outcomes.labels(delivery.channel.split(":")[0], "failed").inc()
        return self._event(
            delivery,
            NotificationFailed(
                application_id=delivery.application_id,
                cause_event_id=delivery.cause_event_id,
                channel=delivery.channel,
                template=delivery.template,
                language=delivery.language,
                recipient=delivery.recipient_masked,
                attempts=attempts,
                reason=reason,
                failed_at=now,
            ),
        )

    @staticmethod
    def _event(delivery: DeliveryRecord, payload: NotificationSent | NotificationFailed) -> Event[Any]:
        return Event(
            payload=payload,
            source=SOURCE,
            subject=delivery.application_id,
            actor=ACTOR,
            correlation_id=delivery.correlation_id or delivery.cause_event_id,
            causation_id=delivery.cause_event_id,
            traceparent=delivery.traceparent,
        )


def _outcome(failure: DeliveryFailed | None) -> AttemptOutcome:
    if failure is None:
        return AttemptOutcome.SENT
    return AttemptOutcome.TRANSIENT_FAILURE if failure.transient else AttemptOutcome.PERMANENT_FAILURE
