"""Signing in through the real local Keycloak with the OpenID Connect kit: Authorization Code with PKCE, a cookie that
holds only an opaque id, a callback that cannot be forged or replayed, logout at one service that ends the session
at another through back-channel logout, and the realm's lockout after repeated wrong passwords."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime

import httpx
import jwt
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from satupintu.common.auth import Role
from satupintu.common.crypto import FieldCipher
from satupintu.common.database import create_engine, create_tables, session_factory
from satupintu.common.oidc.sessions import SIGN_IN_TABLES, SessionStore, SignInTokens, TokenStore, digest
from satupintu.common.oidc.web import SignIn, sign_in_router
from satupintu.common.settings import DatabaseSettings
from satupintu.devtools.localstack.keycloak import REALM, LocalKeycloak
from satupintu.devtools.testing.browser import free_port
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.sign_in import KeycloakAdmin, Person
from satupintu.devtools.testing.waiting import eventually

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def store(database_settings: DatabaseSettings) -> AsyncIterator[SessionStore]:
    """Attempts and sessions in a scratch database."""
    await service_database(database_settings, "signin")
    engine = create_engine(database_settings.owner(), "signin")
    await create_tables(engine, [*SIGN_IN_TABLES, SignInTokens])
    yield SessionStore(session_factory(engine), FieldCipher({"k1": bytes(32)}, "k1"), lambda: datetime.now(UTC))
    await engine.dispose()


def app_with(sign_in: SignIn) -> FastAPI:
    """A service with sign-in pages for officers: ``/whoami`` answers who is signed in."""
    app = FastAPI()
    app.include_router(sign_in_router(sign_in))

    @app.get("/whoami")
    async def whoami(request: Request) -> JSONResponse:
        principal = await sign_in.principal(request)
        if principal is None:
            return JSONResponse({"signed_in": False}, status_code=401)
        return JSONResponse(
            {"subject": principal.subject, "agency": principal.agency, "csrf": sign_in.csrf_token(request)}
        )

    @app.get("/token")
    async def token(request: Request) -> JSONResponse:
        return JSONResponse({"access_token": await sign_in.access_token(request)})

    @app.get("/sign-in")
    async def landing() -> JSONResponse:
        return JSONResponse({"page": "sign-in"})

    return app


@asynccontextmanager
async def served(
    keycloak: LocalKeycloak, store: SessionStore, tokens: TokenStore | None = None
) -> AsyncIterator[tuple[SignIn, httpx.AsyncClient]]:
    """A service served by uvicorn on a free port, its own client registered at Keycloak; its sign-in and a client
    of it that keeps cookies as a browser would."""
    port = free_port()
    settings = KeycloakAdmin(keycloak).register_web_client("desk", f"http://127.0.0.1:{port}")
    sign_in = SignIn(
        settings,
        store,
        client="desk",
        port=port,
        roles={Role.OFFICER},
        cookie=f"s{port}",
        landing="/sign-in",
        home="/whoami",
        tokens=tokens,
    )
    server = uvicorn.Server(uvicorn.Config(app_with(sign_in), host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    await eventually(lambda: asyncio.sleep(0, server.started), what="the service listening")
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            yield sign_in, client
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, timeout=30)


async def test_an_officer_signs_in_and_the_browser_holds_only_an_opaque_id(
    keycloak: LocalKeycloak, store: SessionStore
) -> None:
    person = Person.named("officer-polres")
    async with served(keycloak, store) as (sign_in, service):
        assert (await service.get("/whoami")).status_code == 401
        back = await person.sign_in(service, "/whoami")
        assert (back.status_code, back.headers["location"]) == (303, "/whoami")
        me = await service.get("/whoami")
        assert me.status_code == 200
        assert me.json()["subject"] == "officer-polres"
        assert me.json()["agency"] == "polres"
        cookie = service.cookies[sign_in.cookie]
        assert "." not in cookie  # no JWT
        assert "officer" not in cookie
        assert len(cookie) >= 40
        assert "token" not in back.text
    await person.close()


async def test_a_wrong_state_or_a_replayed_callback_signs_nobody_in(
    keycloak: LocalKeycloak, store: SessionStore
) -> None:
    person = Person.named("officer-polres")
    async with served(keycloak, store) as (sign_in, service):
        start = await service.get("/auth/login")
        form = await person.provider.get(start.headers["location"])
        action = form.text.split('id="kc-form-login"', 1)[1].split('action="', 1)[1].split('"', 1)[0]
        back = await person.provider.post(
            action.replace("&amp;", "&"), data={"username": person.username, "password": person.password}
        )
        query = dict(httpx.URL(back.headers["location"]).params)

        forged = await service.get("/auth/callback", params={**query, "state": "forged"})
        assert forged.status_code == 400
        assert (await service.get("/whoami")).status_code == 401

        finished = await service.get("/auth/callback", params=query)
        assert finished.status_code == 303
        assert (await service.get("/whoami")).status_code == 200

        service.cookies.delete(sign_in.cookie)
        replayed = await service.get("/auth/callback", params=query)
        assert replayed.status_code == 400
        assert sign_in.cookie not in replayed.cookies
        assert (await service.get("/whoami")).status_code == 401
    await person.close()


async def test_signing_out_at_one_service_ends_the_session_at_another_through_back_channel_logout(
    keycloak: LocalKeycloak, store: SessionStore
) -> None:
    person = Person.named("officer-polres")
    async with served(keycloak, store) as (_desk, desk), served(keycloak, store) as (_counter, counter):
        assert (await person.sign_in(desk)).status_code == 303
        assert (await person.sign_in(counter)).status_code == 303  # Keycloak remembers them: no password again
        assert (await counter.get("/whoami")).status_code == 200

        csrf = (await desk.get("/whoami")).json()["csrf"]
        out = await desk.post("/auth/logout", data={"csrf_token": csrf})
        assert out.status_code == 303
        at_provider = await person.provider.get(out.headers["location"])  # RP-initiated logout at Keycloak
        assert at_provider.status_code == 302, at_provider.text[:500]
        assert at_provider.headers["location"].endswith("/auth/signed-out")

        assert (await desk.get("/whoami")).status_code == 401

        async def counter_status() -> int:
            return (await counter.get("/whoami")).status_code

        await eventually(counter_status, lambda status: status == 401, what="the counter's session ended")
    await person.close()


async def test_logout_tokens_that_are_not_the_providers_are_refused(
    keycloak: LocalKeycloak, store: SessionStore
) -> None:
    async with served(keycloak, store) as (_sign_in, service):
        refused = await service.post("/auth/backchannel-logout", data={"logout_token": "e30.e30.sig"})
        assert refused.status_code == 400


async def test_the_realm_locks_an_account_after_five_wrong_passwords(
    keycloak: LocalKeycloak, store: SessionStore
) -> None:
    admin = KeycloakAdmin(keycloak)
    username = f"officer-{uuid.uuid4().hex[:8]}"
    admin.create_user(username, "benar-sekali-2026", roles=["officer"], group="/agencies/polres")
    person = Person.named(username, "benar-sekali-2026")
    async with served(keycloak, store) as (_sign_in, service):
        for attempt in range(5):
            wrong = await person.wrong_password(service, f"salah-{attempt}")
            assert wrong.status_code == 200  # the form again
        start = await service.get("/auth/login")
        form = await person.provider.get(start.headers["location"])
        action = form.text.split('id="kc-form-login"', 1)[1].split('action="', 1)[1].split('"', 1)[0]
        locked = await person.provider.post(
            action.replace("&amp;", "&"), data={"username": person.username, "password": person.password}
        )
        assert locked.status_code == 200  # the right password is refused while locked: the form again
        assert "location" not in locked.headers
        [user] = admin.request("GET", f"{REALM}/users", params={"username": username, "exact": "true"}).json()
        status = admin.request(
            "GET", f"attack-detection/brute-force/users/{user['id']}".replace("attack", f"{REALM}/attack")
        ).json()
        assert status["disabled"] is True
    await person.close()


async def test_a_service_that_keeps_tokens_calls_others_as_the_person_and_refreshes_an_expiring_token(
    keycloak: LocalKeycloak, store: SessionStore
) -> None:
    tokens = TokenStore(store._sessions, FieldCipher({"k1": bytes(32)}, "k1"))
    person = Person.named("officer-polres")
    async with served(keycloak, store, tokens) as (sign_in, service):
        assert (await service.get("/token")).json() == {"access_token": None}  # nobody signed in
        await person.sign_in(service, "/whoami")
        first = (await service.get("/token")).json()["access_token"]
        cookie = service.cookies[sign_in.cookie]
        kept = await tokens.find(cookie)
        assert kept is not None
        assert kept.access_token == first
        await tokens.keep(cookie, replace(kept, access_expires_at=datetime.now(UTC)))  # about to expire
        refreshed = (await service.get("/token")).json()["access_token"]
        async with store._sessions() as session:
            sealed = await session.get(SignInTokens, digest(cookie))
    await person.close()

    assert refreshed
    assert refreshed != first
    claims = jwt.decode(refreshed, options={"verify_signature": False})
    assert (claims["preferred_username"], claims["agency"]) == ("officer-polres", "polres")
    assert sealed is not None
    assert first not in sealed.access_token  # sealed at rest
