"""Configuration of the intake service, read once in ``create_app()``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from satupintu.common.production import Secret
from satupintu.common.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    """Intake settings; environment variables start with ``INTAKE_``."""

    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    port: int = Field(default=8001, ge=1, le=65535, description="Port the HTTP server listens on.")
    max_body_bytes: int = Field(default=64_000, ge=1024, description="Largest JSON request body accepted (413 above).")
    max_document_bytes: int = Field(default=10_000_000, ge=1024, description="Largest document upload accepted.")
    documents_dir: Path = Field(
        default=Path(".run/documents"), description="Where uploaded documents are kept (content-addressed)."
    )
    encryption_keys: Annotated[str | None, Secret()] = Field(
        default=None,
        description=(
            "Keys for personal data at rest, `kid:base64key,kid:base64key` (first is current; others still decrypt). "
            "Unset: a local development key in the auth keys directory."
        ),
    )
    lookup_hash_key: Annotated[str | None, Secret()] = Field(
        default=None, description="Base64 key of the keyed hashes used to look up a NIK. Unset: a local key."
    )
    rate_limit_per_minute: int = Field(
        default=120, ge=0, description="POST requests per client per minute (0 turns the limit off)."
    )
    rate_limit_burst: int = Field(default=30, ge=1, description="POST requests a client may send at once.")
    mall_public_url: str = Field(
        default="http://127.0.0.1:8006", description="Where citizens reach the mall (consent ledger, survey)."
    )
