"""Configuration of the mall service, read once in ``create_app()``."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from satupintu.common.settings import ServiceSettings


class MallSettings(ServiceSettings):
    """Mall settings; environment variables start with ``MALL_``."""

    model_config = SettingsConfigDict(env_prefix="MALL_", extra="ignore")

    port: int = Field(default=8006, ge=1, le=65535, description="Port the HTTP server listens on.")
