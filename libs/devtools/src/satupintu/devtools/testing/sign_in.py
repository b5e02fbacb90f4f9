"""Signing in through the real local Keycloak in tests: a web client registered for the address a test serves a
service at (the realm's own clients name the ports of ``make up``), and a person typing their password into
Keycloak's real login form, driven over HTTP (the browser tests use Chromium instead)."""

from __future__ import annotations

import html
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from pydantic import SecretStr

from satupintu.common.oidc.settings import OidcSettings
from satupintu.devtools.localstack.keycloak import REALM, LocalKeycloak
from satupintu.devtools.testing.keycloak_admin import admin_token

_FORM_ACTION = re.compile(r'<form[^>]*id="kc-form-login"[^>]*action="(?P<action>[^"]+)"', re.S)


class KeycloakAdmin:
    """The local Keycloak's admin REST API, as its bootstrap administrator."""

    def __init__(self, keycloak: LocalKeycloak) -> None:
        self.keycloak = keycloak
        self._base = keycloak.url.rstrip("/")

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """``method`` on ``/admin/realms/<path>``; raises on an error answer."""
        answer = httpx.request(
            method,
            f"{self._base}/admin/realms/{path.lstrip('/')}",
            headers={"Authorization": f"Bearer {admin_token(self.keycloak)}"},
            timeout=30,
            **kwargs,
        )
        answer.raise_for_status()
        return answer

    def create_user(
        self, username: str, password: str, *, roles: list[str], group: str | None = None, name: str = "Uji Coba"
    ) -> str:
        """A new realm user holding the realm ``roles`` (in ``group``, e.g. ``/agencies/polres``); their id.

        The admin API ignores roles in a new user's representation, so they are mapped after.
        """
        first, _, last = name.partition(" ")
        user: dict[str, Any] = {
            "username": username,
            "enabled": True,
            "email": f"{username}@satupintu.local",
            "emailVerified": True,
            "firstName": first,
            "lastName": last or first,
            "credentials": [{"type": "password", "value": password, "temporary": False}],
        }
        if group:
            user["groups"] = [group]
        created = self.request("POST", f"{REALM}/users", json=user)
        user_id = created.headers["location"].rsplit("/", 1)[1]
        mapped = [self.request("GET", f"{REALM}/roles/{role}").json() for role in roles]
        self.request("POST", f"{REALM}/users/{user_id}/role-mappings/realm", json=mapped)
        return user_id

    def register_web_client(self, kind: str, base_url: str) -> OidcSettings:
        """A new client like the realm's ``satupintu-<kind>`` (same claims) for a service served at ``base_url``;
        the service's OIDC settings for it. A Keycloak imported from an older realm file (still running, which is
        never re-imported while it runs) may not have that client yet: its claim mappers then come from the realm
        file."""
        found = self.request("GET", f"{REALM}/clients", params={"clientId": f"satupintu-{kind}"}).json()
        template = found[0] if found else self._realm_file_client(f"satupintu-{kind}")
        client_id = f"test-{kind}-{uuid.uuid4().hex[:8]}"
        secret = secrets.token_urlsafe(24)
        base = base_url.rstrip("/")
        client = {
            "clientId": client_id,
            "enabled": True,
            "protocol": "openid-connect",
            "publicClient": False,
            "secret": secret,
            "standardFlowEnabled": True,
            "directAccessGrantsEnabled": False,
            "frontchannelLogout": False,
            "redirectUris": [f"{base}/auth/callback"],
            "attributes": {
                "pkce.code.challenge.method": "S256",
                "post.logout.redirect.uris": f"{base}/auth/signed-out",
                "backchannel.logout.url": f"{base}/auth/backchannel-logout",
                "backchannel.logout.session.required": "true",
            },
            "protocolMappers": [
                {key: value for key, value in mapper.items() if key != "id"}
                for mapper in template.get("protocolMappers", [])
            ],
        }
        self.request("POST", f"{REALM}/clients", json=client)
        return OidcSettings(
            issuer=self.keycloak.issuer, client_id=client_id, client_secret=SecretStr(secret), public_url=base
        )

    def _realm_file_client(self, client_id: str) -> dict[str, Any]:
        realm = json.loads(self.keycloak.realm_file.read_text())
        [client] = [client for client in realm["clients"] if client["clientId"] == client_id]
        found: dict[str, Any] = client
        return found


class BrowserCookies:
    """The provider's cookies as a browser keeps them on loopback: Keycloak marks them ``Secure`` and ``Version=1``,
    which browsers accept over HTTP on 127.0.0.1 (a secure context) and Python's cookie jar refuses. The client talks
    to Keycloak alone, so every cookie goes back to it."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}

    async def keep(self, response: httpx.Response) -> None:
        """Keep (or forget, when expired) what ``Set-Cookie`` says."""
        for header in response.headers.get_list("set-cookie"):
            pair, _, attributes = header.partition(";")
            name, _, value = pair.partition("=")
            if re.search(r"(?i)max-age=0\b", attributes) or not value:
                self._values.pop(name.strip(), None)
            else:
                self._values[name.strip()] = value.strip()

    async def attach(self, request: httpx.Request) -> None:
        """Send every kept cookie."""
        if self._values:
            request.headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self._values.items())


@dataclass
class Person:
    """Someone at a browser: the cookies Keycloak gives them (its SSO session) persist across sign-ins."""

    username: str
    password: str
    provider: httpx.AsyncClient

    @classmethod
    def named(cls, username: str, password: str | None = None) -> Person:
        """A local realm user (password ``local-<username>`` unless given)."""
        jar = BrowserCookies()
        hooks: dict[str, list[Any]] = {"request": [jar.attach], "response": [jar.keep]}
        return cls(username, password or f"local-{username}", httpx.AsyncClient(timeout=30, event_hooks=hooks))

    async def sign_in(self, service: httpx.AsyncClient, return_to: str = "") -> httpx.Response:
        """Start a sign-in at ``service`` (``/auth/login``), type the password into Keycloak's login form unless
        Keycloak remembers them, and follow the provider's redirect back to the service's callback; the
        callback's answer (a 303 to the page on success)."""
        start = await service.get("/auth/login", params={"next": return_to} if return_to else None)
        assert start.status_code == 303, start.text
        at_provider = await self.provider.get(start.headers["location"])
        if at_provider.status_code == 200:  # the login form: no SSO session yet
            match = _FORM_ACTION.search(at_provider.text)
            assert match, at_provider.text[:2000]
            at_provider = await self.provider.post(
                html.unescape(match["action"]), data={"username": self.username, "password": self.password}
            )
        assert at_provider.status_code == 302, at_provider.text[:2000]
        back = urlsplit(at_provider.headers["location"])
        return await service.get("/auth/callback", params={k: v[0] for k, v in parse_qs(back.query).items()})

    async def wrong_password(self, service: httpx.AsyncClient, password: str) -> httpx.Response:
        """Type a wrong password into Keycloak's login form: its answer (the form again, with an error)."""
        start = await service.get("/auth/login")
        form = await self.provider.get(start.headers["location"])
        match = _FORM_ACTION.search(form.text)
        assert match, form.text[:2000]
        return await self.provider.post(
            html.unescape(match["action"]), data={"username": self.username, "password": password}
        )

    async def close(self) -> None:
        """Close the browser."""
        await self.provider.aclose()
