"""Spans that cannot reach the collector are dropped and counted on ``/metrics``, never waited for."""

from __future__ import annotations

import socket
import threading
from collections.abc import Sequence

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from satupintu.common.metrics import ServiceMetrics
from satupintu.common.trace_export import CountedBatchSpanProcessor

pytestmark = pytest.mark.unit


def dropped(reason: str) -> float:
    """``satupintu_trace_spans_dropped_total`` for ``reason`` as a service's ``/metrics`` shows it."""
    value = ServiceMetrics("test").registry.get_sample_value("satupintu_trace_spans_dropped_total", {"reason": reason})
    assert value is not None, "the dropped-spans counter is missing from the registry"
    return value


class HeldExporter(SpanExporter):
    """An exporter whose first export waits until the test lets it go, as a silent collector holds a request."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.exported: list[str] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.entered.set()
        assert self.release.wait(timeout=30), "the test never released the exporter"
        self.exported += [span.name for span in spans]
        return SpanExportResult.SUCCESS


@pytest.fixture
def refusing_endpoint() -> str:
    """An OTLP/HTTP URL on a local port nothing listens on (bound, then closed: connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1/traces"


def test_spans_the_collector_refuses_are_counted_as_export_failed(refusing_endpoint: str) -> None:
    provider = TracerProvider()
    processor = CountedBatchSpanProcessor(OTLPSpanExporter(endpoint=refusing_endpoint, timeout=0.5))
    provider.add_span_processor(processor)
    before = dropped("export_failed")

    for number in range(3):
        with provider.get_tracer("test").start_as_current_span(f"request {number}"):
            pass
    processor.force_flush()
    provider.shutdown()

    assert dropped("export_failed") == before + 3


def test_spans_beyond_the_queue_while_the_collector_is_silent_are_counted_as_queue_full() -> None:
    exporter = HeldExporter()
    provider = TracerProvider()
    processor = CountedBatchSpanProcessor(exporter, max_queue_size=2, max_export_batch_size=1)
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("test")
    before = dropped("queue_full")

    with tracer.start_as_current_span("first"):
        pass
    assert exporter.entered.wait(timeout=30), "the batch thread never exported"
    for number in range(5):  # each ends at once, the exporter being held: two wait, three are dropped
        with tracer.start_as_current_span(f"while held {number}"):
            pass
    after_ending = dropped("queue_full")
    exporter.release.set()
    processor.force_flush()
    provider.shutdown()

    assert after_ending == before + 3
    assert exporter.exported == ["first", "while held 0", "while held 1"]
