"""Building a service's HTTP app the same way everywhere: lifespan, health, problem+json errors, token checks, the
sign-in through the provider (``/auth/*``) and the operators' dead letters (``/dlq``, ``/operator/dead-letters``)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from satupintu.common import dead_letters
from satupintu.common.auth import TokenVerifier, load_or_create_local_keys
from satupintu.common.health import health_router
from satupintu.common.http_metrics import HttpMetricsMiddleware
from satupintu.common.oidc.web import SignIn, sign_in_router
from satupintu.common.openapi import document_problems
from satupintu.common.problems import install_problem_handlers, problem_response
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


class RefuseNulInQuery:
    """Answers 422 problem+json, naming the parameter (or ``path``), for a query parameter or a path holding U+0000:
    PostgreSQL's text cannot hold it, and a query that reached the database with one failed as a 500 (found by the
    OpenAPI fuzzing of audit's export). Bodies are validated by each endpoint's models."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse the request when a query parameter holds U+0000, else pass it on."""
        if scope["type"] == "http" and (b"%00" in scope["query_string"].lower() or "\x00" in scope["path"]):
            query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
            names = sorted({name for name, value in query if "\x00" in name or "\x00" in value})
            names += ["path"] if "\x00" in scope["path"] else []
            if names:
                response = problem_response(
                    Request(scope),
                    422,
                    "validation-error",
                    "The request is not valid; see `errors` for each field.",
                    errors=[
                        {"field": name, "message": "must not contain the NUL character", "code": "string_nul"}
                        for name in names
                    ],
                )
                await response(scope, receive, send)
                return
        await self._app(scope, receive, send)


def create_service_app(runtime: ServiceRuntime, title: str, description: str = "", *, sign_in: SignIn) -> FastAPI:
    """A FastAPI app whose lifespan runs ``runtime``, with ``/healthz``, ``/readyz``, problem+json errors, the
    service's sign-in through the provider (``sign_in``: its ``/auth/*`` routes, and ``app.state.sign_in`` for the
    pages) and the dead letters of ``runtime``'s consumers for operators (``GET /dlq``, ``POST /dlq/replay``, the
    page operators sign in to with ``sign_in``)."""
    # FastAPI's own request spans are off: TracingMiddleware is the one server span per request (probes and
    # /metrics left out), and FastAPI's would be a second one under it, with its probes traced too.
    app = FastAPI(title=title, description=description, lifespan=runtime.lifespan, telemetry={"tracing": False})
    app.state.runtime = runtime
    app.state.token_verifier = token_verifier(runtime)
    app.state.sign_in = sign_in
    app.include_router(sign_in_router(sign_in))
    install_problem_handlers(app)
    document_problems(app)
    app.include_router(health_router(runtime.readiness_checks))
    dead_letters.install(app, runtime)
    app.add_middleware(HttpMetricsMiddleware, metrics=runtime.metrics)
    app.add_middleware(TracingMiddleware, service=runtime.name)
    app.add_middleware(RefuseNulInQuery)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        await runtime.refresh_metrics()
        return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
