"""Configuration of the notification service, read once in ``create_app()``."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from satupintu.common.settings import ServiceSettings


class NotificationSettings(ServiceSettings):
    """Notification settings; environment variables start with ``NOTIFICATION_``."""

    model_config = SettingsConfigDict(env_prefix="NOTIFICATION_", extra="ignore")

    port: int = Field(default=8004, ge=1, le=65535, description="Port the HTTP server listens on.")
