"""The notification process's context: the runtime, the field cipher, the configured channels, the use case that
stages messages, the dispatcher that sends them and operators' sign-in to the dead-letter page, built once from
settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from satupintu.common.auth import Role
from satupintu.common.catalogue import load_catalogue
from satupintu.common.clock import Clock, utc_now
from satupintu.common.crypto import FieldCipher
from satupintu.common.dead_letters import page as dead_letters_page
from satupintu.common.keys import field_cipher
from satupintu.common.limits import Limiter
from satupintu.common.oidc.sessions import SessionStore
from satupintu.common.oidc.web import SignIn
from satupintu.common.runtime import ServiceRuntime, run_periodically
from satupintu.common.working_days import parse_dates
from satupintu.contract.topics import NOTIFICATION_READER
from satupintu.notification.channels import Channel
from satupintu.notification.channels.console import ConsoleChannel
from satupintu.notification.channels.gateway import SmsGatewayChannel
from satupintu.notification.channels.smtp import EmailChannel, SmtpConfig
from satupintu.notification.channels.webhook import WebhookChannel
from satupintu.notification.config import NotificationSettings
from satupintu.notification.dispatcher import Dispatcher
from satupintu.notification.domain import ChannelKind, RetryPolicy
from satupintu.notification.messages import MessageComposer, TemplateRenderer
from satupintu.notification.migrations import SCHEMA
from satupintu.notification.services import NotificationService, erase_citizen
from satupintu.notification.storage.repository import DeliveryRepository

SERVICE_NAME = "notification"
SESSION_COOKIE = "notification_session"
LIMIT_COUNTERS_CLEANUP_SECONDS = 300.0
LIMIT_COUNTERS_CLEANUP_BATCH = 1000


@dataclass
class NotificationContext:
    """What the notification process works with; the dispatcher runs in the runtime's background once it starts."""

    runtime: ServiceRuntime
    settings: NotificationSettings
    cipher: FieldCipher
    channels: dict[ChannelKind, Channel]
    notifications: NotificationService
    dispatcher: Dispatcher
    sign_in: SignIn

    @classmethod
    def build(cls, settings: NotificationSettings, clock: Clock) -> NotificationContext:
        """Wire the use case and the dispatcher to the runtime's sessions, outbox and the readers' keys."""
        runtime = ServiceRuntime(SERVICE_NAME, settings, schema=SCHEMA)
        keys = runtime.keep_citizen_keys(
            [NOTIFICATION_READER], private_keys_dir=settings.reader_private_keys_dir, on_destroyed=erase_citizen
        )
        cipher = field_cipher(settings.encryption_keys, settings.auth.keys_dir, SERVICE_NAME)
        channels = build_channels(settings)
        composer = MessageComposer(
            load_catalogue(),
            settings.public_base_url,
            collective_leave=parse_dates(settings.collective_leave),
            follow_up_working_days=settings.sla_breach_follow_up_working_days,
            renderer=TemplateRenderer(settings.timezone),
            desk_url=settings.desk_public_url,
        )
        notifications = NotificationService(
            composer,
            cipher,
            channels=frozenset(channels),
            webhooks=settings.webhooks,
            console_fallback=settings.console_fallback,
            keys=keys,
            clock=clock,
        )
        limiter = Limiter(runtime.engine, clock)
        dispatcher = Dispatcher(
            runtime.sessions,
            runtime.outbox,
            cipher,
            channels,
            policy=RetryPolicy(settings.max_attempts, settings.retry_initial_seconds, settings.retry_max_seconds),
            rate_limits=settings.rate_limits,
            limiter=limiter,
            urgent_reserve=settings.rate_limit_urgent_reserve,
            concurrency={kind.value: settings.concurrency(kind.value) for kind in channels},
            urgent_concurrency=settings.urgent_concurrency,
            lease_seconds=settings.lease_seconds,
            poll_interval=settings.poll_interval_seconds,
            urgent_poll_interval=settings.urgent_poll_interval_seconds,
            outcomes=runtime.metrics.counter(
                "satupintu_notifications_total",
                "Messages delivered or given up, by channel and outcome.",
                ["channel", "outcome"],
            ),
            clock=clock,
        )
        runtime.on_start(lambda: runtime.spawn(dispatcher.run()))
        measure_pending(runtime, channels, clock)
        runtime.on_start(
            lambda: runtime.spawn(
                run_periodically(
                    "removing expired limit counters",
                    lambda: limiter.remove_expired(LIMIT_COUNTERS_CLEANUP_BATCH),
                    LIMIT_COUNTERS_CLEANUP_SECONDS,
                    LIMIT_COUNTERS_CLEANUP_BATCH,
                )
            )
        )
        sign_in = SignIn(
            settings.oidc,
            SessionStore(runtime.sessions, cipher, utc_now),
            client=SERVICE_NAME,
            port=settings.port,
            roles={Role.OPERATOR},  # the dead-letter page
            cookie=SESSION_COOKIE,
            landing=dead_letters_page.SIGN_IN_PAGE,
            home=dead_letters_page.PAGE,
        )
        return cls(runtime, settings, cipher, channels, notifications, dispatcher, sign_in)


def measure_pending(runtime: ServiceRuntime, channels: Mapping[ChannelKind, Channel], clock: Clock) -> None:
    """Before each scrape, gauge the pending deliveries of each channel kind and how far past due the most overdue
    one is: a backoff waits before it is due, so only overdue ones mean the dispatcher is not keeping up."""
    pending = runtime.metrics.gauge(
        "satupintu_notifications_pending", "Deliveries not yet sent or given up, by channel kind.", ["kind"]
    )
    overdue = runtime.metrics.gauge(
        "satupintu_notifications_overdue_seconds",
        "How long ago the most overdue pending delivery was due, by channel kind (0 when none is overdue).",
        ["kind"],
    )

    async def refresh() -> None:
        async with runtime.sessions() as session:
            by_kind = await DeliveryRepository(session).pending_by_kind()
        now = clock()
        for kind in {kind.value for kind in channels} | set(by_kind):
            count, due = by_kind.get(kind, (0, now))
            pending.labels(kind).set(count)
            overdue.labels(kind).set(max(0.0, (now - due).total_seconds()))

    runtime.on_metrics(refresh)


def build_channels(settings: NotificationSettings) -> dict[ChannelKind, Channel]:
    """The channels the settings configure; the console is always there for local development."""
    channels: dict[ChannelKind, Channel] = {ChannelKind.CONSOLE: ConsoleChannel()}
    if settings.smtp_host:
        channels[ChannelKind.EMAIL] = EmailChannel(
            SmtpConfig(
                host=settings.smtp_host,
                port=settings.smtp_port,
                security=settings.smtp_security,
                username=settings.smtp_username,
                password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
                ca_file=settings.smtp_ca_file,
                timeout=settings.smtp_timeout_seconds,
                sender=settings.email_from,
                message_id_domain=settings.message_id_domain,
            )
        )
    if settings.gateway_url:
        channels[ChannelKind.SMS] = SmsGatewayChannel(
            settings.gateway_url,
            settings.gateway_token.get_secret_value() if settings.gateway_token else None,
            route=settings.gateway_route,
            timeout=settings.gateway_timeout_seconds,
        )
    if settings.webhooks:
        channels[ChannelKind.WEBHOOK] = WebhookChannel(settings.webhooks, timeout=settings.webhook_timeout_seconds)
    return channels
