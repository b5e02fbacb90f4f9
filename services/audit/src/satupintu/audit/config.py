"""Configuration of the audit service, read once in ``create_app()``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from satupintu.common.oidc.settings import OidcSettings
from satupintu.common.production import Secret
from satupintu.common.settings import ServiceSettings


class AuditSettings(ServiceSettings):
    """Audit settings; environment variables start with ``AUDIT_``."""

    model_config = SettingsConfigDict(env_prefix="AUDIT_", extra="ignore")

    port: int = Field(default=8005, ge=1, le=65535, description="Port the HTTP server listens on.")
    hash_key: Annotated[str, Secret()] = Field(
        default="local-development-audit-key",
        description="Secret key of the keyed hashes that replace personal data in the log.",
    )
    encryption_keys: Annotated[str | None, Secret()] = Field(
        default=None,
        description=(
            "Keys for what the pages' sign-in sessions keep at rest (the provider's ID token), `kid:base64key,...` "
            "(first is current). Unset: a local development key in the auth keys directory."
        ),
    )
    oidc: OidcSettings = Field(
        default_factory=OidcSettings,
        description="The OpenID Connect provider auditors sign in to the pages through (`OIDC_*`).",
    )
    checkpoint_interval_seconds: float = Field(
        default=60.0,
        gt=0,
        description=(
            "How often a signed checkpoint is taken (when the log has grown). Reads take none of their own: exports "
            "and inclusion proofs use the latest."
        ),
    )
    checkpoint_key_path: Annotated[Path | None, Secret()] = Field(
        default=None,
        description=(
            "PEM file of the Ed25519 private key that signs checkpoints. Unset: a local key, created once in the "
            "auth keys directory (`audit-checkpoint-ed25519.pem`)."
        ),
    )
    checkpoint_retired_keys_path: Path | None = Field(
        default=None,
        description=(
            "PEM file of the public keys that signed checkpoints before the current key (any number, one after the "
            "other; may be empty). `GET /audit/verify` trusts these and the current key, and no other: a checkpoint "
            "naming any other key id fails the verification."
        ),
    )
    page_size: int = Field(default=100, ge=1, le=1000, description="Entries per page when a query names no limit.")
    timeline_limit: int = Field(
        default=5000, ge=1, description="Most entries an application's timeline shows (the oldest first)."
    )
