"""Bearer tokens: who gets in, who is refused, and what they are told."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import Depends, FastAPI
from jwt.algorithms import OKPAlgorithm

from satupintu.common.auth import (
    PRIVATE_KEY_FILE,
    PUBLIC_KEY_FILE,
    AuthenticationError,
    Principal,
    ProviderKeys,
    Role,
    TokenIssuer,
    TokenVerifier,
    generate_keypair,
    load_or_create_local_keys,
    require_roles,
)
from satupintu.common.settings import AuthSettings

pytestmark = pytest.mark.unit

SETTINGS = AuthSettings(issuer="satupintu-test", audience="satupintu")
PRIVATE_PEM, PUBLIC_PEM = generate_keypair()


@pytest.fixture
def issuer() -> TokenIssuer:
    return TokenIssuer(SETTINGS, private_key_pem=PRIVATE_PEM)


@pytest.fixture
def verifier() -> TokenVerifier:
    return TokenVerifier(SETTINGS, public_key_pem=PUBLIC_PEM)


@pytest.fixture
async def client(verifier: TokenVerifier) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.state.token_verifier = verifier

    @app.get("/tasks")
    async def list_tasks(principal: Annotated[Principal, Depends(require_roles(Role.OFFICER))]) -> dict[str, str]:
        return {"actor": principal.actor(), "agency": principal.agency or ""}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        yield http


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_valid_officer_token_is_admitted_with_its_agency(client: httpx.AsyncClient, issuer: TokenIssuer) -> None:
    token = issuer.issue("budi", [Role.OFFICER], agency="polres")

    answer = await client.get("/tasks", headers=bearer(token))

    assert answer.status_code == 200
    assert answer.json() == {"actor": "officer:polres:budi", "agency": "polres"}


async def test_request_without_token_is_refused_with_401(client: httpx.AsyncClient) -> None:
    answer = await client.get("/tasks")

    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert "No bearer token" in answer.json()["detail"]


async def test_expired_token_is_refused_with_401(client: httpx.AsyncClient) -> None:
    two_hours_ago = TokenIssuer(SETTINGS, private_key_pem=PRIVATE_PEM, clock=lambda: time.time() - 7200)
    token = two_hours_ago.issue("budi", [Role.OFFICER], agency="polres", ttl=3600)

    answer = await client.get("/tasks", headers=bearer(token))

    assert answer.status_code == 401
    assert answer.json()["detail"] == "The token has expired; sign in again."


async def test_token_signed_by_another_key_is_refused_with_401(client: httpx.AsyncClient) -> None:
    stranger_private_pem, _ = generate_keypair()
    token = TokenIssuer(SETTINGS, private_key_pem=stranger_private_pem).issue("budi", [Role.OFFICER], agency="polres")

    answer = await client.get("/tasks", headers=bearer(token))

    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert "signature" in answer.json()["detail"]


async def test_malformed_token_is_refused_with_401(client: httpx.AsyncClient) -> None:
    answer = await client.get("/tasks", headers=bearer("not-a-token"))

    assert answer.status_code == 401
    assert answer.json()["detail"] == "The token is malformed."


async def test_caller_without_the_required_role_is_refused_with_403(
    client: httpx.AsyncClient, issuer: TokenIssuer
) -> None:
    token = issuer.issue("sari", [Role.AUDITOR])

    answer = await client.get("/tasks", headers=bearer(token))

    assert answer.status_code == 403
    assert "officer" in answer.json()["detail"]
    assert "auditor" in answer.json()["detail"]


async def test_officer_token_without_agency_claim_is_refused_with_401(client: httpx.AsyncClient) -> None:
    now = int(time.time())
    claims = {"sub": "budi", "roles": ["officer"], "iss": SETTINGS.issuer, "aud": SETTINGS.audience}
    token = jwt.encode({**claims, "iat": now, "exp": now + 600}, PRIVATE_PEM, algorithm="EdDSA")

    answer = await client.get("/tasks", headers=bearer(token))

    assert answer.status_code == 401
    assert "agency" in answer.json()["detail"]


def test_token_for_another_audience_is_refused(issuer: TokenIssuer) -> None:
    token = issuer.issue("budi", [Role.OFFICER], agency="polres")
    elsewhere = TokenVerifier(AuthSettings(issuer=SETTINGS.issuer, audience="another-app"), public_key_pem=PUBLIC_PEM)

    with pytest.raises(AuthenticationError, match="another audience"):
        elsewhere.verify(token)


def test_token_without_a_required_claim_is_refused(verifier: TokenVerifier) -> None:
    now = int(time.time())
    claims = {"sub": "budi", "iss": SETTINGS.issuer, "aud": SETTINGS.audience, "iat": now, "exp": now + 600}
    token = jwt.encode(claims, PRIVATE_PEM, algorithm="EdDSA")

    with pytest.raises(AuthenticationError, match="`roles` claim"):
        verifier.verify(token)


def test_principal_names_its_actor_by_role() -> None:
    assert Principal(subject="budi", roles=frozenset({Role.OFFICER}), agency="POLRES").actor() == "officer:polres:budi"
    assert Principal(subject="sari", roles=frozenset({Role.AUDITOR})).actor() == "auditor:sari"
    assert Principal(subject="ops", roles=frozenset({Role.OPERATOR})).actor() == "operator:ops"


def test_issuing_an_officer_token_without_agency_is_refused(issuer: TokenIssuer) -> None:
    with pytest.raises(ValueError, match="agency"):
        issuer.issue("budi", [Role.OFFICER])


def test_local_keys_are_created_once_and_reused(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"

    first = load_or_create_local_keys(keys_dir)
    second = load_or_create_local_keys(keys_dir)

    assert first == second
    assert (keys_dir / PRIVATE_KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert (keys_dir / PUBLIC_KEY_FILE).read_bytes() == first[1]


def test_a_providers_token_names_its_user_by_preferred_username_and_keeps_only_our_roles(
    verifier: TokenVerifier,
) -> None:
    now = int(time.time())
    claims = {
        "sub": "5f0c1a52-8d0e-4d7b-9a7e-2d1f6c1b9e11",
        "preferred_username": "officer-polres",
        "name": "Rina Kusuma",
        "roles": ["default-roles-satupintu", "offline_access", "officer"],
        "agency": "polres",
        "iss": SETTINGS.issuer,
        "aud": ["satupintu", "account"],
        "iat": now,
        "exp": now + 300,
    }

    principal = verifier.verify(jwt.encode(claims, PRIVATE_PEM, algorithm="EdDSA"))

    assert principal == Principal(
        subject="officer-polres", roles=frozenset({Role.OFFICER}), agency="polres", name="Rina Kusuma"
    )


def test_a_token_without_expiry_is_refused(verifier: TokenVerifier) -> None:
    now = int(time.time())
    claims = {"sub": "budi", "roles": ["auditor"], "iss": SETTINGS.issuer, "aud": SETTINGS.audience, "iat": now}

    with pytest.raises(AuthenticationError, match="`exp` claim"):
        verifier.verify(jwt.encode(claims, PRIVATE_PEM, algorithm="EdDSA"))


@pytest.mark.parametrize("algorithm", ["HS256", "none"])
def test_shared_secret_and_unsigned_algorithms_cannot_be_configured(algorithm: str) -> None:
    with pytest.raises(ValueError, match="only public-key algorithms"):
        AuthSettings(algorithms=["RS256", algorithm])


class _CountingKeys(ProviderKeys):
    """Provider keys whose key set is given by the test, counting how often it is fetched."""

    def __init__(self, clock: list[float]) -> None:
        super().__init__("http://provider.test/certs", lifespan=300, cooldown=10, clock=lambda: clock[0])
        self.published: list[dict[str, str]] = []
        self.fetches = 0

    def fetch_data(self) -> dict[str, object]:
        self.fetches += 1
        return {"keys": list(self.published)}


def _jwk(kid: str) -> dict[str, str]:
    public_key = serialization.load_pem_public_key(PUBLIC_PEM)
    assert isinstance(public_key, Ed25519PublicKey)
    return {**OKPAlgorithm.to_jwk(public_key, as_dict=True), "kid": kid}


def test_a_rotated_key_is_fetched_at_once_but_made_up_keys_refresh_at_most_once_per_cooldown() -> None:
    now = [1000.0]
    keys = _CountingKeys(now)
    keys.published = [_jwk("old")]

    assert keys.get_signing_key("old").key_id == "old"  # first fetch
    keys.published = [_jwk("old"), _jwk("new")]  # the provider rotates its key a moment later
    assert keys.get_signing_key("new").key_id == "new"  # a miss refreshes at once
    for _ in range(5):
        with pytest.raises(jwt.PyJWKClientError):
            keys.get_signing_key("made-up")
    fetches_while_cooling_down = keys.fetches
    now[0] += 10
    with pytest.raises(jwt.PyJWKClientError):
        keys.get_signing_key("made-up")

    assert fetches_while_cooling_down == 2  # the first fetch and the rotation's: made-up keys waited their turn
    assert keys.fetches == 3
    assert keys.get_signing_key("old").key_id == "old"  # the old key keeps working
