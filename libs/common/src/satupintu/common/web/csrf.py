"""CSRF tokens bound to the page session (Starlette's ``SessionMiddleware``): every form carries the session's token,
a form posted with another session's token (or none) is refused, and signing in starts a new token so one known
before sign-in is worth nothing after it."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Final

from fastapi import Form
from starlette.requests import Request

CSRF_KEY: Final = "csrf"
"""Where the session keeps its token."""

CsrfField = Annotated[str, Form(max_length=200)]
"""The form field a page posts its token in (``csrf_token``; a token is 43 characters)."""


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get(CSRF_KEY)
    if not isinstance(token, str):
        token = renew_csrf_token(request)
    return token


def renew_csrf_token(request: Request) -> str:
    """Give the session a new CSRF token (when it starts: a new sign-in) and answer it."""
    token = secrets.token_urlsafe(32)
    request.session[CSRF_KEY] = token
    return token


def csrf_valid(request: Request, submitted: str) -> bool:
    """Whether a form's token is the session's."""
    expected = request.session.get(CSRF_KEY)
    return isinstance(expected, str) and bool(submitted) and hmac.compare_digest(expected, submitted)
