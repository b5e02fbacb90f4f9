"""The channels a message can travel on, behind one interface: e-mail (SMTP), SMS/WhatsApp (an HTTP gateway),
webhooks (signed HTTP POSTs to portals and agency systems), and the console for local development."""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from typing import Protocol

import httpx

from satupintu.notification.domain import ChannelKind, DeliveryFailed, http_status_is_transient


@dataclass(frozen=True)
class OutgoingMessage:
    """One attempt's message: its stable id, where it goes, and what it says."""

    message_id: str
    channel: str
    address: str
    recipient_masked: str
    template: str
    language: str
    subject: str
    body: str


class Channel(Protocol):
    """Hands messages to the outside world; raises :class:`DeliveryFailed` when the message was not accepted."""

    kind: ChannelKind

    async def send(self, message: OutgoingMessage) -> None:
        """Deliver ``message``; its ``message_id`` goes with it so the receiver can drop a repeat."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


def retry_after_seconds(value: str | None) -> float | None:
    """An HTTP ``Retry-After`` header in seconds (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def check_http_answer(response: httpx.Response, what: str) -> None:
    """Accept a 2xx answer; turn anything else into a transient or permanent :class:`DeliveryFailed`."""
    if response.is_success:
        return
    status = response.status_code
    raise DeliveryFailed(
        f"{what} answered HTTP {status} {response.reason_phrase}".strip(),
        transient=http_status_is_transient(status),
        retry_after=retry_after_seconds(response.headers.get("retry-after")),
    )


async def send_request(client: httpx.AsyncClient, what: str, request: httpx.Request) -> None:
    """Send ``request``: a 2xx answer is delivery; network failures, timeouts and error answers raise
    :class:`DeliveryFailed`, transient or permanent."""
    try:
        response = await client.send(request)
    except httpx.TimeoutException as timeout:
        raise DeliveryFailed(f"{what} timed out ({type(timeout).__name__})", transient=True) from timeout
    except httpx.TransportError as unreachable:
        raise DeliveryFailed(f"{what} unreachable ({type(unreachable).__name__})", transient=True) from unreachable
    check_http_answer(response, what)
