"""Uploads bounded while they stream: an ASGI guard in front of a service's upload routes. A body whose declared
``Content-Length`` is over its route's limit is refused before a byte is read; any other body is counted as it
arrives and refused the moment it passes the limit (or the length it declared), so a chunked body or a lying
``Content-Length`` never gets more than the limit to the parser or its temporary files. The bytes a process holds
in flight stay under a budget (the temporary directory and the memory must hold them), and a client's upload
volume counts against a shared :class:`~satupintu.common.limits.Quota`. Every refusal is problem+json (or what the
service's ``respond`` makes of it) with ``Connection: close``: the rest of the body is never read.

Why not FastAPI's ``max_body_size``: docs/decisions/0015-postgres-limits.md.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from prometheus_client import Counter
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from satupintu.common.failures import database_unavailable
from satupintu.common.limits import Limiter, Quota, Taken
from satupintu.common.problems import RETRY_AFTER_SECONDS, problem_response

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Refusal:
    """Why an upload was refused, for the answer a client gets."""

    status: int
    problem_type: str
    detail: str
    reason: str
    """For metrics and for a service's own wording: ``too-large``, ``longer-than-declared``, ``volume``, ``busy``,
    ``unavailable``."""
    headers: Mapping[str, str] = field(default_factory=dict)


Respond = Callable[[Request, Refusal], Response]
"""Makes the answer to a refused upload (a service's pages may answer a browser with a page of their own)."""


def problem_answer(request: Request, refusal: Refusal) -> Response:
    """The refusal as RFC 9457 problem+json."""
    return problem_response(
        request, refusal.status, refusal.problem_type, refusal.detail, headers=dict(refusal.headers)
    )


def too_large(limit: int) -> Refusal:
    """A body larger than its route's limit."""
    return Refusal(
        413,
        "payload-too-large",
        f"The request body is larger than this upload's limit of {limit} bytes; send smaller files.",
        "too-large",
    )


def longer_than_declared(declared: int) -> Refusal:
    """A body longer than the ``Content-Length`` it declared."""
    return Refusal(
        413,
        "payload-too-large",
        f"The request body is longer than the {declared} bytes its Content-Length declared.",
        "longer-than-declared",
    )


def _retry_after_seconds(wait: timedelta) -> int:
    return max(1, math.ceil(wait.total_seconds()))


def _period(window: timedelta) -> str:
    seconds = int(window.total_seconds())
    for unit, length in (("hour", 3600), ("minute", 60)):
        if seconds % length == 0:
            count = seconds // length
            return unit if count == 1 else f"{count} {unit}s"
    return f"{seconds} seconds"


@dataclass(frozen=True)
class UploadVolume:
    """Upload bytes per client address, counted in ``limiter`` (shared by the service's replicas)."""

    limiter: Limiter
    quota: Quota


class _BodyRefused(Exception):
    """Raised into the app by the counted ``receive`` once the body passed its limit; the guard answers instead."""


class _CountedBody:
    """The request's ``receive``, counting body bytes and refusing past ``limit`` (or past ``declared``)."""

    def __init__(self, receive: Receive, limit: int, declared: int | None) -> None:
        self._receive = receive
        self._limit = limit
        self._declared = declared
        self._allowed = limit if declared is None else min(limit, declared)
        self.received = 0
        self.refusal: Refusal | None = None

    async def receive(self) -> Message:
        """The next message; raises :class:`_BodyRefused` once the body is over what it may be."""
        if self.refusal is not None:
            raise _BodyRefused
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self._allowed:
                over_limit = self._declared is None or self.received > self._limit
                self.refusal = too_large(self._limit) if over_limit else longer_than_declared(self._allowed)
                raise _BodyRefused
        return message


def _declared_length(scope: Scope) -> int | None:
    """The request's ``Content-Length``, or None when it has none a server would accept (chunked)."""
    values = [value for name, value in scope["headers"] if name == b"content-length"]
    if len(values) != 1 or not values[0].isdigit():
        return None
    return int(values[0])


class UploadGuard:
    """Bounds the requests ``body_limit`` names an upload limit for (None: not an upload, passed on untouched)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        body_limit: Callable[[Scope], int | None],
        bytes_in_flight: int,
        volume: UploadVolume | None = None,
        respond: Respond = problem_answer,
        refused: Counter | None = None,
    ) -> None:
        self._app = app
        self._body_limit = body_limit
        self._budget = bytes_in_flight
        self._volume = volume
        self._respond = respond
        self._refused = refused
        self._in_flight = 0

    @property
    def bytes_in_flight(self) -> int:
        """The upload bytes this process has reserved for the bodies it is receiving now."""
        return self._in_flight

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse an upload that may not come in; otherwise pass it on, counting its body as it arrives."""
        limit = self._body_limit(scope) if scope["type"] == "http" else None
        if limit is None:
            await self._app(scope, receive, send)
            return
        request = Request(scope)
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(request, too_large(limit), send)
            return
        reservation = limit if declared is None else declared
        if self._in_flight + reservation > self._budget:
            busy = Refusal(
                503,
                "unavailable",
                f"The service is receiving as many uploads as it can hold; retry after {RETRY_AFTER_SECONDS} seconds.",
                "busy",
                {"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
            await self._refuse(request, busy, send)
            return
        self._in_flight += reservation
        try:
            taken = await self._take_volume(request, reservation)
            if isinstance(taken, Refusal):
                await self._refuse(request, taken, send)
                return
            body = _CountedBody(receive, limit, declared)
            try:
                await self._pass_on(request, body, send)
            finally:
                await self._give_back(taken, reservation - body.received)
        finally:
            self._in_flight -= reservation

    async def _pass_on(self, request: Request, body: _CountedBody, send: Send) -> None:
        """Run the app on the counted body; once the body is refused, the app's answer (if any) gives way to ours."""
        started = False

        async def send_unless_refused(message: Message) -> None:
            nonlocal started
            if body.refusal is not None and not started:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._app(request.scope, body.receive, send_unless_refused)
        except Exception:
            if body.refusal is None or started:
                raise
            # What the app raised followed from the refused body (a parser cut short); the refusal is the answer.
        if body.refusal is not None and not started:
            await self._refuse(request, body.refusal, send)

    async def _take_volume(self, request: Request, reservation: int) -> Taken | Refusal | None:
        """Reserve ``reservation`` bytes of the client's volume: the take, a refusal, or None without a quota."""
        if self._volume is None or reservation == 0:
            return None
        client = request.client.host if request.client else "unknown"
        quota = self._volume.quota
        try:
            taken = await self._volume.limiter.take(quota, client, reservation)
        except Exception as error:
            if not database_unavailable(error):
                raise
            _logger.warning("upload volume not counted, database unavailable: %r", error)
            return Refusal(
                503,
                "unavailable",
                "The service cannot reach its database right now; nothing was stored. Try again shortly.",
                "unavailable",
                {"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        if taken.allowed:
            return taken
        retry_after = _retry_after_seconds(taken.retry_after)
        return Refusal(
            429,
            "rate-limited",
            f"This client may upload {quota.units} bytes per {_period(quota.window)} and has used them; "
            f"retry after {retry_after} seconds.",
            "volume",
            {"Retry-After": str(retry_after)},
        )

    async def _give_back(self, taken: Taken | None, unused: int) -> None:
        """Return the part of the reservation the body did not use (a failure only overcharges the client)."""
        if taken is None or unused <= 0 or self._volume is None:
            return
        try:
            await self._volume.limiter.give_back(taken, unused)
        except Exception:
            _logger.warning("could not give back %d unused upload bytes of %s", unused, taken.key, exc_info=True)

    async def _refuse(self, request: Request, refusal: Refusal, send: Send) -> None:
        if self._refused is not None:
            self._refused.labels(refusal.reason).inc()
        response = self._respond(request, refusal)
        response.headers["Connection"] = "close"  # the rest of the body is never read
        await response(request.scope, request.receive, send)
