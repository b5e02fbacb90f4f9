"""What the desk's routers share: the process's services, the officer behind a request (bearer token or desk
session), and domain errors as problem+json."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from satupintu.agency.domain import DeskError, InvalidDecision
from satupintu.agency.factory import AgencyContext
from satupintu.agency.services import DeskService, OfficerService, password_stamp
from satupintu.agency.storage.tables import Officer
from satupintu.common.auth import AuthenticationError, KeySetUnavailableError, Principal, Role, TokenVerifier
from satupintu.common.catalogue import Catalogue
from satupintu.common.problems import Problem
from satupintu.common.ratelimit import TokenBuckets

SESSION_OFFICER = "officer"
SESSION_AGENCY = "agency"
SESSION_STAMP = "stamp"

_bearer = HTTPBearer(
    auto_error=False, description="An officer's or an agency system's access token from the OIDC provider."
)


def context(request: Request) -> AgencyContext:
    """The process's context (``app.state.agency``)."""
    found: AgencyContext = request.app.state.agency
    return found


def desk_service(request: Request) -> DeskService:
    """The process's desk service."""
    return context(request).desk


def officer_service(request: Request) -> OfficerService:
    """The process's officer service."""
    return context(request).officers


def catalogue(request: Request) -> Catalogue:
    """The catalogue the process loaded."""
    return context(request).catalogue


def login_throttle(request: Request) -> TokenBuckets:
    """The limit of desk sign-in attempts per client address."""
    return context(request).login_throttle


def principal_of(officer: Officer) -> Principal:
    """The principal of an officer logged in to the desk."""
    return Principal(subject=officer.username, roles=frozenset({Role.OFFICER}), agency=officer.agency)


async def session_officer(request: Request) -> Officer | None:
    """The officer logged in with this request's desk session, if it is still valid (the officer exists, in the same
    agency, with the password the session was opened with); an invalid session is cleared."""
    username = request.session.get(SESSION_OFFICER)
    if not isinstance(username, str):
        return None
    officer = await officer_service(request).find(username)
    if (
        officer is None
        or officer.agency != request.session.get(SESSION_AGENCY)
        or password_stamp(officer) != request.session.get(SESSION_STAMP)
    ):
        request.session.clear()
        return None
    return officer


async def token_or_session_officer(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """The officer behind a bearer token or, without one, the desk session (for documents opened from the pages)."""
    if credentials is None:
        officer = await session_officer(request)
        if officer is None:
            raise Problem(
                401,
                "unauthenticated",
                "Log in to the desk or send an officer's bearer token.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return principal_of(officer)
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        principal = await asyncio.to_thread(verifier.verify, credentials.credentials)
    except AuthenticationError as error:
        raise Problem(401, "unauthenticated", str(error), headers={"WWW-Authenticate": "Bearer"}) from error
    except KeySetUnavailableError as error:
        raise Problem(503, "unavailable", "Sign-in cannot be checked right now; try again shortly.") from error
    if Role.OFFICER not in principal.roles:
        raise Problem(403, "forbidden", "This needs the officer role.")
    return principal


def problem_of(error: DeskError) -> Problem:
    """A desk error as problem+json (with field paths for an invalid decision)."""
    errors = (
        [{"field": problem.field, "message": problem.message} for problem in error.problems]
        if isinstance(error, InvalidDecision)
        else None
    )
    return Problem(error.status, error.problem_type, error.detail, errors=errors)
