"""Signing staff in to server-rendered pages with the bearer token they already have, until OpenID Connect sign-in
replaces it: a form POSTs the token (never in a URL) and the browser keeps it in a short-lived cookie (at most
``max_age_seconds`` and never past the token's own expiry; HttpOnly, SameSite=Strict, only for the pages' path,
Secure over HTTPS), verified again on every request like a bearer header, the role included.

The cookie needs no key of its own: it holds the token, which the identity provider signed (signature, issuer,
audience and expiry are checked each time), so it works across a service's replicas and restarts without a secret
per service to distribute (docs/decisions/0014-dead-letter-api.md). Forms carry a CSRF token: before sign-in, a
random value also kept in a cookie (double submit; a SameSite=Strict cookie never comes with another site's form);
once signed in, an HMAC keyed with the session's token, which only its holder can compute.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import jwt
from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from satupintu.common.auth import AuthenticationError, Principal, TokenVerifier

_CSRF_LABEL = b"satupintu page form"


@dataclass(frozen=True)
class TokenSignIn:
    """The sign-in cookie of the pages under ``path``."""

    path: str
    cookie: str
    max_age_seconds: int = 30 * 60

    @property
    def form_cookie(self) -> str:
        """The cookie holding the sign-in form's CSRF token."""
        return f"{self.cookie}_form"

    async def verify(self, request: Request, token: str) -> Principal:
        """The member of staff ``token`` names, checked by the app's verifier: ``AuthenticationError`` when it names
        nobody trustworthy, ``KeySetUnavailableError`` when the identity provider's keys cannot be fetched."""
        verifier: TokenVerifier = request.app.state.token_verifier
        return await run_in_threadpool(verifier.verify, token)  # a JWKS look-up may block

    async def signed_in(self, request: Request) -> Principal | None:
        """The member of staff whose token the cookie holds, verified now; None when there is none or it is no longer
        valid. Raises ``KeySetUnavailableError`` when the identity provider cannot be asked."""
        token = request.cookies.get(self.cookie)
        if not token:
            return None
        try:
            return await self.verify(request, token)
        except AuthenticationError:
            return None

    def sign_in(self, request: Request, response: Response, token: str) -> None:
        """Keep ``token`` (already verified) in the cookie, for at most its remaining lifetime."""
        response.set_cookie(
            self.cookie,
            token,
            max_age=max(1, min(self.max_age_seconds, _seconds_left(token))),
            path=self.path,
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="strict",
        )
        response.delete_cookie(self.form_cookie, path=self.path)

    def sign_out(self, response: Response) -> None:
        """Forget the cookie."""
        response.delete_cookie(self.cookie, path=self.path, httponly=True, samesite="strict")

    def form_token(self, request: Request) -> str:
        """The sign-in form's CSRF token: the one the browser keeps, or a new one (:meth:`keep_form_token`)."""
        return request.cookies.get(self.form_cookie) or secrets.token_urlsafe(32)

    def keep_form_token(self, request: Request, response: Response, value: str) -> None:
        """Have the browser keep the sign-in form's CSRF token for an hour."""
        response.set_cookie(
            self.form_cookie,
            value,
            max_age=3600,
            path=self.path,
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="strict",
        )

    def form_token_valid(self, request: Request, submitted: str) -> bool:
        """Whether the sign-in form came with the CSRF token the browser keeps."""
        kept = request.cookies.get(self.form_cookie)
        return bool(kept) and bool(submitted) and hmac.compare_digest((kept or "").encode(), submitted.encode())

    def csrf_token(self, request: Request) -> str:
        """The CSRF token of the signed-in session's forms: an HMAC keyed with its token."""
        token = request.cookies.get(self.cookie) or ""
        return hmac.new(token.encode(), _CSRF_LABEL, hashlib.sha256).hexdigest()

    def csrf_valid(self, request: Request, submitted: str) -> bool:
        """Whether a form of the signed-in session came with its CSRF token."""
        expected = self.csrf_token(request).encode()
        return bool(request.cookies.get(self.cookie)) and hmac.compare_digest(expected, submitted.encode())


def _seconds_left(token: str) -> int:
    """Seconds until ``token`` (verified already) expires."""
    claims = jwt.decode(token, options={"verify_signature": False})
    return int(claims["exp"] - time.time())
