"""Fixtures of notification's integration tests: the outside parties running, and one notification service wired
to them on the session's real broker and database (module-scoped: each test uses its own applications)."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr
from services.notification.tests.integration.parties import (
    GATEWAY_TOKEN,
    PORTAL_SECRET,
    PUBLIC_BASE_URL,
    Gateway,
    LoopbackHttpServer,
    MailServer,
    Notification,
    Outside,
    WebhookReceiver,
    value_of,
)
from starlette.applications import Starlette
from starlette.routing import Route

from satupintu.common.auth import Role, TokenIssuer, load_or_create_local_keys
from satupintu.common.settings import AuthSettings, DatabaseSettings, KafkaSettings
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.waiting import eventually
from satupintu.notification.config import NotificationSettings, RateLimit, WebhookSubscription
from satupintu.notification.main import create_app
from tests.conftest import running


@pytest.fixture(scope="module")
async def outside() -> AsyncIterator[Outside]:
    """The SMTP server, the SMS gateway and the portal's webhook receiver, running."""
    mail = MailServer()
    gateway = Gateway()
    portal = WebhookReceiver(PORTAL_SECRET)
    gateway_server = LoopbackHttpServer(Starlette(routes=[Route("/messages", gateway.receive, methods=["POST"])]))
    portal_server = LoopbackHttpServer(Starlette(routes=[Route("/hooks", portal.receive, methods=["POST"])]))
    await mail.start()
    await gateway_server.start()
    await portal_server.start()
    try:
        yield Outside(mail, gateway, portal, gateway_server.url + "/messages", portal_server.url + "/hooks")
    finally:
        for held in gateway.holds.values():
            held.set()
        await portal_server.stop()
        await gateway_server.stop()
        await mail.stop()


@pytest.fixture(scope="module")
def kafka(kafka_settings: KafkaSettings) -> KafkaSettings:
    """The session's broker with topics of this module's own: the events these tests make stay out of the topics
    other services' tests read, and theirs out of these."""
    return kafka_settings.model_copy(update={"topic_prefix": f"{kafka_settings.topic_prefix}notification."})


@pytest.fixture(scope="module")
async def notification(
    outside: Outside,
    kafka: KafkaSettings,
    database_settings: DatabaseSettings,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Notification]:
    """The notification service wired to the outside parties: e-mail, SMS, the portal (every event, right secret)
    and an agency desk (rejections only, with a secret the portal does not know); a retry budget of 3 attempts."""
    await service_database(database_settings, "notification")
    keys_dir = tmp_path_factory.mktemp("notification-keys")
    generous = RateLimit(per_minute=60_000, burst=1_000)
    settings = NotificationSettings(
        kafka=kafka,
        database=database_settings,
        auth=AuthSettings(keys_dir=keys_dir),
        encryption_keys="test1:" + base64.b64encode(os.urandom(32)).decode(),
        public_base_url=PUBLIC_BASE_URL,
        smtp_host="127.0.0.1",
        smtp_port=outside.mail.port,
        smtp_security="none",
        smtp_timeout_seconds=5,
        gateway_url=outside.gateway_url,
        gateway_token=SecretStr(GATEWAY_TOKEN),
        webhooks=[
            WebhookSubscription(name="portal", url=outside.portal_url, secret=SecretStr(PORTAL_SECRET)),
            WebhookSubscription(
                name="agency-desk",
                url=outside.portal_url,
                secret=SecretStr("a-secret-the-portal-does-not-know"),
                event_types=["application.rejected"],
            ),
        ],
        max_attempts=3,
        retry_initial_seconds=0.05,
        retry_max_seconds=0.5,
        poll_interval_seconds=0.05,
        lease_seconds=30,
        rate_limits={"email": generous, "sms": generous, "webhook": generous},
    )
    app = create_app(settings)
    private_pem, _ = load_or_create_local_keys(keys_dir)
    issuer = TokenIssuer(AuthSettings(), private_key_pem=private_pem)
    async with running(app) as client:
        await eventually(lambda: value_of(app.state.runtime.relay.is_active), what="notification's outbox relay active")
        yield Notification(
            app=app,
            client=client,
            settings=settings,
            operator_token=issuer.issue("rina", {Role.OPERATOR}),
            auditor_token=issuer.issue("andi", {Role.AUDITOR}),
        )
