"""Configuration of the audit service, read once in ``create_app()``."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from satupintu.common.settings import ServiceSettings


class AuditSettings(ServiceSettings):
    """Audit settings; environment variables start with ``AUDIT_``."""

    model_config = SettingsConfigDict(env_prefix="AUDIT_", extra="ignore")

    port: int = Field(default=8005, ge=1, le=65535, description="Port the HTTP server listens on.")
    hash_key: str = Field(
        default="local-development-audit-key",
        description="Secret key of the keyed hashes that replace personal data in the log.",
    )
