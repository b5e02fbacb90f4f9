"""Every service counts and times its HTTP requests by route template and status, so the 5xx alert and the latency
panels have something to read; probes and scrapes are not counted."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from satupintu.common.http_metrics import HttpMetricsMiddleware
from satupintu.common.metrics import ServiceMetrics

pytestmark = pytest.mark.unit


def measured_app(metrics: ServiceMetrics) -> FastAPI:
    app = FastAPI()

    @app.get("/applications/{application_id}")
    async def application(application_id: str) -> dict[str, str]:
        return {"application_id": application_id}

    @app.get("/broken")
    async def broken() -> None:
        raise RuntimeError("the database went away")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(HttpMetricsMiddleware, metrics=metrics)
    return app


def requests(metrics: ServiceMetrics, method: str, route: str, status: str) -> float | None:
    return metrics.registry.get_sample_value(
        "satupintu_http_requests_total", {"method": method, "route": route, "status": status}
    )


async def test_requests_are_counted_by_route_template_and_a_crash_counts_as_500() -> None:
    metrics = ServiceMetrics("intake")
    transport = httpx.ASGITransport(app=measured_app(metrics), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        await client.get("/applications/SP-1")
        await client.get("/applications/SP-2")
        await client.get("/nowhere")
        await client.get("/healthz")
        crashed = await client.get("/broken")

    assert crashed.status_code == 500
    assert requests(metrics, "GET", "/applications/{application_id}", "200") == 2
    assert requests(metrics, "GET", "unmatched", "404") == 1
    assert requests(metrics, "GET", "/broken", "500") == 1
    assert requests(metrics, "GET", "/healthz", "200") is None
    duration_count = metrics.registry.get_sample_value(
        "satupintu_http_request_duration_seconds_count", {"method": "GET", "route": "/applications/{application_id}"}
    )
    assert duration_count == 2
