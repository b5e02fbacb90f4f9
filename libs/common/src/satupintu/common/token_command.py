"""``satupintu-token``: print an access token from the OpenID Connect provider (the local Keycloak by default), for a
local user (the password grant on the local realm's command-line client ``satupintu-cli``) or for an agency's systems
(the client-credentials grant on ``agency-<code>``). The grants are authlib's; nothing here signs a token.

In production (``SATUPINTU_ENVIRONMENT=production``) it refuses local users: staff sign in on the provider's page,
and only an agency's client credentials (with its real secret) may be used here.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import httpx
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from pydantic_settings import BaseSettings, SettingsConfigDict

from satupintu.common.oidc.settings import LOCAL_ISSUER
from satupintu.common.production import ENVIRONMENT_VARIABLE, Environment, environment_field

COMMAND_LINE_CLIENT = "satupintu-cli"
"""The local realm's public client that alone accepts the password grant."""


def local_password(username: str) -> str:
    """The initial password of a local realm user (``deploy/tools/generate_keycloak_realm.py`` sets it)."""
    return f"local-{username}"


def local_agency_secret(agency: str) -> str:
    """The client secret of ``agency-<code>`` in the local realm."""
    return f"local-development-agency-{agency}"


class TokenRequestError(RuntimeError):
    """The provider did not answer or refused the grant; the message says why."""


def token_endpoint(issuer: str, timeout: float = 10.0) -> str:
    """The provider's token endpoint, from its discovery document."""
    discovery_url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        answer = httpx.get(discovery_url, timeout=timeout)
    except httpx.HTTPError as error:
        raise TokenRequestError(f"the provider at {issuer} does not answer ({error}); is `make up` running?") from error
    if answer.status_code != 200:
        raise TokenRequestError(f"{discovery_url} answered {answer.status_code}: is {issuer} the realm's issuer?")
    return str(answer.json()["token_endpoint"])


def _fetch(client: OAuth2Client, issuer: str, **grant: str) -> str:
    try:
        token: dict[str, Any] = client.fetch_token(token_endpoint(issuer, client.timeout.read), **grant)
    except OAuthError as error:
        raise TokenRequestError(f"the provider refused: {error.error}: {error.description}") from error
    except httpx.HTTPError as error:
        raise TokenRequestError(f"the provider at {issuer} does not answer ({error})") from error
    return str(token["access_token"])


def user_token(issuer: str, username: str, password: str, timeout: float = 10.0) -> str:
    """An access token of a local user, by the password grant on ``satupintu-cli``."""
    with OAuth2Client(
        client_id=COMMAND_LINE_CLIENT,
        token_endpoint_auth_method="none",  # noqa: S106 (a public client: no secret at all)
        timeout=timeout,
    ) as client:
        return _fetch(client, issuer, grant_type="password", username=username, password=password)


def agency_token(issuer: str, agency: str, client_secret: str, timeout: float = 10.0) -> str:
    """An access token of ``agency``'s systems, by the client-credentials grant on ``agency-<code>``."""
    with OAuth2Client(
        client_id=f"agency-{agency}",
        client_secret=client_secret,
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106 (a method's name, not a secret)
        timeout=timeout,
    ) as client:
        return _fetch(client, issuer, grant_type="client_credentials")


class _TokenCommandSettings(BaseSettings):
    """Where ``satupintu-token`` runs: in production it refuses local users."""

    model_config = SettingsConfigDict(extra="ignore")

    environment: Environment = environment_field()


def main(argv: list[str] | None = None) -> None:
    """The ``satupintu-token`` command: prints an access token obtained from the provider."""
    parser = argparse.ArgumentParser(
        prog="satupintu-token",
        description="Print an access token from the OpenID Connect provider (the local Keycloak by default): "
        "for a local user (--user) or an agency's systems (--agency).",
    )
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", help="a local user, e.g. officer-polres, auditor, operator (development only)")
    who.add_argument("--agency", help="an agency code, e.g. polres: its systems' client-credentials token")
    parser.add_argument("--password", help="the user's password (default: the local initial one, local-<user>)")
    parser.add_argument(
        "--client-secret", help="the agency client's secret (default, in development: local-development-agency-<code>)"
    )
    parser.add_argument("--issuer", default=LOCAL_ISSUER, help=f"the realm's issuer URL (default: {LOCAL_ISSUER})")
    arguments = parser.parse_args(argv)
    production = _TokenCommandSettings().environment is Environment.PRODUCTION
    try:
        if arguments.user:
            if production:
                parser.error(
                    f"{ENVIRONMENT_VARIABLE}=production: there are no local users; staff sign in on the provider's "
                    "page (only --agency with its client secret works here)"
                )
            token = user_token(arguments.issuer, arguments.user, arguments.password or local_password(arguments.user))
        else:
            secret = arguments.client_secret
            if secret is None and production:
                parser.error(f"{ENVIRONMENT_VARIABLE}=production: give the agency client's --client-secret")
            token = agency_token(arguments.issuer, arguments.agency, secret or local_agency_secret(arguments.agency))
    except TokenRequestError as error:
        parser.exit(1, f"satupintu-token: {error}\n")
    sys.stdout.write(token + "\n")
