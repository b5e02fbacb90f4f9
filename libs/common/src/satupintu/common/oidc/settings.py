"""Where the OpenID Connect provider is and who this service is to it."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from satupintu.common.production import Secret

LOCAL_ISSUER = "http://127.0.0.1:8080/realms/satupintu"
"""The local Keycloak's realm (``make up``), the default outside production."""


class OidcSettings(BaseSettings):
    """The provider by its issuer URL (its discovery document says the rest), this service's client there, and how
    long a sign-in lasts here."""

    model_config = SettingsConfigDict(env_prefix="OIDC_", extra="ignore", hide_input_in_errors=True)

    issuer: str | None = Field(
        default=None,
        description="The provider's issuer URL; unset, the local Keycloak's realm (refused in production).",
    )
    client_id: str | None = Field(default=None, description="This service's client id; unset, `satupintu-<client>`.")
    client_secret: Annotated[SecretStr | None, Secret()] = Field(
        default=None, description="This service's client secret; unset, the local realm's development secret."
    )
    public_url: str | None = Field(
        default=None,
        description="The service's address as browsers reach it (the redirect and logout URIs registered with the "
        "provider are under it); unset, the local address of the service's port.",
    )
    session_max_age_seconds: int = Field(
        default=8 * 3600, gt=0, description="How long a sign-in lasts here at most (a working day by default)."
    )
    attempt_max_age_seconds: int = Field(
        default=600, gt=0, description="How long a sign-in may take at the provider before it must start again."
    )
    leeway_seconds: int = Field(default=30, ge=0, description="Clock skew tolerated on the provider's tokens.")
    algorithms: list[str] = Field(default=["RS256"], description="What the provider's tokens may be signed with.")

    def production_problems(self) -> list[str]:
        """Without an issuer, sign-in would go to a provider on this machine's loopback: fail closed
        (an unset client secret is refused as every secret is)."""
        problems = []
        if not self.issuer:
            problems.append("OIDC_ISSUER is not set, so nobody could sign in; set the provider's issuer URL")
        if not self.public_url:
            problems.append("OIDC_PUBLIC_URL is not set; set the address browsers reach this service at")
        return problems
