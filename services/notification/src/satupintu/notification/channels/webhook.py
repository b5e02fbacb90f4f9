"""Webhooks for portals and agency systems: the event as JSON, POSTed to each subscriber, signed with its secret
(see :mod:`satupintu.notification.webhooks`), with the message's stable ``Idempotency-Key``."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import httpx

from satupintu.notification.channels import OutgoingMessage, send_request
from satupintu.notification.config import WebhookSubscription
from satupintu.notification.domain import ChannelKind, DeliveryFailed
from satupintu.notification.webhooks import (
    EVENT_TYPE_HEADER,
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    webhook_signature,
)


class WebhookChannel:
    """POSTs a message's JSON body to the subscriber named in its address, signed at the moment of sending."""

    kind = ChannelKind.WEBHOOK

    def __init__(
        self,
        subscriptions: Sequence[WebhookSubscription],
        *,
        timeout: float = 10.0,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._subscriptions = {subscription.name: subscription for subscription in subscriptions}
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._clock = clock

    def request(self, message: OutgoingMessage) -> httpx.Request:
        """The signed request of ``message``; a subscriber no longer configured is a permanent failure."""
        subscription = self._subscriptions.get(message.address)
        if subscription is None:
            raise DeliveryFailed(f"webhook subscriber {message.address!r} is no longer configured", transient=False)
        body = message.body.encode()
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json",
            IDEMPOTENCY_HEADER: message.message_id,
            EVENT_TYPE_HEADER: message.template,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: webhook_signature(subscription.secret.get_secret_value(), timestamp, body),
        }
        return self._client.build_request("POST", subscription.url, content=body, headers=headers)

    async def send(self, message: OutgoingMessage) -> None:
        """POST the event to its subscriber."""
        await send_request(self._client, f"webhook {message.address}", self.request(message))

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
