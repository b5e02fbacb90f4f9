"""What the desk's routers share: the process's services, the officer behind a request (bearer token, or the desk
session of an officer signed in through the provider), and domain errors as problem+json."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from satupintu.agency.api.refusals import refuse_unless_officer
from satupintu.agency.domain import DeskError, InvalidRequest
from satupintu.agency.factory import AgencyContext
from satupintu.agency.services import DeskService
from satupintu.common.auth import AuthenticationError, KeySetUnavailableError, Principal, Role, TokenVerifier
from satupintu.common.catalogue import Catalogue
from satupintu.common.oidc.web import SignIn
from satupintu.common.problems import Problem

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


def catalogue(request: Request) -> Catalogue:
    """The catalogue the process loaded."""
    return context(request).catalogue


def sign_in(request: Request) -> SignIn:
    """Officers' sign-in through the provider."""
    return context(request).sign_in


@dataclass(frozen=True)
class DeskOfficer:
    """The officer signed in to the desk's pages, as the pages show them."""

    username: str
    display_name: str
    agency: str
    principal: Principal


async def signed_in_officer(request: Request) -> DeskOfficer | None:
    """The officer signed in through the provider with this request's desk session, if any (the session exists
    server-side, has not expired and was not ended by a logout anywhere): an officer with an agency, not someone
    else the desk's sign-in admits (an operator, for the dead-letter page)."""
    found = await sign_in(request).signed_in(request)
    agency = found.principal.agency if found else None
    if found is None or agency is None or Role.OFFICER not in found.principal.roles:
        return None
    return DeskOfficer(found.principal.subject, found.display_name, agency, found.principal)


async def token_or_session_officer(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """The officer behind a bearer token or, without one, the desk session (for documents opened from the pages)."""
    if credentials is None:
        officer = await signed_in_officer(request)
        if officer is None:
            raise Problem(
                401,
                "unauthenticated",
                "Sign in to the desk or send an officer's bearer token.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return officer.principal
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        principal = await asyncio.to_thread(verifier.verify, credentials.credentials)
    except AuthenticationError as error:
        raise Problem(401, "unauthenticated", str(error), headers={"WWW-Authenticate": "Bearer"}) from error
    except KeySetUnavailableError as error:
        raise Problem(503, "unavailable", "Sign-in cannot be checked right now; try again shortly.") from error
    await refuse_unless_officer(request, principal, "read")
    return principal


def problem_of(error: DeskError) -> Problem:
    """A desk error as problem+json (with field paths for an invalid decision, revocation or reassignment)."""
    errors = (
        [{"field": problem.field, "message": problem.message} for problem in error.problems]
        if isinstance(error, InvalidRequest)
        else None
    )
    return Problem(error.status, error.problem_type, error.detail, errors=errors)
