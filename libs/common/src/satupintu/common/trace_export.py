"""How finished spans leave a process: through a batch that a slow, refusing or silent collector never makes a
request wait for.

Spans are exported from the SDK's batch thread; what cannot be exported is dropped and counted in
``satupintu_trace_spans_dropped_total`` by reason:

- ``queue_full``: more spans ended than wait to be exported (``OTEL_BSP_MAX_QUEUE_SIZE``, 2048 by default), because
  the collector is slower than the process or not answering;
- ``export_failed``: the exporter gave up on a batch (refused, timed out after ``OTEL_EXPORTER_OTLP_TIMEOUT``, an
  error status).

The SDK's own ``BatchSpanProcessor`` drops silently when its queue is full; :class:`CountedBatchSpanProcessor`
admits spans to it only while fewer than the limit wait, so it never drops on its own and every loss is counted here.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence

from opentelemetry.context import Context
from opentelemetry.sdk.environment_variables import OTEL_BSP_MAX_EXPORT_BATCH_SIZE, OTEL_BSP_MAX_QUEUE_SIZE
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from satupintu.common.metrics import TRACE_SPANS_DROPPED

DEFAULT_MAX_QUEUE_SIZE = 2048
DEFAULT_MAX_EXPORT_BATCH_SIZE = 512


class CountedBatchSpanProcessor(SpanProcessor):
    """A ``BatchSpanProcessor`` that counts every span it drops: at most ``max_queue_size`` spans wait (more are
    dropped as ``queue_full``), and a batch the exporter fails on is dropped as ``export_failed``."""

    def __init__(
        self,
        exporter: SpanExporter,
        *,
        max_queue_size: int | None = None,
        max_export_batch_size: int | None = None,
        schedule_delay_millis: float | None = None,
    ) -> None:
        self._limit = max_queue_size or _environment_int(OTEL_BSP_MAX_QUEUE_SIZE, DEFAULT_MAX_QUEUE_SIZE)
        batch_size = min(
            max_export_batch_size or _environment_int(OTEL_BSP_MAX_EXPORT_BATCH_SIZE, DEFAULT_MAX_EXPORT_BATCH_SIZE),
            self._limit,
        )
        self._waiting = 0
        self._lock = threading.Lock()
        # Room for one batch more than we admit: the batch thread takes a batch off its queue a moment before
        # handing it to the exporter (where :meth:`_handed_over` counts it), so the SDK's queue never fills.
        self._batch = BatchSpanProcessor(
            _CountingExporter(exporter, self._handed_over),
            max_queue_size=self._limit + batch_size,
            max_export_batch_size=batch_size,
            schedule_delay_millis=schedule_delay_millis,
        )

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Nothing to do when a span starts."""

    def on_end(self, span: ReadableSpan) -> None:
        """Queue a sampled span for export, or drop and count it when the queue is at its limit."""
        if not (span.context and span.context.trace_flags.sampled):
            return  # the batch processor exports only sampled spans: an unsampled one never waits
        with self._lock:
            admitted = self._waiting < self._limit
            if admitted:
                self._waiting += 1
        if not admitted:
            TRACE_SPANS_DROPPED.labels("queue_full").inc()
            return
        self._batch.on_end(span)

    def _handed_over(self, count: int) -> None:
        with self._lock:
            self._waiting -= count

    def shutdown(self) -> None:
        """Export what waits (within the exporter's timeout), then stop the batch thread."""
        self._batch.shutdown()  # type: ignore[no-untyped-call]  # the SDK leaves it unannotated

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Export what waits now; whether it finished within ``timeout_millis``."""
        return self._batch.force_flush(timeout_millis)


class _CountingExporter(SpanExporter):
    """Tells the processor when a batch leaves its queue, and counts a batch the exporter fails on as dropped."""

    def __init__(self, exporter: SpanExporter, on_handed_over: Callable[[int], None]) -> None:
        self._exporter = exporter
        self._on_handed_over = on_handed_over

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self._on_handed_over(len(spans))
        try:
            result = self._exporter.export(spans)
        except Exception:
            TRACE_SPANS_DROPPED.labels("export_failed").inc(len(spans))
            raise  # the batch processor logs it with its traceback and goes on
        if result is not SpanExportResult.SUCCESS:
            TRACE_SPANS_DROPPED.labels("export_failed").inc(len(spans))
        return result

    def shutdown(self) -> None:
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._exporter.force_flush(timeout_millis)


def _environment_int(name: str, default: int) -> int:
    """A positive whole number from the environment, as the SDK reads its ``OTEL_BSP_*`` settings."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    number = int(value)
    if number <= 0:
        raise ValueError(f"{name} must be a positive whole number, not {value!r}")
    return number
