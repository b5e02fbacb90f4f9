"""What each channel puts on the wire, and how it reads the answer: stable ids in ``Message-ID`` and
``Idempotency-Key``, signed webhooks, and transient or permanent failures (httpx's mock transport answers)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr

from satupintu.notification.channels import OutgoingMessage
from satupintu.notification.channels.gateway import SmsGatewayChannel
from satupintu.notification.channels.smtp import EmailChannel, SmtpConfig
from satupintu.notification.channels.webhook import WebhookChannel
from satupintu.notification.config import RateLimit, WebhookSubscription
from satupintu.notification.dispatcher import channel_quota
from satupintu.notification.domain import DeliveryFailed
from satupintu.notification.webhooks import verify_webhook_signature

pytestmark = pytest.mark.unit

MESSAGE_ID = "2f0e4c8e-8a63-5b1f-9c39-5d1f3f0f2c11"


def outgoing(
    channel: str = "sms", address: str = "+6281234567890", body: str = "Permohonan diterima"
) -> OutgoingMessage:
    return OutgoingMessage(
        message_id=MESSAGE_ID,
        channel=channel,
        address=address,
        recipient_masked="**********7890",
        template="application.submitted",
        language="id",
        subject="Permohonan SKCK diterima: SP-1",
        body=body,
    )


def gateway(answer: Callable[[httpx.Request], httpx.Response]) -> SmsGatewayChannel:
    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    return SmsGatewayChannel("https://gateway.example/messages", "gw-token", client=client)


def test_email_carries_the_stable_message_id_subject_and_language() -> None:
    channel = EmailChannel(SmtpConfig(host="smtp.example", message_id_domain="notify.example"))
    mail = channel.compose(outgoing("email", "siti@example.id", "Yth. Siti,\n"))

    assert mail["Message-ID"] == f"<{MESSAGE_ID}@notify.example>"
    assert mail["To"] == "siti@example.id"
    assert mail["Subject"] == "Permohonan SKCK diterima: SP-1"
    assert mail["Content-Language"] == "id"
    assert mail.get_content() == "Yth. Siti,\n"


async def test_gateway_request_carries_token_idempotency_key_and_text() -> None:
    seen: list[httpx.Request] = []

    def accept(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202, json={"id": "gw-1"})

    await gateway(accept).send(outgoing())

    [request] = seen
    assert request.headers["Idempotency-Key"] == MESSAGE_ID
    assert request.headers["Authorization"] == "Bearer gw-token"
    assert request.read() == (
        b'{"to":"+6281234567890","message":"Permohonan diterima","route":"sms","reference":"'
        + MESSAGE_ID.encode()
        + b'"}'
    )


@pytest.mark.parametrize(
    ("status", "transient", "retry_after"), [(503, True, "7"), (429, True, "30"), (500, True, None), (400, False, None)]
)
async def test_gateway_errors_are_transient_or_permanent_by_status(
    status: int, transient: bool, retry_after: str | None
) -> None:
    headers = {"Retry-After": retry_after} if retry_after else {}
    channel = gateway(lambda _: httpx.Response(status, headers=headers))

    with pytest.raises(DeliveryFailed) as failed:
        await channel.send(outgoing())

    assert failed.value.transient is transient
    assert failed.value.retry_after == (float(retry_after) if retry_after else None)
    assert f"HTTP {status}" in failed.value.reason
    assert "6281234567890" not in failed.value.reason


async def test_gateway_timeouts_and_refused_connections_are_transient() -> None:
    def time_out(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    for answer in (time_out, refuse):
        with pytest.raises(DeliveryFailed) as failed:
            await gateway(answer).send(outgoing())
        assert failed.value.transient


async def test_webhook_is_signed_so_the_receiver_accepts_it() -> None:
    seen: list[httpx.Request] = []

    def accept(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    subscription = WebhookSubscription(name="portal", url="https://portal.example/hooks", secret=SecretStr("s3cret"))
    channel = WebhookChannel(
        [subscription], client=httpx.AsyncClient(transport=httpx.MockTransport(accept)), clock=lambda: 1_780_000_000
    )

    await channel.send(outgoing("webhook:portal", "portal", '{"type":"application.submitted"}'))

    [request] = seen
    assert str(request.url) == "https://portal.example/hooks"
    assert request.headers["X-SatuPintu-Timestamp"] == "1780000000"
    assert request.headers["Idempotency-Key"] == MESSAGE_ID
    assert request.headers["X-SatuPintu-Event-Type"] == "application.submitted"
    verify_webhook_signature(
        "s3cret", "1780000000", request.read(), request.headers["X-SatuPintu-Signature"], now=1_780_000_010
    )


async def test_webhook_to_a_subscriber_no_longer_configured_fails_permanently() -> None:
    channel = WebhookChannel([], client=httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(204))))

    with pytest.raises(DeliveryFailed) as failed:
        await channel.send(outgoing("webhook:gone", "gone", "{}"))

    assert not failed.value.transient


def test_a_channels_rate_becomes_a_shared_window_of_its_burst() -> None:
    email = channel_quota(RateLimit(per_minute=600, burst=20))
    sms = channel_quota(RateLimit(per_minute=120, burst=10))
    webhook = channel_quota(RateLimit(per_minute=1200, burst=50))

    assert email is not None
    assert (email.units, email.window) == (20, timedelta(seconds=2))
    assert sms is not None
    assert (sms.units, sms.window) == (10, timedelta(seconds=5))
    assert webhook is not None
    assert (webhook.units, webhook.window) == (60, timedelta(seconds=3))
    assert channel_quota(RateLimit(per_minute=0)) is None
    assert channel_quota(None) is None
