"""Every HTTP request counted and timed on the service's ``/metrics`` (apart from :mod:`satupintu.common.metrics`,
which the agency worker SDK imports without any web library)."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from satupintu.common.metrics import ServiceMetrics

UNMEASURED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
"""Paths the probes and the scraper call; counting them would drown the citizens' requests."""


class HttpMetricsMiddleware:
    """Counts and times every HTTP request but the probes and scrapes, labelled by the route's template (never the
    raw path, which would make a series per application id); a request that raised counts as a 500."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Measure HTTP requests; pass everything else through."""
        if scope["type"] != "http" or scope["path"] in UNMEASURED_PATHS:
            await self._app(scope, receive, send)
            return
        status = {"code": 500}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self._app(scope, receive, capture)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            self._metrics.http_requests.labels(method, route, str(status["code"])).inc()
            self._metrics.http_duration.labels(method, route).observe(time.perf_counter() - started)
