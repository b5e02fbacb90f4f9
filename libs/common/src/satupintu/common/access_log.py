"""Recording who accessed what: ``access.recorded`` through a service's outbox, so it reaches the audit log; and the
check that admits a caller holding a role and records the refusal of one who does not."""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import HTTPException, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.concurrency import run_in_threadpool

from satupintu.common.auth import AuthenticationError, KeySetUnavailableError, Principal, Role, TokenVerifier
from satupintu.common.clock import Clock, utc_now
from satupintu.common.outbox import Outbox
from satupintu.contract.access import AccessRecorded
from satupintu.contract.envelope import Event

Outcome = Literal["granted", "denied"]
_logger = logging.getLogger(__name__)


class AccessLog:
    """Publishes ``access.recorded`` for one service (``source``), through its outbox."""

    def __init__(self, outbox: Outbox, source: str, clock: Clock = utc_now) -> None:
        self._outbox = outbox
        self._source = source
        self._clock = clock

    async def record(
        self,
        session: AsyncSession,
        actor: str,
        *,
        subject_id: str,
        resource: str,
        action: str,
        outcome: Outcome,
        reason: str | None = None,
    ) -> None:
        """Record, in the caller's transaction, that ``actor`` was granted or denied ``action`` on ``resource``."""
        access = AccessRecorded(
            subject_id=subject_id,
            principal=actor,
            resource=resource,
            action=action,
            outcome=outcome,
            reason=reason,
            at=self._clock(),
        )
        await self._outbox.add(session, Event(payload=access, source=self._source, subject=subject_id, actor=actor))
        if outcome == "denied":
            _logger.warning("access denied: %s %s %s (%s)", actor, action, resource, reason)

    async def record_alone(
        self,
        sessions: async_sessionmaker[AsyncSession],
        actor: str,
        *,
        subject_id: str,
        resource: str,
        action: str,
        outcome: Outcome,
        reason: str | None = None,
    ) -> None:
        """:meth:`record` in a transaction of its own."""
        async with sessions() as session, session.begin():
            await self.record(
                session,
                actor,
                subject_id=subject_id,
                resource=resource,
                action=action,
                outcome=outcome,
                reason=reason,
            )


async def verified_principal(request: Request, token: str | None) -> Principal:
    """The caller a bearer token names, checked by the app's ``token_verifier``: 401 when it names nobody
    trustworthy, 503 when the identity provider's keys cannot be fetched."""
    verifier = getattr(request.app.state, "token_verifier", None)
    if not isinstance(verifier, TokenVerifier):
        raise RuntimeError("app.state.token_verifier must be a TokenVerifier; set it in create_app()")
    try:
        return await run_in_threadpool(verifier.verify, token)  # a JWKS look-up may block
    except AuthenticationError as error:
        raise HTTPException(401, detail=str(error), headers={"WWW-Authenticate": "Bearer"}) from error
    except KeySetUnavailableError as error:
        raise HTTPException(503, detail="Sign-in cannot be checked right now; try again shortly.") from error


def refusal(principal: Principal, role: Role) -> str | None:
    """Why ``principal`` may not do what needs ``role`` (for the caller and the audit log), or None if it may."""
    if role in principal.roles:
        return None
    return f"This needs the {role} role; your token grants {', '.join(sorted(principal.roles))}."
