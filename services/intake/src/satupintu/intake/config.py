"""Configuration of the intake service, read once in ``create_app()``."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from satupintu.common.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    """Intake settings; environment variables start with ``INTAKE_``."""

    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    port: int = Field(default=8001, ge=1, le=65535, description="Port the HTTP server listens on.")
