"""Per-client rate limiting of writes: a token bucket per client address, answering 429 with ``Retry-After``.

In-process on purpose: each instance limits its own share, which bounds abuse without a shared store; behind a
load balancer the effective limit is the per-instance limit times the instances.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from satupintu.common.problems import problem_response


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """Token buckets per client: ``rate_per_minute`` sustained, ``burst`` at once."""

    def __init__(
        self, rate_per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic, max_clients: int = 100_000
    ) -> None:
        self._rate = rate_per_minute / 60.0
        self._burst = burst
        self._clock = clock
        self._max_clients = max_clients
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, client: str) -> float:
        """Take a token for ``client``: 0 when allowed, else the seconds until one is available."""
        now = self._clock()
        bucket = self._buckets.pop(client, None) or _Bucket(float(self._burst), now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._rate)
        bucket.updated = now
        self._buckets[client] = bucket
        if len(self._buckets) > self._max_clients:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self._rate if self._rate else math.inf


class RateLimitMiddleware:
    """Limits POST, PUT, PATCH and DELETE requests per client address; reads pass freely, and so do the paths
    under ``exempt_prefixes`` (staff paths a service limits per signed-in person instead)."""

    def __init__(self, app: ASGIApp, rate_per_minute: int, burst: int, exempt_prefixes: tuple[str, ...] = ()) -> None:
        self._app = app
        self._buckets = TokenBuckets(rate_per_minute, burst) if rate_per_minute > 0 else None
        self._exempt = exempt_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 429 when the client's bucket is empty; otherwise pass the request on."""
        if (
            self._buckets is None
            or scope["type"] != "http"
            or scope["method"] in {"GET", "HEAD", "OPTIONS"}
            or (self._exempt and str(scope["path"]).startswith(self._exempt))
        ):
            await self._app(scope, receive, send)
            return
        client = scope.get("client")
        wait = self._buckets.take(client[0] if client else "unknown")
        if wait == 0:
            await self._app(scope, receive, send)
            return
        retry_after = str(max(1, math.ceil(wait)))
        refusal = problem_response(
            Request(scope),
            429,
            "rate-limited",
            f"too many requests from this client; retry after {retry_after} seconds",
            headers={"Retry-After": retry_after},
        )
        await refusal(scope, receive, send)
