"""``/dlq``: what this service dead-lettered, and replaying it, for operators with a bearer token. Every call is
recorded as ``access.recorded``, a refused one (a token without the operator role) too."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from satupintu.common.access_log import refusal, verified_principal
from satupintu.common.auth import Principal, Role
from satupintu.common.dead_letters.queues import DeadLettersUnreadable
from satupintu.common.dead_letters.schemas import DeadLetterList, DeadLetterQuery, ReplayCreate, ReplayRead
from satupintu.common.dead_letters.service import DeadLetterService, UnknownCriterion
from satupintu.common.problems import RETRY_AFTER_SECONDS, Problem, documented_problems

router = APIRouter(prefix="/dlq", tags=["dead letters"])

_bearer = HTTPBearer(auto_error=False, description="An operator's token (`satupintu-token --user operator` locally).")
_PROBLEMS = documented_problems(
    {
        401: "No valid bearer token.",
        403: "The token is not an operator's (the refusal is recorded).",
        422: "A filter is not valid (or names a consumer or topic that is not this service's); see `errors`.",
        503: "The dead-letter topics or the database cannot be reached right now; nothing was replayed.",
    }
)


def dead_letter_service(request: Request) -> DeadLetterService:
    """The app's dead-letter use cases, set by ``install``."""
    service: DeadLetterService = request.app.state.dead_letters
    return service


def requested_resource(request: Request) -> str:
    """What a request asked for, as ``access.recorded`` names it: method, path and query."""
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{request.method} {request.url.path}{query}"


def operator(action: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting operators (bearer token) to ``action``; a refusal (403) is recorded as denied."""

    async def recorded_operator(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
    ) -> Principal:
        principal = await verified_principal(request, credentials.credentials if credentials else None)
        why_not = refusal(principal, Role.OPERATOR)
        if why_not is not None:
            await dead_letter_service(request).record_refusal(
                principal.actor(), requested_resource(request), action, why_not
            )
            raise HTTPException(403, detail=why_not)
        return principal

    return recorded_operator


Service = Annotated[DeadLetterService, Depends(dead_letter_service)]


def problem_of(error: UnknownCriterion | DeadLettersUnreadable) -> Problem:
    """The problem+json answer for a refused criterion (422) or unreadable dead-letter topics (503)."""
    if isinstance(error, UnknownCriterion):
        return Problem(
            422,
            "validation-error",
            "The request is not valid; see `errors` for each field.",
            errors=[{"field": error.field, "message": error.message, "code": "unknown"}],
        )
    return Problem(
        503,
        "unavailable",
        f"{error}; nothing was replayed. Try again shortly.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


@router.get("", summary="What this service dead-lettered, newest first (never the values)", responses=_PROBLEMS)
async def list_dead_letters(
    request: Request,
    query: Annotated[DeadLetterQuery, Query()],
    principal: Annotated[Principal, Depends(operator("read"))],
    service: Service,
) -> DeadLetterList:
    """The dead letters this service's consumers put on the dead-letter topics of the topics they read, filtered:
    where each is and came from, its event's id, type and subject, the consumer and the reason; never the value
    (it may hold personal data). The read is recorded as `access.recorded`."""
    try:
        listing = await service.list(principal, requested_resource(request), query.selection(), query.limit)
    except (UnknownCriterion, DeadLettersUnreadable) as error:
        raise problem_of(error) from error
    return DeadLetterList.of(service.service, service.consumer_names(), listing, query.limit)


@router.post(
    "/replay",
    summary="Process selected dead letters again, each through the consumer that dead-lettered it",
    responses=_PROBLEMS,
)
async def replay_dead_letters(
    request: Request,
    replay: ReplayCreate,
    principal: Annotated[Principal, Depends(operator("replay"))],
    service: Service,
) -> ReplayRead:
    """Hand each selected dead letter (oldest first), as it was before it was dead-lettered, to the consumer that
    dead-lettered it, as if it arrived again: an event applied before is a duplicate (nothing changes); one that
    fails again is dead-lettered again with its new reason. Nothing is published back to the topic (every consumer
    group would get it again). A trimmed dead letter is skipped: its value was not kept. `dry_run` only says what
    would be replayed. The replay is recorded as `access.recorded`."""
    try:
        report = await service.replay(
            principal, requested_resource(request), replay.selection(), limit=replay.limit, dry_run=replay.dry_run
        )
    except (UnknownCriterion, DeadLettersUnreadable) as error:
        raise problem_of(error) from error
    return ReplayRead.of(report, replay.limit)
