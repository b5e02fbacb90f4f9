"""Configuration of the routing service, read once in ``create_app()``."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from satupintu.common.oidc.settings import OidcSettings
from satupintu.common.production import Secret
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
    encryption_keys: Annotated[str | None, Secret()] = Field(
        default=None,
        description=(
            "Keys for the personal form fields routing keeps for later stages and what the dead-letter page's "
            "sign-in sessions keep at rest, `kid:base64key,...` (first is current). Unset: a local development "
            "key in the auth keys directory."
        ),
    )
    oidc: OidcSettings = Field(
        default_factory=OidcSettings,
        description="The OpenID Connect provider operators sign in to the dead-letter page through (`OIDC_*`).",
    )
    personal_data_sealing_interval_seconds: float = Field(
        default=3600,
        gt=0,
        description=(
            "How often routing seals personal form fields of workflows stored before it encrypted them (again at "
            "once while a run found a full batch)."
        ),
    )
