"""The payment process's context: the runtime, the billing use case, the expiry watch, the confirmations of
payments and operators' sign-in to the dead-letter page, built once from settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from satupintu.common.auth import Role
from satupintu.common.catalogue import load_catalogue
from satupintu.common.clock import Clock, utc_now
from satupintu.common.dead_letters import page as dead_letters_page
from satupintu.common.keys import field_cipher
from satupintu.common.oidc.sessions import SessionStore
from satupintu.common.oidc.web import SignIn
from satupintu.common.runtime import ServiceRuntime
from satupintu.payment.config import PaymentSettings
from satupintu.payment.migrations import SCHEMA
from satupintu.payment.services import BillingService, ConfirmationService, ExpiryWatch

SERVICE_NAME = "payment"
SESSION_COOKIE = "payment_session"


@dataclass
class PaymentContext:
    """What the payment process works with; the expiry watch runs in the runtime's background once it starts."""

    runtime: ServiceRuntime
    settings: PaymentSettings
    billing: BillingService
    watch: ExpiryWatch
    sign_in: SignIn
    confirmations: ConfirmationService

    @property
    def callback_tolerance(self) -> timedelta:
        """How far a callback's timestamp may be from our clock."""
        return timedelta(seconds=self.settings.callback_tolerance_seconds)

    @classmethod
    def build(cls, settings: PaymentSettings, clock: Clock) -> PaymentContext:
        """Wire the billing use case and the expiry watch to the runtime's sessions and outbox."""
        runtime = ServiceRuntime(SERVICE_NAME, settings, schema=SCHEMA)
        catalogue = load_catalogue()
        billing = BillingService(
            catalogue,
            settings.billing,
            settings.merchant.merchant(),
            clock=clock,
            billed=runtime.metrics.counter(
                "satupintu_payment_bills_total", "Bills issued, by agency and kind.", ["agency", "kind"]
            ),
        )
        watch = ExpiryWatch(
            runtime.sessions,
            runtime.outbox,
            catalogue,
            clock,
            settings.watch_interval_seconds,
            lead=timedelta(hours=settings.reminder_lead_hours),
            outcomes=runtime.metrics.counter(
                "satupintu_payment_bill_expiry_total",
                "Reminders before expiry and expiries published, by outcome and agency.",
                ["outcome", "agency"],
            ),
        )
        runtime.on_start(lambda: runtime.spawn(watch.run()))
        cipher = field_cipher(settings.encryption_keys, settings.auth.keys_dir, SERVICE_NAME)
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
        confirmations = ConfirmationService(
            runtime.sessions,
            runtime.outbox,
            clock,
            outcomes=runtime.metrics.counter(
                "satupintu_payment_confirmations_total",
                "Payments recorded (confirmed, unmatched) and callbacks refused, by channel and outcome.",
                ["channel", "outcome"],
            ),
        )
        return cls(runtime, settings, billing, watch, sign_in, confirmations)
