"""Building a service's HTTP app the same way everywhere: lifespan, health, problem+json errors, token checks, and
the operators' dead letters (``/dlq``, ``/operator/dead-letters``)."""

from __future__ import annotations

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from satupintu.common import dead_letters
from satupintu.common.auth import TokenVerifier, load_or_create_local_keys
from satupintu.common.health import health_router
from satupintu.common.problems import install_problem_handlers
from satupintu.common.runtime import ServiceRuntime
from satupintu.common.settings import ServiceSettings
from satupintu.common.tracing import TracingMiddleware


def token_verifier(runtime: ServiceRuntime) -> TokenVerifier:
    """The verifier of bearer tokens: configured keys or JWKS, else the local development keys."""
    auth = runtime.settings.auth
    if auth.jwks_url or auth.public_key_pem or auth.public_key_path:
        return TokenVerifier(auth)
    _, public_pem = load_or_create_local_keys(auth.keys_dir)
    return TokenVerifier(auth, public_pem)


def trust_proxies(app: FastAPI, settings: ServiceSettings) -> None:
    """Take the client's address from ``X-Forwarded-For`` when the peer is one of ``forwarded_allow_ips`` (the
    ingress), so per-client rate limits count citizens, not the proxy. Call it after adding every other
    middleware: the last added runs first."""
    if settings.forwarded_allow_ips:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)


def create_service_app(runtime: ServiceRuntime, title: str, description: str = "") -> FastAPI:
    """A FastAPI app whose lifespan runs ``runtime``, with ``/healthz``, ``/readyz``, problem+json errors and the
    dead letters of ``runtime``'s consumers for operators (``GET /dlq``, ``POST /dlq/replay``, the page)."""
    app = FastAPI(title=title, description=description, lifespan=runtime.lifespan)
    app.state.runtime = runtime
    app.state.token_verifier = token_verifier(runtime)
    install_problem_handlers(app)
    app.include_router(health_router(runtime.readiness_checks))
    dead_letters.install(app, runtime)
    app.add_middleware(TracingMiddleware, service=runtime.name)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        await runtime.refresh_metrics()
        return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
