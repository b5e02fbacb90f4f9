"""Rate limits on what the public may write: queue tickets (the kiosk), and citizens' complaints, survey answers and
consent look-ups and changes, each group with its own token buckets per client address (``TokenBuckets`` of
``satupintu.common.ratelimit``, the buckets behind intake's limit). A refused request is answered 429 with
``Retry-After`` before anything is read or written: problem+json on the API, a page on the pages.

Per route rather than intake's middleware over every write, because staff calls (calling the next visitor, answering
a complaint) must not share the public's buckets, and a citizen on a page should read a page, not JSON.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from fastapi import FastAPI, Request
from fastapi.responses import Response

from satupintu.common.problems import problem_response
from satupintu.common.ratelimit import TokenBuckets
from satupintu.mall.config import MallSettings

RATE_LIMITED: dict[int | str, dict[str, object]] = {
    429: {
        "description": "Too many requests from this client address; `Retry-After` says in how many seconds to try "
        "again. Nothing was recorded.",
        "content": {"application/problem+json": {}},
    }
}


class WriteGroup(StrEnum):
    """The public's writes that share one budget per client address."""

    KIOSK = "kiosk"
    CITIZEN = "citizen"


@dataclass(frozen=True)
class PublicLimits:
    """The token buckets of each group; None where the limit is off."""

    buckets: dict[WriteGroup, TokenBuckets | None]

    @classmethod
    def of(cls, limits: dict[WriteGroup, tuple[int, int]]) -> PublicLimits:
        """Buckets from ``(per minute, burst)`` per group; a rate of 0 turns that group's limit off."""
        return cls({group: TokenBuckets(rate, burst) if rate > 0 else None for group, (rate, burst) in limits.items()})

    @classmethod
    def configured(cls, settings: MallSettings) -> PublicLimits:
        """The kiosk's and the citizens' limits the settings give."""
        return cls.of(
            {
                WriteGroup.KIOSK: (settings.kiosk_rate_limit_per_minute, settings.kiosk_rate_limit_burst),
                WriteGroup.CITIZEN: (settings.rate_limit_per_minute, settings.rate_limit_burst),
            }
        )

    def take(self, group: WriteGroup, client: str) -> float:
        """Take a token of ``group`` for ``client``: 0 when allowed, else the seconds until one is available."""
        buckets = self.buckets.get(group)
        return 0.0 if buckets is None else buckets.take(client)


class RateLimited(Exception):
    """The client sent more writes of a group than its budget allows; it may try again after ``retry_after``."""

    def __init__(self, retry_after: int, page: bool) -> None:
        super().__init__(f"too many requests from this client; retry after {retry_after} seconds")
        self.retry_after = retry_after
        self.page = page


def client_address(request: Request) -> str:
    """The address the limits count by (the proxy's client when its ``X-Forwarded-For`` is trusted)."""
    return request.client.host if request.client else "unknown"


def limit(group: WriteGroup, *, page: bool = False) -> Callable[[Request], Awaitable[None]]:
    """A route dependency that spends one token of ``group`` and refuses the request when none is left."""

    async def spend(request: Request) -> None:
        limits: PublicLimits = request.app.state.public_limits
        wait = limits.take(group, client_address(request))
        if wait > 0:
            raise RateLimited(max(1, math.ceil(wait)), page)

    return spend


def install_rate_limits(
    app: FastAPI, limits: PublicLimits, page_answer: Callable[[Request, RateLimited], Response]
) -> None:
    """Keep ``limits`` on the app and answer ``RateLimited``: problem+json on the API, ``page_answer`` on pages."""
    app.state.public_limits = limits

    async def answer(request: Request, error: Exception) -> Response:
        assert isinstance(error, RateLimited)
        headers = {"Retry-After": str(error.retry_after)}
        if error.page:
            response = page_answer(request, error)
            response.headers.update(headers)
            return response
        return problem_response(request, 429, "rate-limited", str(error), headers=headers)

    app.add_exception_handler(RateLimited, answer)
