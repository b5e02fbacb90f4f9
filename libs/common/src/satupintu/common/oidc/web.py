"""The ``/auth/*`` routes a service with sign-in pages mounts, and who is signed in on a page request.

- ``GET /auth/login?next=/path``: start a sign-in: a random ``state``, ``nonce`` and PKCE verifier kept server-side
  (bound to this browser by a cookie), then off to the provider's login page (authlib builds the URL).
- ``GET /auth/callback``: the provider sends the browser back with a code; the attempt is taken once (a wrong or
  replayed ``state`` finds nothing and signs nobody in), the code exchanged with the verifier, the ID token checked
  (signature by the provider's keys, issuer, audience, expiry, nonce), and a session opened whose cookie holds only
  an opaque id; tokens stay on the server.
- ``POST /auth/logout``: end the session here, then at the provider (RP-initiated logout), which tells the other
  services the person signed in to through this session (back-channel logout).
- ``POST /auth/backchannel-logout``: the provider says a session ended; every session here it names ends.
- ``GET /auth/signed-out``: where the provider sends the browser after logout: the service's sign-in page.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError

from satupintu.common.auth import Principal, Role
from satupintu.common.clock import utc_now
from satupintu.common.oidc.provider import Provider, ProviderUnavailable, UntrustedToken
from satupintu.common.oidc.sessions import KeptTokens, SessionStore, SignedIn, TokenStore, digest, new_secret
from satupintu.common.oidc.settings import LOCAL_ISSUER, OidcSettings
from satupintu.common.web.pages import page_headers
from satupintu.common.web.templates import render_html

_logger = logging.getLogger(__name__)
_TOKEN_MARGIN = timedelta(seconds=30)
"""An access token this close to its expiry is refreshed before it is used."""
_CSRF_LABEL = b"satupintu signed-in form"
PREFIX = "/auth"


@dataclass(frozen=True)
class SignInProblem:
    """Why a sign-in did not happen, in the pages' two languages."""

    status: int
    title: str
    message: str


EXPIRED = SignInProblem(
    400,
    "Masuk tidak dapat diselesaikan / Sign-in could not be finished",
    "Permintaan masuk ini sudah dipakai, kedaluwarsa, atau dimulai di peramban lain. Silakan masuk lagi. / This "
    "sign-in was already used, has expired, or was started in another browser. Please sign in again.",
)
NOT_ALLOWED = SignInProblem(
    403,
    "Akun ini tidak berhak / This account may not use these pages",
    "Akun Anda tidak memiliki peran untuk halaman ini. / Your account does not hold a role these pages need.",
)
UNAVAILABLE = SignInProblem(
    503,
    "Layanan masuk tidak tersedia / Sign-in is unavailable",
    "Penyedia identitas tidak dapat dihubungi. Coba lagi sebentar lagi. / The identity provider cannot be reached "
    "right now; try again shortly.",
)


