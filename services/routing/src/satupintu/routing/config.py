"""Configuration of the routing service, read once in ``create_app()``."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from satupintu.common.settings import ServiceSettings


class RoutingSettings(ServiceSettings):
    """Routing settings; environment variables start with ``ROUTING_``."""

    model_config = SettingsConfigDict(env_prefix="ROUTING_", extra="ignore")

    port: int = Field(default=8002, ge=1, le=65535, description="Port the HTTP server listens on.")
    collective_leave: list[str] = Field(
        default_factory=list,
        description="Collective-leave days (cuti bersama) as ISO dates; not working days for SLAs.",
    )
    sla_check_interval_seconds: float = Field(
        default=30.0, gt=0, description="How often the SLA watch looks for late tasks and applications."
    )
