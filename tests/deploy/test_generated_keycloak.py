"""The committed realm import (deploy/k8s/base/keycloak/realm-import.yaml, deploy/keycloak/satupintu-realm-import.json)
is what the generator makes from the realm in deploy/keycloak/, and leaves out everything local."""

from __future__ import annotations

import json

import pytest

from tests.deploy.support import tool

pytestmark = pytest.mark.unit
generator = tool("generate_k8s_keycloak")


def test_committed_realm_import_matches_the_generator() -> None:
    realm = json.loads(generator.source_realm().read_text())
    for path, content in generator.rendered_files(realm).items():
        assert path.read_text() == content, (
            f"{path.name} is stale: run `uv run python deploy/tools/generate_k8s_keycloak.py`"
        )
    assert generator.main(["--check"]) == 0


def test_a_change_of_the_realm_changes_the_import_but_users_the_cli_client_and_secrets_stay_out() -> None:
    realm = json.loads(generator.source_realm().read_text())
    changed = realm | {
        "displayName": "Mal Pelayanan Publik",
        "users": [{"username": "rina", "credentials": [{"type": "password", "value": "rina-local"}]}],
        "clients": [
            *realm["clients"],
            {"clientId": "satupintu-cli", "publicClient": True},
            {"clientId": "agency-bapenda", "secret": "local-development-agency-bapenda"},
        ],
    }

    before, after = generator.rendered_files(realm), generator.rendered_files(changed)

    assert all(before[path] != after[path] for path in before)
    for text in after.values():
        assert "Mal Pelayanan Publik" in text
        assert "agency-bapenda" in text
        assert "rina" not in text
        assert "satupintu-cli" not in text
        assert "local-development" not in text