class SignIn:
    """One service's sign-in through the provider: who may sign in here (``roles``), the cookie that holds the
    session's opaque id, the service's sign-in page (``landing``) and where a signed-in person goes (``home``)."""

    def __init__(
        self,
        settings: OidcSettings,
        store: SessionStore,
        *,
        client: str,
        port: int,
        roles: Iterable[Role],
        cookie: str,
        landing: str,
        home: str,
        tokens: TokenStore | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.client_id = settings.client_id or f"satupintu-{client}"
        secret = settings.client_secret.get_secret_value() if settings.client_secret else None
        self._client_secret = secret or f"local-development-satupintu-{client}"
        self.public_url = (settings.public_url or f"http://127.0.0.1:{port}").rstrip("/")
        self.provider = Provider(
            settings.issuer or LOCAL_ISSUER,
            self.client_id,
            algorithms=settings.algorithms,
            leeway=settings.leeway_seconds,
        )
        self.roles = frozenset(roles)
        self.cookie = cookie
        self.landing = landing
        self.home = home
        self.tokens = tokens

    @property
    def provider_origin(self) -> str:
        """The provider's origin: a page's ``form-action`` must allow it, for signing out goes there after the
        form's POST (browsers apply ``form-action`` to the redirect)."""
        parts = urlsplit(self.provider.issuer)
        return f"{parts.scheme}://{parts.netloc}"

    def allowing_sign_out(self, policy: str) -> str:
        """A page's content security ``policy`` with the provider's origin among the places its forms may lead (its
        ``form-action 'self'`` widened): signing out posts here and ends at the provider's end-session endpoint."""
        if "form-action 'self'" not in policy:
            raise ValueError("the page's policy has no form-action 'self' to widen")
        return policy.replace("form-action 'self'", f"form-action 'self' {self.provider_origin}", 1)

    @property
    def redirect_uri(self) -> str:
        """Where the provider sends the browser back (registered with the provider)."""
        return f"{self.public_url}{PREFIX}/callback"

    @property
    def attempt_cookie(self) -> str:
        """The cookie binding a sign-in attempt to the browser that started it."""
        return f"{self.cookie}_attempt"

    def login_url(self, return_to: str) -> str:
        """The path that starts a sign-in and comes back to ``return_to``."""
        return f"{PREFIX}/login?{urlencode({'next': return_to})}"

    async def signed_in(self, request: Request) -> SignedIn | None:
        """Who is signed in with this request's cookie, now (once per request); None when nobody is."""
        cached: SignedIn | bool | None = getattr(request.state, "signed_in", False)
        if cached is not False:
            return cached  # type: ignore[return-value]
        value = request.cookies.get(self.cookie)
        found = await self.store.find(value) if value else None
        if found is not None and not found.principal.roles & self.roles:
            found = None
        request.state.signed_in = found
        return found

    async def principal(self, request: Request) -> Principal | None:
        """The signed-in principal of this request; None when nobody is."""
        found = await self.signed_in(request)
        return found.principal if found else None

    def csrf_token(self, request: Request) -> str:
        """The CSRF token of the signed-in session's forms: an HMAC keyed with its opaque id, which only the browser
        holding it can compute."""
        value = request.cookies.get(self.cookie) or ""
        return hmac.new(value.encode(), _CSRF_LABEL, hashlib.sha256).hexdigest()

    def csrf_valid(self, request: Request, submitted: str) -> bool:
        """Whether a form of the signed-in session came with its CSRF token."""
        if not request.cookies.get(self.cookie) or not submitted:
            return False
        return hmac.compare_digest(self.csrf_token(request).encode(), submitted.encode())

    def _oauth_client(self) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.client_id,
            client_secret=self._client_secret,
            scope="openid",
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            timeout=10,
        )

    async def start(self, request: Request, return_to: str) -> Response:
        """A redirect to the provider's login page, the attempt kept and bound to this browser."""
        try:
            endpoints = await self.provider.endpoints()
        except ProviderUnavailable as error:
            _logger.warning("sign-in cannot start: %s", error)
            return self.problem(UNAVAILABLE)
        state, nonce, verifier, browser = generate_token(43), generate_token(32), generate_token(64), new_secret()
        await self.store.start_attempt(
            state=state, browser=browser, code_verifier=verifier, nonce=nonce, return_to=safe_path(return_to, self.home)
        )
        async with self._oauth_client() as client:
            url, _ = client.create_authorization_url(
                endpoints.authorization, state=state, code_verifier=verifier, nonce=nonce
            )
        response = RedirectResponse(url, status_code=303, headers=page_headers())
        response.set_cookie(
            self.attempt_cookie,
            browser,
            max_age=self.settings.attempt_max_age_seconds,
            path=PREFIX,
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="lax",  # the provider's redirect back is a cross-site top-level navigation
        )
        return response

    async def finish(self, request: Request, code: str, state: str) -> Response:
        """The callback: take the attempt, exchange the code, check the ID token, open the session."""
        attempt = await self.store.take_attempt(state, max_age=timedelta(seconds=self.settings.attempt_max_age_seconds))
        browser = request.cookies.get(self.attempt_cookie, "")
        if attempt is None or not code or not hmac.compare_digest(digest(browser), attempt.browser_digest):
            return self.problem(EXPIRED)
        try:
            endpoints = await self.provider.endpoints()
            async with self._oauth_client() as client:
                tokens: dict[str, Any] = await client.fetch_token(
                    endpoints.token, code=code, code_verifier=attempt.code_verifier
                )
            id_token = str(tokens.get("id_token") or "")
            claims = await self.provider.id_token_claims(id_token, nonce=attempt.nonce)
        except ProviderUnavailable as error:
            _logger.warning("sign-in cannot finish: %s", error)
            return self.problem(UNAVAILABLE)
        except (OAuthError, UntrustedToken) as error:
            _logger.warning("sign-in refused: %s", error)
            return self.problem(EXPIRED)
        principal = principal_of(claims)
        if principal is None or not principal.roles & self.roles:
            return self.problem(NOT_ALLOWED)
        value = await self.store.open(
            principal,
            provider_subject=str(claims["sub"]),
            provider_session=claims.get("sid"),
            display_name=str(claims.get("name") or principal.subject),
            nik=claims.get("nik") if Role.CITIZEN in principal.roles else None,
            id_token=id_token,
            lasts=timedelta(seconds=self.settings.session_max_age_seconds),
        )
        if self.tokens is not None and tokens.get("access_token"):
            await self.tokens.keep(value, _kept(tokens))
        response = RedirectResponse(attempt.return_to, status_code=303, headers=page_headers())
        response.set_cookie(
            self.cookie,
            value,
            max_age=self.settings.session_max_age_seconds,
            path="/",
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="lax",
        )
        response.delete_cookie(self.attempt_cookie, path=PREFIX)
        return response

    async def access_token(self, request: Request) -> str | None:
        """The provider's access token of the person signed in with this request, refreshed when it is about to
        expire, for the service's server to call another service as them (only with ``tokens``); None when nobody
        is signed in, no token was kept, or it can no longer be refreshed (they sign in again)."""
        value = request.cookies.get(self.cookie)
        if self.tokens is None or not value or await self.signed_in(request) is None:
            return None
        kept = await self.tokens.find(value)
        if kept is None:
            return None
        if kept.access_expires_at > utc_now() + _TOKEN_MARGIN:
            return kept.access_token
        if not kept.refresh_token:
            return None
        try:
            endpoints = await self.provider.endpoints()
            async with self._oauth_client() as client:
                fresh: dict[str, Any] = await client.refresh_token(endpoints.token, refresh_token=kept.refresh_token)
        except (ProviderUnavailable, OAuthError) as error:
            _logger.warning("access token not refreshed: %s", error)
            return None
        refreshed = _kept(fresh, kept.refresh_token)
        await self.tokens.keep(value, refreshed)
        return refreshed.access_token

    async def logout(self, request: Request) -> Response:
        """End the session here and send the browser to end it at the provider."""
        value = request.cookies.get(self.cookie)
        found = await self.store.find(value) if value else None
        if value:
            await self.store.end(value)
        signed_out = f"{self.public_url}{PREFIX}/signed-out"
        target = signed_out
        if found is not None:
            try:
                endpoints = await self.provider.endpoints()
            except ProviderUnavailable:
                endpoints = None
            if endpoints is not None and endpoints.end_session:
                query = urlencode(
                    {
                        "id_token_hint": found.id_token,
                        "post_logout_redirect_uri": signed_out,
                        "client_id": self.client_id,
                    }
                )
                target = f"{endpoints.end_session}?{query}"
        response = RedirectResponse(target, status_code=303, headers=page_headers())
        response.delete_cookie(self.cookie, path="/", httponly=True, samesite="lax")
        return response

    async def backchannel_logout(self, logout_token: str) -> Response:
        """The provider says a session ended (OpenID Connect Back-Channel Logout 1.0): end what it names here."""
        headers = {"Cache-Control": "no-store"}
        try:
            claims = await self.provider.logout_claims(logout_token)
        except UntrustedToken as error:
            _logger.warning("back-channel logout refused: %s", error)
            return JSONResponse({"error": "invalid_request"}, status_code=400, headers=headers)
        except ProviderUnavailable as error:
            _logger.warning("back-channel logout cannot be checked: %s", error)
            return JSONResponse({"error": "temporarily_unavailable"}, status_code=503, headers=headers)
        ended = await self.store.end_provider_sessions(
            provider_session=claims.get("sid"), provider_subject=claims.get("sub")
        )
        _logger.info("back-channel logout ended %d session(s)", ended)
        return Response(status_code=200, headers=headers)

    def problem(self, problem: SignInProblem) -> HTMLResponse:
        """A page saying why nobody was signed in, with the way to try again."""
        return render_html(
            "satupintu.common.web",
            "sign_in_problem.html",
            {"problem": problem, "again": self.login_url(self.home), "landing": self.landing},
            status_code=problem.status,
            headers=page_headers(),
        )


