"""The payment process's context: the runtime, the billing use case, the expiry watch, the confirmations of
payments and staff's sign-in (the counter and reconciliation pages, and operators' dead-letter page), built once
from settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from satupintu.common.auth import Role
from satupintu.common.catalogue import Catalogue, load_catalogue
from satupintu.common.clock import Clock, utc_now
from satupintu.common.keys import field_cipher
from satupintu.common.oidc.sessions import SessionStore
from satupintu.common.oidc.web import SignIn
from satupintu.common.runtime import ServiceRuntime
from satupintu.payment.config import PaymentSettings
from satupintu.payment.migrations import SCHEMA
from satupintu.payment.services import BillingService, ConfirmationService, ExpiryWatch

SERVICE_NAME = "payment"
SESSION_COOKIE = "payment_session"
STAFF_ROLES = frozenset({Role.OFFICER, Role.AUDITOR, Role.OPERATOR})
"""Who may sign in to payment's pages: counter clerks (officers), auditors and operators (each page checks its own
roles: the counter's officers, reconciliation's all three, the dead-letter page's operators)."""
STAFF_SIGN_IN_PAGE, STAFF_HOME = "/staff/login", "/staff"


@dataclass
class PaymentContext:
    """What the payment process works with; the expiry watch runs in the runtime's background once it starts."""

    runtime: ServiceRuntime
    settings: PaymentSettings
    billing: BillingService
    watch: ExpiryWatch
    sign_in: SignIn
    confirmations: ConfirmationService
    catalogue: Catalogue

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
            roles=STAFF_ROLES,
            cookie=SESSION_COOKIE,
            landing=STAFF_SIGN_IN_PAGE,
            home=STAFF_HOME,
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
        return cls(runtime, settings, billing, watch, sign_in, confirmations, catalogue)
