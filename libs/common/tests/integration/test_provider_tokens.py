"""A staff API behind ``require_roles`` verifies the running Keycloak's access tokens: after the realm's signing key
is rotated, tokens signed with the old key keep working and new ones work at once; expired, wrong-audience and
wrong-issuer tokens answer 401 problem+json, a right token with the wrong role 403. The rotation happens in a
throwaway copy of the realm, so other tests on the session's Keycloak keep their keys."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
import jwt
import pytest
from fastapi import Depends, FastAPI

from satupintu.common.auth import Principal, Role, TokenVerifier, require_roles
from satupintu.common.problems import install_problem_handlers
from satupintu.common.token_command import local_password, user_token
from satupintu.devtools.localstack.keycloak import LocalKeycloak
from satupintu.devtools.testing.keycloak_admin import ThrowawayRealm, throwaway_realm
from satupintu.devtools.testing.waiting import eventually

pytestmark = pytest.mark.integration
PASSWORD = local_password("auditor")


@dataclass
class RotatingRealm:
    """A throwaway realm whose signing key the test rotates."""

    realm: ThrowawayRealm

    @property
    def issuer(self) -> str:
        return self.realm.issuer

    def token(self, username: str, issuer: str | None = None) -> str:
        return user_token(issuer or self.issuer, username, local_password(username))

    def signing_keys(self) -> list[dict[str, Any]]:
        keys = self.realm.admin.get(self.realm.path("/keys")).raise_for_status().json()["keys"]
        return [key for key in keys if key.get("algorithm") == "RS256"]

    def rotate_signing_key(self) -> None:
        """Add a new generated RS256 key of higher priority and make the old one passive (still published, so
        tokens it signed verify until they expire, but no longer signing)."""
        admin, path = self.realm.admin, self.realm.path
        (old,) = self.signing_keys()
        realm_id = admin.get(path()).raise_for_status().json()["id"]
        new_component = {
            "name": "rsa-rotated",
            "providerId": "rsa-generated",
            "providerType": "org.keycloak.keys.KeyProvider",
            "parentId": realm_id,
            "config": {"priority": [str(old["providerPriority"] + 100)], "algorithm": ["RS256"], "keySize": ["2048"]},
        }
        admin.post(path("/components"), json=new_component).raise_for_status()
        component = admin.get(path(f"/components/{old['providerId']}")).raise_for_status().json()
        component["config"]["active"] = ["false"]
        admin.put(path(f"/components/{old['providerId']}"), json=component).raise_for_status()


@pytest.fixture
def realm(keycloak: LocalKeycloak) -> Iterator[RotatingRealm]:
    with throwaway_realm(keycloak) as copy:
        yield RotatingRealm(copy)


@pytest.fixture
async def api(realm: RotatingRealm) -> AsyncIterator[httpx.AsyncClient]:
    """An audit-like API, configured as ``make up`` configures the services for the local Keycloak."""
    settings = realm.realm.auth_settings(leeway_seconds=0)
    app = FastAPI()
    install_problem_handlers(app)
    app.state.token_verifier = TokenVerifier(settings)

    @app.get("/audit/trail")
    def trail(principal: Annotated[Principal, Depends(require_roles(Role.AUDITOR))]) -> dict[str, str]:
        return {"actor": principal.actor()}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test") as client:
        yield client


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _kid(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


async def test_tokens_of_the_old_and_the_new_key_are_accepted_after_the_realm_rotates_its_key(
    realm: RotatingRealm, api: httpx.AsyncClient
) -> None:
    old_token = realm.token("auditor")
    before = await api.get("/audit/trail", headers=_bearer(old_token))  # the API now holds the old key set

    realm.rotate_signing_key()
    new_token = realm.token("auditor")
    with_new_key = await api.get("/audit/trail", headers=_bearer(new_token))
    with_old_key = await api.get("/audit/trail", headers=_bearer(old_token))

    assert _kid(new_token) != _kid(old_token)
    assert [before.status_code, with_new_key.status_code, with_old_key.status_code] == [200, 200, 200]
    assert with_new_key.json() == {"actor": "auditor:auditor"}


async def test_wrong_audience_issuer_or_role_are_refused(realm: RotatingRealm, api: httpx.AsyncClient) -> None:
    # admin-cli is a built-in client of every realm: its tokens are not for Satu Pintu (no audience satupintu)
    async with httpx.AsyncClient(timeout=10) as provider:
        other_client = await provider.post(
            f"{realm.issuer}/protocol/openid-connect/token",
            data={"grant_type": "password", "client_id": "admin-cli", "username": "auditor", "password": PASSWORD},
        )
    not_for_us = other_client.raise_for_status().json()["access_token"]
    # the same realm and key, reached under another host name: Keycloak names that host in `iss`
    other_issuer = realm.token("auditor", issuer=realm.issuer.replace("127.0.0.1", "localhost"))
    officer = realm.token("officer-polres")

    wrong_audience = await api.get("/audit/trail", headers=_bearer(not_for_us))
    wrong_issuer = await api.get("/audit/trail", headers=_bearer(other_issuer))
    wrong_role = await api.get("/audit/trail", headers=_bearer(officer))

    assert "satupintu" not in jwt.decode(not_for_us, options={"verify_signature": False}).get("aud", [])
    assert jwt.decode(other_issuer, options={"verify_signature": False})["iss"] != realm.issuer
    for refused in (wrong_audience, wrong_issuer):
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["www-authenticate"] == "Bearer"
    assert wrong_issuer.json()["detail"] == "The token was issued by an untrusted issuer."
    assert wrong_role.status_code == 403
    assert wrong_role.headers["content-type"] == "application/problem+json"
    assert "auditor role" in wrong_role.json()["detail"]


async def test_an_expired_token_is_refused_with_401(realm: RotatingRealm, api: httpx.AsyncClient) -> None:
    realm.realm.admin.put(realm.realm.path(), json={"accessTokenLifespan": 1}).raise_for_status()
    short_lived = realm.token("auditor")

    expired = await eventually(
        lambda: api.get("/audit/trail", headers=_bearer(short_lived)),
        lambda answer: answer.status_code != 200,
        what="the one-second token expired",
        interval=0.2,
    )

    assert expired.status_code == 401
    assert expired.headers["content-type"] == "application/problem+json"
    assert expired.json()["detail"] == "The token has expired; sign in again."
