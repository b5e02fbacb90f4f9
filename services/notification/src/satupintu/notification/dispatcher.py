"""The dispatcher: sends staged messages, one loop per channel kind so a slow channel never holds up the others.

Each loop claims due deliveries of its kind (``FOR UPDATE SKIP LOCKED``, so several instances share the work),
counts the attempt and leases the row in a short transaction, sends outside any transaction (rate-limited, at most
``concurrency`` at once), then records the outcome in a second transaction: sent (and ``notification.sent``
through the outbox), retried later with exponential backoff and jitter, or failed (and ``notification.failed``);
the console, which tells nobody, publishes neither.
A sender that dies mid-attempt leaves the lease to run out, and the message is tried again with the same stable id.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.clock import Clock, utc_now
from satupintu.common.crypto import DecryptionError, FieldCipher
from satupintu.common.outbox import Outbox
from satupintu.common.ratelimit import TokenBuckets
from satupintu.contract.envelope import Event, event_source
from satupintu.contract.notifications import NotificationFailed, NotificationSent
from satupintu.notification.channels import Channel, OutgoingMessage
from satupintu.notification.config import RateLimit
from satupintu.notification.domain import (
    AttemptOutcome,
    ChannelKind,
    DeliveryFailed,
    DeliveryStatus,
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


class Throttle:
    """A channel's rate limit: waits for a token of its bucket before each message (no limit when off)."""

    def __init__(self, limit: RateLimit | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._buckets = TokenBuckets(limit.per_minute, limit.burst, clock) if limit and limit.per_minute else None

    async def acquire(self) -> None:
        """Return when the channel may send one more message."""
        while self._buckets is not None:
            wait = self._buckets.take("channel")
            if wait == 0:
                return
            await asyncio.sleep(wait)


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


class Dispatcher:
    """Sends pending deliveries on every configured channel, each channel in its own loop."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        cipher: FieldCipher,
        channels: Mapping[ChannelKind, Channel],
        *,
        policy: RetryPolicy | None = None,
        rate_limits: Mapping[str, RateLimit] | None = None,
        concurrency: int = 4,
        lease_seconds: float = 120.0,
        poll_interval: float = 1.0,
        outcomes: Counter | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._outcomes = outcomes
        self._sessions = sessions
        self._outbox = outbox
        self._cipher = cipher
        self._channels = dict(channels)
        self._policy = policy or RetryPolicy()
        self._rate_limits = dict(rate_limits or {})
        self._concurrency = concurrency
        self._lease = timedelta(seconds=lease_seconds)
        self._poll_interval = poll_interval
        self._clock = clock

    async def run(self) -> None:
        """Dispatch on every channel until cancelled, then close the channels' connections."""
        try:
            async with asyncio.TaskGroup() as loops:
                for kind in self._channels:
                    loops.create_task(self._run_channel(kind), name=f"dispatch-{kind}")
        finally:
            for channel in self._channels.values():
                await channel.close()

    async def _run_channel(self, kind: ChannelKind) -> None:
        throttle = Throttle(self._rate_limits.get(kind.value))
        in_flight: set[asyncio.Task[None]] = set()
        try:
            while True:
                free = self._concurrency - len(in_flight)
                claims: list[Claim] = []
                if free > 0:
                    try:
                        claims = await self.claim(kind, free)
                    except Exception:
                        _logger.exception("claiming %s deliveries failed; trying again", kind)
                for claim in claims:
                    task = asyncio.create_task(self._attempt(kind, throttle, claim))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                if len(in_flight) >= self._concurrency:  # every slot busy: more may be due once one frees
                    await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                else:  # nothing more is due now
                    await asyncio.sleep(self._poll_interval)
        finally:
            for task in in_flight:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)

    async def claim(self, kind: ChannelKind, limit: int) -> list[Claim]:
        """Lease up to ``limit`` due deliveries of ``kind``: count the attempt, record its start, push the due time
        to the lease's end."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            repository = DeliveryRepository(session)
            claims = []
            for delivery in await repository.claim_due(kind.value, now, limit):
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
        return claims

    async def _attempt(self, kind: ChannelKind, throttle: Throttle, claim: Claim) -> None:
        failure: DeliveryFailed | None = None
        try:
            # Give up well before the lease ends, so no second sender starts while this one still might succeed.
            async with asyncio.timeout(self._lease.total_seconds() * 0.75):
                await throttle.acquire()
                await self._channels[kind].send(self._outgoing(claim))
        except DeliveryFailed as refused:
            failure = refused
        except TimeoutError:
            failure = DeliveryFailed("the attempt ran out of time", transient=True)
        except Exception as unexpected:
            _logger.exception("sending %s on %s failed unexpectedly", claim.message_id, claim.channel)
            failure = DeliveryFailed(f"unexpected {type(unexpected).__name__}", transient=True)
        try:
            await self.record(claim, failure)
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
        now = self._clock()
        async with self._sessions() as session, session.begin():
            repository = DeliveryRepository(session)
            delivery = await repository.delivery_for_update(claim.cause_event_id, claim.channel)
            kind = channel_kind(claim.channel)
            attempt = await repository.attempt(claim.message_id, claim.number)
            if delivery is None or attempt is None:
                return
            attempt.finished_at = now
            attempt.outcome = _outcome(failure).value
            attempt.detail = failure.reason if failure else None
            if delivery.status != DeliveryStatus.PENDING.value:
                return  # another attempt (after this one's lease ran out) already settled it
            latest = delivery.attempts == claim.number
            if failure is None:
                delivery.status = DeliveryStatus.SENT.value
                delivery.sent_at = now
                if kind.reaches_someone:
                    await self._outbox.add(session, self._sent(delivery, claim.number, now))
                _logger.info("sent %s on %s after %d attempt(s)", claim.message_id, claim.channel, claim.number)
            elif not latest:
                return  # a later attempt is running; it decides
            elif self._policy.gives_up(claim.number, failure):
                delivery.status = DeliveryStatus.FAILED.value
                delivery.failed_at = now
                delivery.last_error = failure.reason
                if kind.reaches_someone:
                    await self._outbox.add(session, self._failed(delivery, claim.number, failure.reason, now))
                _logger.warning("gave up on %s on %s: %s", claim.message_id, claim.channel, failure.reason)
            else:
                delay = self._policy.backoff(claim.number, failure.retry_after)
                delivery.next_attempt_at = now + timedelta(seconds=delay)
                delivery.last_error = failure.reason
                _logger.info(
                    "attempt %d of %s failed (%s); retrying in %.1fs",
                    claim.number,
                    claim.message_id,
                    failure.reason,
                    delay,
                )

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
