"""An agency system's access to the desk's task API: a client-credentials token of the agency's own client
(``agency-<code>``) from the OpenID Connect provider, kept until shortly before it expires and then fetched again,
sent as the bearer token of every request (authlib's ``AsyncOAuth2Client`` does the grant and the renewal).

Needs the ``desk`` extra (``pip install 'satupintu-agency-sdk[desk]'``)::

    async with DeskAccess("polres", client_secret, issuer="https://sso.example.go.id/realms/satupintu",
                          desk_url="https://desk.example.go.id") as desk:
        tasks = (await desk.get("/tasks")).json()

The token carries only the agency's code (its client's service account is in the agency's group), so the desk
shows and lets it decide only that agency's tasks.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client

RENEW_BEFORE_EXPIRY_SECONDS = 30
"""A cached token is replaced when it has less than this left, so no request goes out with a token about to expire."""


class DeskAccess:
    """HTTP access to the desk's API as ``agency``'s systems, with the agency client's access token."""

    def __init__(
        self,
        agency: str,
        client_secret: str,
        *,
        issuer: str,
        desk_url: str,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.agency = agency
        self._issuer = issuer.rstrip("/")
        self._provider: Any = AsyncOAuth2Client(
            client_id=f"agency-{agency}",
            client_secret=client_secret,
            token_endpoint_auth_method="client_secret_basic",  # noqa: S106 (a method's name, not a secret)
            grant_type="client_credentials",
            leeway=RENEW_BEFORE_EXPIRY_SECONDS,
            timeout=timeout,
        )
        self._desk = httpx.AsyncClient(base_url=desk_url, timeout=timeout, transport=transport)

    async def access_token(self) -> str:
        """The agency's current access token: the cached one while it has time left, else a new one."""
        if self._provider.token is None:
            discovery = await self._provider.request(
                "GET", f"{self._issuer}/.well-known/openid-configuration", withhold_token=True
            )
            endpoint = discovery.raise_for_status().json()["token_endpoint"]
            self._provider.metadata["token_endpoint"] = endpoint  # where authlib renews it
            await self._provider.fetch_token(endpoint, grant_type="client_credentials")
        else:
            await self._provider.ensure_active_token(self._provider.token)  # renews it when it is about to expire
        return str(self._provider.token["access_token"])

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A request to the desk (``path`` relative to ``desk_url``) with the agency's bearer token."""
        headers = {**kwargs.pop("headers", {}), "Authorization": f"Bearer {await self.access_token()}"}
        return await self._desk.request(method, path, headers=headers, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """``GET path`` on the desk."""
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        """``POST path`` on the desk."""
        return await self.request("POST", path, **kwargs)

    async def aclose(self) -> None:
        """Close its HTTP connections."""
        await self._desk.aclose()
        await self._provider.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()
