"""Configuration of the notification service, read once in ``create_app()``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from satupintu.common.oidc.settings import OidcSettings
from satupintu.common.production import Secret
from satupintu.common.settings import ServiceSettings


class WebhookSubscription(BaseModel):
    """A portal or agency system told about lifecycle events, by signed HTTP POST."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$", description="Short name; the delivery channel is `webhook:<name>`."
    )
    url: str = Field(pattern=r"^https?://", description="Where events are POSTed.")
    secret: SecretStr = Field(description="Shared secret of the HMAC-SHA256 signature.")
    event_types: list[str] = Field(
        default_factory=list, description="Event types sent to it, e.g. `application.completed`; empty: all."
    )


class RateLimit(BaseModel):
    """A channel's rate: ``per_minute`` sustained, ``burst`` at once; 0 per minute turns it off. Kept as a sliding
    window in PostgreSQL shared by every replica: ``burst`` messages per ``ceil(burst * 60 / per_minute)`` seconds
    (see :func:`satupintu.notification.dispatcher.channel_quota`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    per_minute: int = Field(ge=0, description="Messages per minute, sustained (0: unlimited).")
    burst: int = Field(default=10, ge=1, description="Messages sent at once before the rate applies.")


def _default_rate_limits() -> dict[str, RateLimit]:
    return {
        "email": RateLimit(per_minute=600, burst=20),
        "sms": RateLimit(per_minute=120, burst=10),
        "webhook": RateLimit(per_minute=1200, burst=50),
        "console": RateLimit(per_minute=0),
    }


class NotificationSettings(ServiceSettings):
    """Notification settings; environment variables start with ``NOTIFICATION_``."""

    model_config = SettingsConfigDict(env_prefix="NOTIFICATION_", extra="ignore")

    port: int = Field(default=8004, ge=1, le=65535, description="Port the HTTP server listens on.")
    public_base_url: str = Field(
        default="http://127.0.0.1:8001",
        description="Base of the links citizens get, e.g. `{public_base_url}/applications/{tracking_code}`.",
    )
    desk_public_url: str = Field(
        default="http://127.0.0.1:8003",
        description="Base of the agency desk's public address: escalations of SLA breaches link supervisors there.",
    )
    reader_private_keys_dir: Path | None = Field(
        default=None,
        description=(
            "Directory holding `reader-notification.pem`, the private key citizens' keys are wrapped for on "
            "`keys.notification` (decision 0016). Unset: a development pair in the auth keys directory."
        ),
    )
    encryption_keys: Annotated[str | None, Secret()] = Field(
        default=None,
        description=(
            "Keys for contact details and what the dead-letter page's sign-in sessions keep at rest, "
            "`kid:base64key,kid:base64key` (first is current; others still decrypt). Unset: a local development "
            "key in the auth keys directory."
        ),
    )
    oidc: OidcSettings = Field(
        default_factory=OidcSettings,
        description="The OpenID Connect provider operators sign in to the dead-letter page through (`OIDC_*`).",
    )
    timezone: str = Field(
        default="Asia/Jakarta", description="The mall's time zone: dates in messages are local to it."
    )
    collective_leave: list[str] = Field(
        default_factory=list,
        description="Collective-leave days (cuti bersama), ISO dates: not counted in dates promised after a breach.",
    )
    sla_breach_follow_up_working_days: int = Field(
        default=3, ge=1, description="Working days after a breach by which the citizen is promised an answer."
    )

    smtp_host: str | None = Field(default=None, description="SMTP server for e-mail; unset: no e-mail channel.")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP server port.")
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls", description="STARTTLS after connecting, TLS from the start (SMTPS), or plain text."
    )
    smtp_ca_file: Path | None = Field(
        default=None, description="CA bundle that verifies the SMTP server's certificate."
    )
    smtp_username: str | None = Field(default=None, description="SMTP AUTH user; unset: no authentication.")
    smtp_password: Annotated[SecretStr | None, Secret(required=False)] = Field(
        default=None, description="SMTP AUTH password."
    )
    smtp_timeout_seconds: float = Field(default=30.0, gt=0, description="Timeout of each SMTP operation.")
    email_from: str = Field(
        default="Satu Pintu <noreply@satupintu.go.id>", description="The `From` of the e-mails citizens get."
    )
    message_id_domain: str = Field(
        default="notification.satupintu.go.id", description="Right-hand side of the e-mails' `Message-ID`."
    )

    gateway_url: str | None = Field(
        default=None, description="The SMS/WhatsApp gateway's send endpoint; unset: no SMS channel."
    )
    gateway_token: Annotated[SecretStr | None, Secret(required=False)] = Field(
        default=None, description="Bearer token for the gateway."
    )
    gateway_route: Literal["sms", "whatsapp"] = Field(default="sms", description="How the gateway reaches phones.")
    gateway_timeout_seconds: float = Field(default=10.0, gt=0, description="Timeout of one gateway request.")

    webhooks: list[WebhookSubscription] = Field(
        default_factory=list, description="Portals and agency systems told about lifecycle events (JSON list)."
    )
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, description="Timeout of one webhook request.")

    console_fallback: bool = Field(
        default=True,
        description="Log a masked line when a citizen has no configured channel (local development).",
    )
    max_attempts: int = Field(default=6, ge=1, description="Attempts per message before it is given up as failed.")
    retry_initial_seconds: float = Field(default=5.0, gt=0, description="Backoff before the first retry.")
    retry_max_seconds: float = Field(default=900.0, gt=0, description="Longest backoff between attempts.")
    lease_seconds: float = Field(
        default=120.0, gt=0, description="How long a claimed message is left to one sender before another may retry."
    )
    poll_interval_seconds: float = Field(
        default=1.0, gt=0, description="How often each channel looks for due messages when nothing woke it."
    )
    email_concurrency: int = Field(default=8, ge=1, description="Routine e-mails handed to SMTP at once.")
    sms_concurrency: int = Field(default=8, ge=1, description="Routine SMS/WhatsApp requests to the gateway at once.")
    webhook_concurrency: int = Field(default=8, ge=1, description="Routine webhook requests at once.")
    console_concurrency: int = Field(default=16, ge=1, description="Routine console lines at once.")
    urgent_concurrency: int = Field(
        default=4,
        ge=1,
        description="Urgent messages (one-time codes, information requests, documents ready, bills) sent at once on "
        "each channel, in slots of their own besides the routine ones.",
    )
    urgent_poll_interval_seconds: float = Field(
        default=0.2, gt=0, description="How often each channel's urgent lane looks for due messages when idle."
    )
    rate_limit_urgent_reserve: float = Field(
        default=0.2,
        ge=0,
        lt=1,
        description="Share of each channel's rate limit only urgent messages may use, so a routine backlog that "
        "spends the rest never holds up a one-time code.",
    )
    rate_limits: dict[str, RateLimit] = Field(
        default_factory=_default_rate_limits,
        description="Rate limit per channel kind (email, sms, webhook), shared by every replica (PostgreSQL).",
    )

    def concurrency(self, kind: str) -> int:
        """Routine messages sent at once on channel ``kind`` (per replica)."""
        return int(getattr(self, f"{kind}_concurrency"))

    def production_problems(self) -> list[str]:
        """Without its reader key, notification would open citizens' keys with a development pair made on the
        spot, for which intake wraps nothing."""
        problems = super().production_problems()
        if self.reader_private_keys_dir is None:
            problems.append(
                "NOTIFICATION_READER_PRIVATE_KEYS_DIR is not set, so a development reader key would be made up on the "
                "spot; set it to the directory of reader-notification.pem from make secrets"
            )
        return problems
