"""Trace collectors for tests, on a free local port: :class:`OtlpReceiver` answers OTLP/HTTP as an OpenTelemetry
collector does and keeps the spans it decodes (with ``opentelemetry-proto``); :class:`SilentCollector` accepts
connections and never answers, as a collector behind a dead network path (a blackhole) does."""

from __future__ import annotations

import gzip
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

TRACES_PATH = "/v1/traces"


@dataclass(frozen=True)
class ReceivedSpan:
    """One span as a collector received it: ids as lower-case hex, the service from its resource."""

    service: str
    name: str
    kind: int
    """OTLP's ``Span.SpanKind`` (2 server, 5 consumer, ...)."""
    trace_id: str
    span_id: str
    parent_span_id: str
    """Empty for a root span."""
    links: tuple[tuple[str, str], ...]
    """The ``(trace_id, span_id)`` of each linked span."""


def decode(request: ExportTraceServiceRequest) -> list[ReceivedSpan]:
    """The spans of one OTLP export request."""
    received: list[ReceivedSpan] = []
    for resource_spans in request.resource_spans:
        attributes = {item.key: item.value.string_value for item in resource_spans.resource.attributes}
        service = attributes.get("service.name", "")
        for scope_spans in resource_spans.scope_spans:
            received += [
                ReceivedSpan(
                    service=service,
                    name=span.name,
                    kind=span.kind,
                    trace_id=span.trace_id.hex(),
                    span_id=span.span_id.hex(),
                    parent_span_id=span.parent_span_id.hex(),
                    links=tuple((link.trace_id.hex(), link.span_id.hex()) for link in span.links),
                )
                for span in scope_spans.spans
            ]
    return received


class OtlpReceiver:
    """An OTLP/HTTP trace receiver (protobuf, optionally gzip) in a thread of the test process; use as a context
    manager, point services at :attr:`endpoint` (``OTEL_EXPORTER_OTLP_ENDPOINT``) and read :meth:`spans`."""

    def __init__(self) -> None:
        self._spans: list[ReceivedSpan] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, name="otlp-receiver", daemon=True)

    @property
    def endpoint(self) -> str:
        """The base URL exporters append ``/v1/traces`` to."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def spans(self) -> list[ReceivedSpan]:
        """Every span received so far, in the order received."""
        with self._lock:
            return list(self._spans)

    def _keep(self, spans: list[ReceivedSpan]) -> None:
        with self._lock:
            self._spans += spans

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # the name http.server dispatches POST to
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path != TRACES_PATH:
                    self.send_error(404)
                    return
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                receiver._keep(decode(request))
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: a test's output is not the place for one line per export."""

        return Handler

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


class SilentCollector:
    """A port that accepts connections and never answers nor closes them; :attr:`connections` counts them. Use as
    a context manager; an exporter pointed at :attr:`endpoint` waits for its own timeout on every export."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)  # how soon the accepting thread sees it should stop
        self._stopping = threading.Event()
        self._held: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, name="silent-collector", daemon=True)

    @property
    def endpoint(self) -> str:
        """The base URL exporters append ``/v1/traces`` to."""
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    @property
    def connections(self) -> int:
        """Connections accepted so far (each an export waiting for an answer that never comes)."""
        with self._lock:
            return len(self._held)

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            with self._lock:
                self._held.append(connection)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._stopping.set()
        self._thread.join(timeout=10)
        self._listener.close()
        with self._lock:
            for connection in self._held:
                connection.close()