def _kept(tokens: dict[str, Any], refresh_token: str | None = None) -> KeptTokens:
    """The tokens a token endpoint answered, as kept (a refresh that sends no new refresh token keeps the old)."""
    lifetime = timedelta(seconds=int(tokens.get("expires_in") or 60))
    return KeptTokens(
        access_token=str(tokens["access_token"]),
        refresh_token=str(tokens.get("refresh_token") or refresh_token or "") or None,
        access_expires_at=utc_now() + lifetime,
    )


def principal_of(claims: dict[str, Any]) -> Principal | None:
    """The principal an ID token names: roles of ours from its ``roles`` claim, the agency from ``agency``, the
    subject as the provider names the person (``preferred_username``, else ``sub``); None when it holds none of ours."""
    granted = claims.get("roles")
    names = {role for role in granted if isinstance(role, str)} if isinstance(granted, list) else set()
    roles = frozenset(Role(name) for name in names & {role.value for role in Role})
    if not roles:
        return None
    try:
        return Principal(
            subject=str(claims.get("preferred_username") or claims["sub"]), roles=roles, agency=claims.get("agency")
        )
    except ValidationError:
        return None


def safe_path(candidate: str, fallback: str) -> str:
    """``candidate`` when it is a path on this site (not another site's address), else ``fallback``."""
    if candidate.startswith("/") and not candidate.startswith("//") and "\\" not in candidate:
        return candidate
    return fallback


def sign_in_router(sign_in: SignIn) -> APIRouter:
    """The ``/auth/*`` routes of ``sign_in`` (not in the OpenAPI document: they are pages and the provider's)."""
    router = APIRouter(prefix=PREFIX, include_in_schema=False)

    @router.get("/login")
    async def start(request: Request, next: str = "") -> Response:
        return await sign_in.start(request, next or sign_in.home)

    @router.get("/callback")
    async def callback(request: Request, code: str = "", state: str = "") -> Response:
        return await sign_in.finish(request, code, state)

    @router.post("/logout")
    async def logout(request: Request, csrf_token: str = Form(default="", max_length=128)) -> Response:
        if not sign_in.csrf_valid(request, csrf_token):
            return RedirectResponse(sign_in.landing, status_code=303)
        return await sign_in.logout(request)

    @router.get("/signed-out")
    async def signed_out() -> Response:
        return RedirectResponse(f"{sign_in.landing}?signed_out=1", status_code=303)

    @router.post("/backchannel-logout")
    async def backchannel(logout_token: str = Form(default="", max_length=16_384)) -> Response:
        return await sign_in.backchannel_logout(logout_token)

    return router
