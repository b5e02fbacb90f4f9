"""The local Keycloak answers the realm ``satupintu``: an agency's systems get a token with the client-credentials
grant that carries their agency, verified against the realm's keys; no client but the local command-line one
(``satupintu-cli``) accepts the password grant."""

from __future__ import annotations

import json

import httpx
import jwt
import pytest

from satupintu.common.auth import Principal, Role, TokenVerifier
from satupintu.common.settings import AuthSettings
from satupintu.common.token_command import agency_token
from satupintu.devtools.localstack.cli import provider_environment
from satupintu.devtools.localstack.keycloak import LocalKeycloak
from satupintu.devtools.testing.keycloak_admin import throwaway_realm

pytestmark = pytest.mark.integration


def test_an_agency_client_gets_a_token_carrying_its_agency_from_the_local_keycloak(keycloak: LocalKeycloak) -> None:
    discovery = httpx.get(keycloak.discovery_url, timeout=10).raise_for_status().json()
    assert discovery["issuer"] == keycloak.issuer
    assert keycloak.issuer.endswith("/realms/satupintu")

    answer = httpx.post(
        discovery["token_endpoint"],
        data={"grant_type": "client_credentials"},
        auth=("agency-polres", "local-development-agency-polres"),
        timeout=10,
    )
    token = answer.raise_for_status().json()["access_token"]

    signing_key = jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(token)
    claims = jwt.decode(token, signing_key.key, algorithms=["RS256"], issuer=keycloak.issuer, audience="account")
    assert claims["agency"] == "polres"
    assert claims["azp"] == "agency-polres"


def test_no_client_but_the_local_command_line_one_accepts_the_password_grant(keycloak: LocalKeycloak) -> None:
    with throwaway_realm(keycloak) as realm:  # this checkout's realm file, whatever a running Keycloak imported
        _only_the_command_line_client_takes_the_password_grant(realm.issuer)


def _only_the_command_line_client_takes_the_password_grant(issuer: str) -> None:
    discovery = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=10).raise_for_status().json()
    password_grant = {"grant_type": "password", "username": "officer-polres", "password": "local-officer-polres"}
    confidential = [
        *(f"satupintu-{name}" for name in ("intake", "desk", "audit", "mall")),
        "agency-polres",
    ]

    for client in confidential:
        answer = httpx.post(
            discovery["token_endpoint"], data=password_grant, auth=(client, f"local-development-{client}"), timeout=10
        )
        assert answer.status_code in {400, 401}, client
        assert answer.json()["error"] == "unauthorized_client", client
    command_line = httpx.post(
        discovery["token_endpoint"], data={**password_grant, "client_id": "satupintu-cli"}, timeout=10
    )
    assert command_line.status_code == 200
    assert command_line.json()["access_token"]


def test_the_services_make_up_starts_accept_an_agency_systems_token(keycloak: LocalKeycloak) -> None:
    verifier = TokenVerifier(AuthSettings(**_settings_from(provider_environment(keycloak))))
    token = agency_token(keycloak.issuer, "polres", "local-development-agency-polres")

    principal = verifier.verify(token)

    assert principal == Principal(
        subject="service-account-agency-polres", roles=frozenset({Role.OFFICER}), agency="polres"
    )


def _settings_from(environment: dict[str, str]) -> dict[str, object]:
    return {
        name.removeprefix("AUTH_").lower(): json.loads(value) if value.startswith("[") else value
        for name, value in environment.items()
    }
