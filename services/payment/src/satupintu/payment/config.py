"""Configuration of the payment service, read once in ``create_app()``."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import SettingsConfigDict

from satupintu.common.oidc.settings import OidcSettings
from satupintu.common.production import Secret
from satupintu.common.settings import ServiceSettings
from satupintu.payment.billing import BillingSettings
from satupintu.payment.qris import Merchant

DEVELOPMENT_CALLBACK_SECRETS = {"qris-sim": "local-development-qris-sim-callback-secret"}
"""The local stack's gateway simulator and its shared secret; never accepted in production."""
MINIMUM_CALLBACK_SECRET_LENGTH = 32


class MerchantSettings(BaseModel):
    """The payee as the acquiring bank (PJSP) registered it for QRIS; development values unless set
    (``PAYMENT_MERCHANT`` as one JSON object)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(default="MPP SATU PINTU", min_length=1, max_length=25, description="Tag 59: the payee's name.")
    city: str = Field(default="BANDUNG", min_length=1, max_length=15, description="Tag 60: the payee's city.")
    postal_code: str = Field(default="40111", min_length=1, max_length=10, description="Tag 61: its postal code.")
    nmid: str = Field(default="ID1020000000001", description="Tag 51: the national merchant id (NMID).")
    acquirer_guid: str = Field(
        default="ID.CO.BANKDEV.WWW", description="Tag 26/00: the acquirer's reverse domain name."
    )
    merchant_pan: str = Field(
        default="936000000000000001",
        pattern=r"^[0-9]{1,19}$",
        description="Tag 26/01: the acquirer's NNS (8 digits) and the merchant's number.",
    )
    merchant_id: str = Field(
        default="SATUPINTU0001", min_length=1, max_length=15, description="Tag 26/02: the merchant id at the acquirer."
    )

    def merchant(self) -> Merchant:
        """The QRIS merchant these settings describe (its lengths checked)."""
        return Merchant(
            name=self.name,
            city=self.city,
            postal_code=self.postal_code,
            acquirer_guid=self.acquirer_guid,
            merchant_pan=self.merchant_pan,
            merchant_id=self.merchant_id,
            nmid=self.nmid,
        )


class PaymentSettings(ServiceSettings):
    """Payment settings; environment variables start with ``PAYMENT_`` (nested ones as whole JSON values, e.g.
    ``PAYMENT_BILLING='{"retribusi_provider": "regional"}'``)."""

    model_config = SettingsConfigDict(env_prefix="PAYMENT_", extra="ignore")

    port: int = Field(default=8007, ge=1, le=65535, description="Port the HTTP server listens on.")
    merchant: MerchantSettings = Field(
        default_factory=MerchantSettings, description="The payee's QRIS merchant details (JSON object)."
    )
    billing: BillingSettings = Field(
        default_factory=BillingSettings,
        description="Who issues each kind's billing codes (simulators by default) and the region's code (JSON object).",
    )
    reminder_lead_hours: float = Field(
        default=24.0, gt=0, description="How long before a bill expires the citizen is reminded (`payment.expiring`)."
    )
    watch_interval_seconds: float = Field(
        default=30.0, gt=0, description="How often the expiry watch looks for bills to remind of or to expire."
    )
    encryption_keys: Annotated[str | None, Secret()] = Field(
        default=None,
        description=(
            "Keys for what staff's sign-in sessions keep at rest, `kid:base64key,...` (first is current). "
            "Unset: a local development key in the auth keys directory."
        ),
    )
    callback_secrets: Annotated[dict[str, str], Secret()] = Field(
        default_factory=lambda: dict(DEVELOPMENT_CALLBACK_SECRETS),
        description=(
            "The payment gateways whose callbacks are accepted at `POST /payments/callbacks/{provider}`, each with "
            'the secret it signs them with (JSON object, e.g. `{"qris-sim": "..."}`). Unset: the local '
            "simulator `qris-sim` with a development secret, refused in production."
        ),
    )
    callback_tolerance_seconds: int = Field(
        default=300,
        ge=1,
        le=3600,
        description="How far a callback's `X-Callback-Timestamp` may be from our clock, either way (replays).",
    )
    oidc: OidcSettings = Field(
        default_factory=OidcSettings,
        description="The OpenID Connect provider staff sign in through (`OIDC_*`; client `satupintu-payment`): "
        "counter clerks to `/staff/bills`, auditors and operators to `/staff/reconciliation`, operators to the "
        "dead-letter page.",
    )

    def production_problems(self) -> list[str]:
        """A gateway's callback secret must be the installation's own: never the development one, never short."""
        problems = super().production_problems()
        for provider, secret in sorted(self.callback_secrets.items()):
            if secret in DEVELOPMENT_CALLBACK_SECRETS.values():
                problems.append(f"PAYMENT_CALLBACK_SECRETS: {provider}'s secret is the development one; set its own")
            elif len(secret) < MINIMUM_CALLBACK_SECRET_LENGTH:
                problems.append(
                    f"PAYMENT_CALLBACK_SECRETS: {provider}'s secret is shorter than "
                    f"{MINIMUM_CALLBACK_SECRET_LENGTH} characters"
                )
        return problems
