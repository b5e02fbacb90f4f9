"""Intake's staff endpoints: a dependency that admits a caller holding one of some roles (bearer token) and records
the refusal of anyone else in the audit log."""

# No ``from __future__ import annotations``: FastAPI reads the dependency's annotations at run time, and they name a
# ``Security`` made inside the factory.
from collections.abc import Awaitable, Callable
from typing import Annotated, Protocol

from fastapi import HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from satupintu.common.access_log import verified_principal
from satupintu.common.auth import Principal, Role


class RecordsRefusals(Protocol):
    """A service that records in the audit log that a caller was refused."""

    async def record_refusal(self, actor: str, resource: str, reason: str) -> None:
        """Record that ``actor`` was refused ``resource``, and why."""
        ...


def admitting(
    roles: frozenset[Role], service: Callable[[Request], RecordsRefusals], who: str
) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting a bearer token holding one of ``roles`` (``who`` names them for the caller, e.g. "the
    operator"); a refusal (403) is recorded through ``service``."""
    bearer = HTTPBearer(auto_error=False, description=f"A token with {who} role.")

    async def admit(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]
    ) -> Principal:
        principal = await verified_principal(request, credentials.credentials if credentials else None)
        if not principal.roles & roles:
            why = f"This needs {who} role; your token grants {', '.join(sorted(principal.roles))}."
            await service(request).record_refusal(principal.actor(), f"{request.method} {request.url.path}", why)
            raise HTTPException(403, detail=why)
        return principal

    return admit
