"""Who may read the audit trail: callers whose bearer token grants the ``auditor`` role. A caller who signs in but
lacks the role is refused and the refusal is recorded (``access.recorded`` with outcome ``denied``, against the
application asked about when there is one).

The JSON API takes the token from ``Authorization: Bearer``. The pages take no token: auditors sign in to them
through the OpenID Connect provider, and a page's auditor is the one its session names (auditors and, for the
dead-letter page, operators get a session; an operator is refused here like anyone else without the role).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from satupintu.audit.api import dependencies
from satupintu.common.auth import AuthenticationError, KeySetUnavailableError, Principal, Role, TokenVerifier

PERSONAL_PARAMETER = "personal"
_SECRET_PARAMETERS = frozenset({"token"})  # never read, and never recorded should someone send one

_bearer = HTTPBearer(auto_error=False, description="A staff token with the `auditor` role.")


class PageRefused(Exception):
    """A page was asked for by nobody signed in; the pages answer with the sign-in page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def requested_resource(request: Request) -> str:
    """What a request asked for, as recorded in ``access.recorded``: method, path and query, with a personal value
    replaced by its keyed hash and any token left out."""
    parameters: list[tuple[str, str]] = []
    for name, value in request.query_params.multi_items():
        if name in _SECRET_PARAMETERS:
            continue
        shown = dependencies.queries(request).personal_hash(value) if name == PERSONAL_PARAMETER else value
        parameters.append((name, shown))
    query = f"?{urlencode(parameters)}" if parameters else ""
    return f"{request.method} {request.url.path}{query}"


def asked_application(request: Request) -> str | None:
    """The application a request asks about (its timeline, or a search of its entries), if it names one: a refusal
    is recorded against it, so that it is on that application's timeline."""
    return request.path_params.get("application_id") or request.query_params.get("application_id") or None


async def authorise(request: Request, token: str | None) -> Principal:
    """The auditor a token names; 401 when it names nobody trustworthy, 403 (recorded) when not an auditor."""
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        principal = await run_in_threadpool(verifier.verify, token)  # a JWKS fetch may block
    except AuthenticationError as error:
        raise HTTPException(401, detail=str(error), headers={"WWW-Authenticate": "Bearer"}) from error
    except KeySetUnavailableError as error:
        raise HTTPException(503, detail="Sign-in cannot be checked right now; try again shortly.") from error
    if Role.AUDITOR not in principal.roles:
        detail = f"This needs the auditor role; your token grants {', '.join(sorted(principal.roles))}."
        await _record_refusal(request, principal, detail)
        raise HTTPException(403, detail=detail)
    return principal


async def _record_refusal(request: Request, principal: Principal, detail: str) -> None:
    await dependencies.queries(request).record_denied(
        principal, requested_resource(request), detail, application_id=asked_application(request)
    )


async def auditor(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
) -> Principal:
    """FastAPI dependency of the JSON API: the calling auditor, from the bearer token."""
    return await authorise(request, credentials.credentials if credentials else None)


async def page_auditor(request: Request) -> Principal:
    """FastAPI dependency of the pages: the auditor signed in through the provider (the session's, never a token).
    Audit's sign-in also admits operators (for the dead-letter page): one signed in is refused here, and the refusal
    recorded."""
    principal = await dependencies.context(request).sign_in.principal(request)
    if principal is None:
        raise PageRefused(401, "Masuk dulu sebagai auditor. / Sign in as an auditor first.")
    if Role.AUDITOR not in principal.roles:
        detail = f"This needs the auditor role; your account holds {', '.join(sorted(principal.roles))}."
        await _record_refusal(request, principal, detail)
        raise PageRefused(403, f"Halaman ini hanya untuk auditor. / {detail}")
    return principal
