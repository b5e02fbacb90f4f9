"""SMS and WhatsApp through an HTTP gateway (httpx): one POST per message, with a bearer token and the message's
stable ``Idempotency-Key``, so a retried request is not sent to the phone twice."""

from __future__ import annotations

from typing import Literal

import httpx

from satupintu.notification.channels import OutgoingMessage, send_request
from satupintu.notification.domain import ChannelKind


class SmsGatewayChannel:
    """POSTs ``{"to", "message", "route", "reference"}`` as JSON; timeouts, 429 and 5xx are transient."""

    kind = ChannelKind.SMS

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        route: Literal["sms", "whatsapp"] = "sms",
        timeout: float = 10.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._url = url
        self._token = token
        self._route = route
        self._client = client or httpx.AsyncClient(timeout=timeout)

    def request(self, message: OutgoingMessage) -> httpx.Request:
        """The gateway request of ``message``."""
        headers = {"Idempotency-Key": message.message_id}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return self._client.build_request(
            "POST",
            self._url,
            json={
                "to": message.address,
                "message": message.body,
                "route": self._route,
                "reference": message.message_id,
            },
            headers=headers,
        )

    async def send(self, message: OutgoingMessage) -> None:
        """Hand the text to the gateway."""
        await send_request(self._client, "SMS gateway", self.request(message))

    async def close(self) -> None:
        """Close the gateway's connection pool."""
        await self._client.aclose()
