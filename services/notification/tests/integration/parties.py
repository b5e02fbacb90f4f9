"""The real outside parties of notification's integration tests, all in the test process on loopback ports: an
SMTP server (aiosmtpd), an SMS gateway and a webhook receiver (Starlette apps served by uvicorn)."""

from __future__ import annotations

import asyncio
import secrets
import socket
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

import httpx
import uvicorn
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import FastAPI
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from satupintu.devtools.testing.waiting import eventually
from satupintu.notification.config import NotificationSettings
from satupintu.notification.webhooks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    InvalidWebhookSignature,
    verify_webhook_signature,
)

PORTAL_SECRET = "whsec-portal-" + secrets.token_urlsafe(16)
PUBLIC_BASE_URL = "https://mpp.example.go.id"
GATEWAY_TOKEN = "gateway-test-token"


class MailServer:
    """An SMTP server that keeps what it accepts; replies can be scripted per recipient (e.g. ``451``, ``550``)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.scripts: dict[str, list[str]] = {}
        self.refusals: list[tuple[str, str]] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        script = self.scripts.get(address)
        if script:
            reply = script.pop(0)
            self.refusals.append((address, reply))
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        content = content.replace(b"\r\n", b"\n")  # as a mail client stores it, not as SMTP carries it
        self.messages.append(cast(EmailMessage, message_from_bytes(content, policy=policy.default)))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        """The messages accepted for ``address``."""
        return [message for message in self.messages if message["To"] == address]

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: SMTP(self, hostname="mail.test"), "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@dataclass
class GatewayRequest:
    """One request the SMS gateway received."""

    to: str
    message: str
    idempotency_key: str
    authorization: str
    status: int


@dataclass
class Gateway:
    """An SMS gateway: answers scripted statuses per phone number (200 when the script is spent), and can hold a
    number's requests until released, to play a slow channel."""

    requests: list[GatewayRequest] = field(default_factory=list)
    scripts: dict[str, list[int]] = field(default_factory=dict)
    holds: dict[str, asyncio.Event] = field(default_factory=dict)

    async def receive(self, request: Request) -> Response:
        body = await request.json()
        phone = body["to"]
        if phone in self.holds:
            await self.holds[phone].wait()
        script = self.scripts.get(phone)
        status = script.pop(0) if script else 200
        self.requests.append(
            GatewayRequest(
                to=phone,
                message=body["message"],
                idempotency_key=request.headers.get("idempotency-key", ""),
                authorization=request.headers.get("authorization", ""),
                status=status,
            )
        )
        return JSONResponse({"accepted": status < 300}, status_code=status)

    def to(self, phone: str) -> list[GatewayRequest]:
        """The requests for ``phone``, in arrival order."""
        return [request for request in self.requests if request.to == phone]


@dataclass
class ReceivedWebhook:
    """A webhook the receiver checked and accepted."""

    body: dict[str, Any]
    raw: bytes
    timestamp: str
    signature: str
    idempotency_key: str
    event_type: str


@dataclass
class WebhookReceiver:
    """A portal that accepts only webhooks whose signature checks with its secret (401 otherwise)."""

    secret: str
    accepted: list[ReceivedWebhook] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    async def receive(self, request: Request) -> Response:
        raw = await request.body()
        timestamp = request.headers.get(TIMESTAMP_HEADER)
        signature = request.headers.get(SIGNATURE_HEADER)
        try:
            verify_webhook_signature(self.secret, timestamp, raw, signature)
        except InvalidWebhookSignature as refused:
            self.refused.append(str(refused))
            return JSONResponse({"detail": str(refused)}, status_code=401)
        self.accepted.append(
            ReceivedWebhook(
                body=await request.json(),
                raw=raw,
                timestamp=timestamp or "",
                signature=signature or "",
                idempotency_key=request.headers.get("idempotency-key", ""),
                event_type=request.headers.get("x-satupintu-event-type", ""),
            )
        )
        return Response(status_code=204)

    def about(self, application_id: str) -> list[ReceivedWebhook]:
        """The accepted webhooks about ``application_id``."""
        return [hook for hook in self.accepted if hook.body["application_id"] == application_id]


class LoopbackHttpServer:
    """A Starlette app served by uvicorn on a free loopback port, in this event loop."""

    def __init__(self, app: Starlette) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        await eventually(lambda: value_of(self._server.started), what="loopback HTTP server started")

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await self._task
        self._socket.close()


async def value_of(value: Any) -> Any:
    """``value``, as an awaitable probe for ``eventually``."""
    return value


@dataclass
class Outside:
    """Everything outside notification that the tests watch."""

    mail: MailServer
    gateway: Gateway
    portal: WebhookReceiver
    gateway_url: str
    portal_url: str


@dataclass
class Notification:
    """The notification service under test, with an operator's HTTP client."""

    app: FastAPI
    client: httpx.AsyncClient
    settings: NotificationSettings
    operator_token: str
    auditor_token: str

    async def deliveries(self, application_id: str) -> list[dict[str, Any]]:
        """``GET /notifications`` as an operator."""
        answer = await self.client.get(
            "/notifications",
            params={"application_id": application_id},
            headers={"Authorization": f"Bearer {self.operator_token}"},
        )
        assert answer.status_code == 200, answer.text
        deliveries: list[dict[str, Any]] = answer.json()["deliveries"]
        return deliveries

    async def drained(self) -> None:
        """Wait until every event committed so far is published (the outbox is empty), so reading a topic then
        shows all of them."""

        async def pending() -> int:
            async with self.app.state.runtime.sessions() as session:
                count: int = (await session.execute(text("SELECT count(*) FROM outbox"))).scalar_one()
                return count

        await eventually(pending, lambda count: count == 0, what="notification's outbox drained")

    async def settled(self, application_id: str, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Wait until ``count`` deliveries about the application are sent or failed; return them all."""

        async def probe() -> list[dict[str, Any]]:
            return await self.deliveries(application_id)

        return await eventually(
            probe,
            lambda found: len(found) >= count and all(d["status"] != "pending" for d in found),
            timeout=timeout,
            what=f"{count} deliveries about {application_id} settled",
        )
