"""Refusing a caller whose token is valid but not an officer's: 403, and the refusal recorded as ``access.recorded``
(denied) against the application the task or document asked for belongs to, so that it is on that application's
audit timeline. Another agency's officer gets past this and is refused by the desk service (404)."""

# No ``from __future__ import annotations``: FastAPI reads the dependency's annotations at run time.
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from satupintu.agency.services import DeskService
from satupintu.common.access_log import refusal, verified_principal
from satupintu.common.auth import Principal, Role
from satupintu.common.problems import Problem

_bearer = HTTPBearer(auto_error=False, description="A staff token from `satupintu-token` or the OIDC provider.")


async def refuse_unless_officer(request: Request, principal: Principal, action: str) -> None:
    """Raise 403 unless ``principal`` is an officer, recording the refusal of ``action`` on the request's task
    (path parameter ``task_id``) or document (``sha256``), or on the task list."""
    why = refusal(principal, Role.OFFICER)
    if why is None:
        return
    desk: DeskService = request.app.state.agency.desk
    task_id, document = request.path_params.get("task_id"), request.path_params.get("sha256")
    await desk.record_refusal(principal.actor(), action, why, task_id=task_id, document=document)
    raise Problem(403, "forbidden", why)


def officer_to(action: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting an officer's bearer token for ``action`` (read, claim, decide, list); any other valid
    token is refused (403) and the refusal recorded."""

    async def admit(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
    ) -> Principal:
        principal = await verified_principal(request, credentials.credentials if credentials else None)
        await refuse_unless_officer(request, principal, action)
        return principal

    return admit
