"""Throwaway copies of the realm ``satupintu`` on the session's Keycloak, made and removed over its admin REST API
(as the bootstrap administrator), for tests that change a realm (rotate its keys, shorten its tokens) or must not
depend on what an already running Keycloak imported: the copy is made from this checkout's realm file."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from satupintu.common.settings import AuthSettings
from satupintu.devtools.localstack.keycloak import LocalKeycloak


def admin_token(keycloak: LocalKeycloak) -> str:
    """An access token of the bootstrap administrator (realm ``master``)."""
    credentials = json.loads(keycloak.credentials_file.read_text())
    answer = httpx.post(
        f"{keycloak.url}realms/master/protocol/openid-connect/token",
        data={"grant_type": "password", "client_id": "admin-cli", **credentials},
        timeout=10,
    )
    return str(answer.raise_for_status().json()["access_token"])


@dataclass
class ThrowawayRealm:
    """A copy of the realm ``satupintu`` under another name, and an admin client of Keycloak's REST API."""

    keycloak: LocalKeycloak
    name: str
    admin: httpx.Client

    @property
    def issuer(self) -> str:
        """The copy's issuer URL."""
        return f"{self.keycloak.url}realms/{self.name}"

    def auth_settings(self, **overrides: Any) -> AuthSettings:
        """How a service verifies this realm's access tokens (what ``make up`` sets for the local realm)."""
        values: dict[str, Any] = {
            "issuer": self.issuer,
            "audience": "satupintu",
            "jwks_url": f"{self.issuer}/protocol/openid-connect/certs",
            "algorithms": ["RS256"],
            **overrides,
        }
        return AuthSettings(**values)

    def path(self, tail: str = "") -> str:
        """An admin REST API URL of the copy."""
        return f"{self.keycloak.url}admin/realms/{self.name}{tail}"


@contextmanager
def throwaway_realm(keycloak: LocalKeycloak) -> Iterator[ThrowawayRealm]:
    """A fresh copy of the realm file's realm under a random name, deleted afterwards."""
    name = f"satupintu-test-{uuid.uuid4().hex[:8]}"
    representation = {**json.loads(keycloak.realm_file.read_text()), "realm": name}
    headers = {"Authorization": f"Bearer {admin_token(keycloak)}"}
    with httpx.Client(headers=headers, timeout=30) as admin:
        admin.post(f"{keycloak.url}admin/realms", json=representation).raise_for_status()
        try:
            yield ThrowawayRealm(keycloak, name, admin)
        finally:
            admin.delete(f"{keycloak.url}admin/realms/{name}").raise_for_status()
