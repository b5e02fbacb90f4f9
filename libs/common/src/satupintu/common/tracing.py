"""Tracing across HTTP and Kafka with OpenTelemetry. The W3C ``traceparent`` travels inside every event (the
envelope's ``traceparent`` extension), so a trace survives the outbox: the relay publishes later, outside the
request, and FastStream's own header propagation would start a new trace there.

Exporters are off by default; ``OTEL_TRACES_EXPORTER=otlp`` sends spans to an OpenTelemetry collector (or
Jaeger) over OTLP/HTTP, ``console`` prints them (:mod:`satupintu.common.trace_export`); tests install an
in-memory exporter.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import context, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from satupintu.common.http_metrics import UNMEASURED_PATHS
from satupintu.common.settings import TracesExporter
from satupintu.common.trace_export import CountedBatchSpanProcessor

_PROPAGATOR = TraceContextTextMapPropagator()
_TRACER_NAME = "satupintu"


def configure_tracing(service: str, exporter: TracesExporter = "none") -> None:
    """Install the process's tracer provider (once), its spans going to ``exporter``; the OTLP exporter reads
    where the collector is, its headers and its timeout from the standard ``OTEL_EXPORTER_OTLP_*`` variables."""
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    provider = TracerProvider(resource=Resource.create({"service.name": f"satupintu-{service}"}))
    if exporter == "console":
        provider.add_span_processor(CountedBatchSpanProcessor(ConsoleSpanExporter()))
    elif exporter == "otlp":
        provider.add_span_processor(CountedBatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


@contextmanager
def span(name: str, kind: SpanKind, traceparent: str | None = None, **attributes: str) -> Iterator[None]:
    """Run the block in a span whose parent is ``traceparent`` (or the active span)."""
    parent = _PROPAGATOR.extract({"traceparent": traceparent}) if traceparent else context.get_current()
    tracer = trace.get_tracer(_TRACER_NAME)
    with tracer.start_as_current_span(name, context=parent, kind=kind, attributes=attributes):
        yield


@contextmanager
def sibling_spans(spans: Iterable[tuple[str, str | None, Mapping[str, str]]], kind: SpanKind) -> Iterator[None]:
    """Several spans around one block (a batch of records handled together), given as ``(name, traceparent,
    attributes)``: each continues its own trace, none becomes the parent of another."""
    tracer = trace.get_tracer(_TRACER_NAME)
    here = context.get_current()
    started = [
        tracer.start_span(
            name,
            context=_PROPAGATOR.extract({"traceparent": traceparent}) if traceparent else here,
            kind=kind,
            attributes=dict(attributes),
        )
        for name, traceparent, attributes in spans
    ]
    try:
        yield
    finally:
        for started_span in started:
            started_span.end()


class TracingMiddleware:
    """A server span around each HTTP request, continuing a caller's ``traceparent`` header."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self._app = app
        self._service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Trace HTTP requests; pass everything else through."""
        if scope["type"] != "http" or scope["path"] in UNMEASURED_PATHS:
            await self._app(scope, receive, send)
            return
        headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope.get("headers", [])}
        status: dict[str, int] = {}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        with span(
            f"{scope['method']} {scope['path']}",
            SpanKind.SERVER,
            headers.get("traceparent"),
            **{"service": self._service, "http.method": scope["method"]},
        ):
            await self._app(scope, receive, capture)
            trace.get_current_span().set_attribute("http.status_code", status.get("code", 0))
