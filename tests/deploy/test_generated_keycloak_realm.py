"""The committed Keycloak realms (deploy/keycloak/) are what the generator makes from the catalogue; the production
realm holds no local user, no command-line client and no development secret."""

from __future__ import annotations

import json

import pytest

from satupintu.common.catalogue import load_catalogue
from tests.deploy.support import tool

pytestmark = pytest.mark.unit
generator = tool("generate_keycloak_realm")


def test_committed_realms_match_the_generator() -> None:
    for path, content in generator.rendered_files(load_catalogue().agency_codes()).items():
        assert path.read_text() == content, (
            f"{path.name} is stale: run `uv run python deploy/tools/generate_keycloak_realm.py`"
        )
    assert generator.main(["--check"]) == 0


def test_every_agency_has_a_group_and_a_client_credentials_client() -> None:
    codes = load_catalogue().agency_codes()
    realm = generator.realm({*codes, "bapenda"})

    (agencies,) = realm["groups"]
    assert {group["name"] for group in agencies["subGroups"]} == {*codes, "bapenda"}
    client = next(client for client in realm["clients"] if client["clientId"] == "agency-bapenda")
    assert client["serviceAccountsEnabled"]
    assert not client["standardFlowEnabled"]
    account = next(user for user in realm["users"] if user.get("serviceAccountClientId") == "agency-bapenda")
    assert account["groups"] == ["/agencies/bapenda"]


def test_only_the_local_command_line_client_takes_the_password_grant() -> None:
    realm = generator.realm(load_catalogue().agency_codes())

    assert [client["clientId"] for client in realm["clients"] if client["directAccessGrantsEnabled"]] == [
        "satupintu-cli"
    ]


def test_the_production_realm_has_no_local_users_clients_or_secrets() -> None:
    text = generator.render(generator.realm(load_catalogue().agency_codes(), production=True))
    realm = json.loads(text)

    assert "local-development" not in text
    assert "127.0.0.1" not in text
    assert "localhost" not in text
    assert all("serviceAccountClientId" in user for user in realm["users"])
    assert "satupintu-cli" not in {client["clientId"] for client in realm["clients"]}
    desk = next(client for client in realm["clients"] if client["clientId"] == "satupintu-desk")
    assert desk["secret"] == "${SATUPINTU_CLIENT_SECRET_SATUPINTU_DESK}"
    assert desk["redirectUris"] == ["${SATUPINTU_PUBLIC_URL_AGENCY}/auth/callback"]
