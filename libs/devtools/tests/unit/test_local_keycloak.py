"""The local Keycloak's pure decisions: a tampered archive is refused, the distribution is built again only when its
build options change, and the realm is imported again only into a new database or when its file changed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from satupintu.common.catalogue import load_catalogue
from satupintu.common.settings import AuthSettings
from satupintu.common.token_command import LOCAL_ISSUER, local_password
from satupintu.devtools.localstack.cli import provider_environment
from satupintu.devtools.localstack.keycloak import (
    BUILD_OPTIONS,
    LOCAL_USERS,
    KeycloakStartError,
    LocalKeycloak,
    admin_password,
    keycloak_version,
    needs_build,
    needs_import,
    pinned_archive,
    verify_archive,
)

pytestmark = pytest.mark.unit


def test_an_archive_whose_checksum_differs_from_the_pinned_one_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "keycloak-quarkus-dist-26.7.3.tar.gz"
    archive.write_bytes(b"not the distribution")

    with pytest.raises(KeycloakStartError, match="checksum mismatch"):
        verify_archive(archive, "0" * 64)

    verify_archive(archive, hashlib.sha256(b"not the distribution").hexdigest())


def test_the_pinned_archive_names_the_version_and_a_sha256() -> None:
    name, digest = pinned_archive()

    assert name == f"keycloak-quarkus-dist-{keycloak_version()}.tar.gz"
    assert len(digest) == 64
    assert int(digest, 16) >= 0


def test_the_distribution_is_built_again_only_when_its_build_options_change(tmp_path: Path) -> None:
    assert needs_build(tmp_path, BUILD_OPTIONS)

    (tmp_path / ".satupintu-build-options").write_text("\n".join(BUILD_OPTIONS))
    assert not needs_build(tmp_path, BUILD_OPTIONS)
    assert needs_build(tmp_path, [*BUILD_OPTIONS, "--features=token-exchange"])
    assert needs_build(tmp_path, ["--db=dev-file", "--health-enabled=true"])


def test_the_realm_is_imported_into_a_new_database_and_again_when_its_file_changed(tmp_path: Path) -> None:
    marker = tmp_path / "realm.sha256"
    assert needs_import(marker, "a" * 64, database_created=False)

    marker.write_text("a" * 64)
    assert not needs_import(marker, "a" * 64, database_created=False)
    assert needs_import(marker, "b" * 64, database_created=False)
    assert needs_import(marker, "a" * 64, database_created=True)


def test_the_admin_password_is_generated_once_and_readable_by_its_owner_alone(tmp_path: Path) -> None:
    credentials = tmp_path / "keys" / "keycloak-admin.json"

    first = admin_password(credentials)

    assert len(first) >= 24
    assert admin_password(credentials) == first
    assert credentials.stat().st_mode & 0o777 == 0o600


def _realm() -> dict[str, object]:
    realm: dict[str, object] = json.loads(LocalKeycloak(postgres_url="postgresql://x@h:1/p").realm_file.read_text())
    return realm


def test_the_realm_has_a_client_credentials_client_and_a_group_for_every_agency_of_the_catalogue() -> None:
    realm = _realm()
    clients = {client["clientId"]: client for client in realm["clients"]}  # type: ignore[attr-defined]
    (agencies,) = [group for group in realm["groups"] if group["name"] == "agencies"]  # type: ignore[attr-defined]
    groups = {group["name"]: group["attributes"]["agency"] for group in agencies["subGroups"]}

    for code in load_catalogue().agency_codes():
        client = clients[f"agency-{code}"]
        assert client["serviceAccountsEnabled"] is True
        assert client["standardFlowEnabled"] is False
        assert client["directAccessGrantsEnabled"] is False
        assert groups[code] == [code]
    for staff in ("satupintu-desk", "satupintu-mall", "satupintu-audit"):
        assert clients[staff]["attributes"]["pkce.code.challenge.method"] == "S256"
        assert clients[staff]["directAccessGrantsEnabled"] is False
    assert realm["bruteForceProtected"] is True


def test_the_users_make_up_prints_are_the_realms_with_their_initial_passwords() -> None:
    people = {
        user["username"]: user["credentials"][0]["value"]
        for user in _realm()["users"]  # type: ignore[attr-defined]
        if "serviceAccountClientId" not in user
    }

    assert people == LOCAL_USERS


def test_satupintu_token_knows_the_initial_password_of_every_local_user() -> None:
    assert {user: local_password(user) for user in LOCAL_USERS} == LOCAL_USERS


def test_make_up_has_the_services_verify_the_local_realms_access_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    keycloak = LocalKeycloak(postgres_url="postgresql://postgres@127.0.0.1:5432/postgres")
    for name, value in provider_environment(keycloak).items():
        monkeypatch.setenv(name, value)

    settings = AuthSettings()

    assert settings.issuer == keycloak.issuer == LOCAL_ISSUER
    assert settings.audience == "satupintu"
    assert settings.jwks_url == f"{keycloak.issuer}/protocol/openid-connect/certs"
    assert settings.algorithms == ["RS256"]
