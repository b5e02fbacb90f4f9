"""The provider as this service sees it: its discovery document, the keys it signs with (fetched again when a token
names a key not seen yet, so a rotated key works at once), and the checks of the tokens it sends here: the ID token
of a sign-in and the logout token of a back-channel logout."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from satupintu.common.auth import ProviderKeys
from satupintu.common.settings import JWKS_CACHE_SECONDS, JWKS_REFRESH_COOLDOWN_SECONDS

BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


class ProviderUnavailable(Exception):
    """The provider's discovery document or keys could not be fetched; nobody can sign in right now."""


class UntrustedToken(Exception):
    """A token from the provider failed a check; the message says which, for the logs."""


@dataclass(frozen=True)
class Endpoints:
    """What the provider's discovery document says this service needs."""

    issuer: str
    authorization: str
    token: str
    end_session: str | None
    jwks_uri: str


class Provider:
    """One provider by its issuer URL, asked lazily: nothing is fetched until the first sign-in."""

    def __init__(self, issuer: str, client_id: str, *, algorithms: list[str], leeway: int) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self._algorithms = algorithms
        self._leeway = leeway
        self._endpoints: Endpoints | None = None
        self._keys: ProviderKeys | None = None
        self._lock = asyncio.Lock()

    async def endpoints(self) -> Endpoints:
        """The provider's endpoints, from its discovery document (fetched once; again after a failure)."""
        if self._endpoints is not None:
            return self._endpoints
        async with self._lock:
            if self._endpoints is None:
                self._endpoints = await self._discover()
        return self._endpoints

    async def _discover(self) -> Endpoints:
        url = f"{self.issuer}/.well-known/openid-configuration"
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                answer = await client.get(url)
                answer.raise_for_status()
                document: dict[str, Any] = answer.json()
        except (httpx.HTTPError, ValueError) as error:
            raise ProviderUnavailable(f"the provider's discovery document {url} could not be read: {error}") from error
        if document.get("issuer", "").rstrip("/") != self.issuer:
            raise ProviderUnavailable(f"{url} names another issuer: {document.get('issuer')!r}")
        return Endpoints(
            issuer=document["issuer"],
            authorization=document["authorization_endpoint"],
            token=document["token_endpoint"],
            end_session=document.get("end_session_endpoint"),
            jwks_uri=document["jwks_uri"],
        )

    async def id_token_claims(self, token: str, *, nonce: str) -> dict[str, Any]:
        """The claims of a sign-in's ID token, signed by the provider, for this client, current, with ``nonce``."""
        claims = await self._verified(token, require=["sub", "iss", "aud", "exp", "iat", "nonce"])
        if claims.get("nonce") != nonce:
            raise UntrustedToken("the ID token's nonce is not the one this sign-in sent")
        return claims

    async def logout_claims(self, token: str) -> dict[str, Any]:
        """The claims of a back-channel logout token (OpenID Connect Back-Channel Logout 1.0, section 2.6)."""
        claims = await self._verified(token, require=["iss", "aud", "iat", "jti", "events"])
        events = claims.get("events")
        if not isinstance(events, dict) or BACKCHANNEL_LOGOUT_EVENT not in events:
            raise UntrustedToken("the logout token carries no back-channel logout event")
        if "nonce" in claims:
            raise UntrustedToken("a logout token must not carry a nonce")
        if not claims.get("sid") and not claims.get("sub"):
            raise UntrustedToken("the logout token names neither a session nor a subject")
        return claims

    async def _verified(self, token: str, *, require: list[str]) -> dict[str, Any]:
        endpoints = await self.endpoints()
        if self._keys is None:
            # The access tokens' key set client: a rotated key is fetched at once, made-up ones not every time.
            self._keys = ProviderKeys(
                endpoints.jwks_uri, lifespan=JWKS_CACHE_SECONDS, cooldown=JWKS_REFRESH_COOLDOWN_SECONDS
            )
        keys = self._keys
        try:
            key = await asyncio.to_thread(keys.get_signing_key_from_jwt, token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=self._algorithms,
                audience=self.client_id,
                issuer=endpoints.issuer,
                leeway=self._leeway,
                options={"require": require},
            )
        except jwt.PyJWKClientConnectionError as error:
            raise ProviderUnavailable(f"the provider's keys could not be fetched: {error}") from error
        except jwt.PyJWTError as error:
            raise UntrustedToken(f"{type(error).__name__}: {error}") from error
        return claims
