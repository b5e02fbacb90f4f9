"""Configuration of the agency service, read once in ``create_app()``."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from satupintu.common.settings import ServiceSettings


class AgencySettings(ServiceSettings):
    """Agency settings; environment variables start with ``AGENCY_``."""

    model_config = SettingsConfigDict(env_prefix="AGENCY_", extra="ignore")

    port: int = Field(default=8003, ge=1, le=65535, description="Port the HTTP server listens on.")
