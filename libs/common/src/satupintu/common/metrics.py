"""Prometheus metrics of one service process: FastStream's broker metrics plus the platform's own (HTTP requests,
events consumed and dead-lettered, outbox lag) and each service's domain metrics, served on ``/metrics``. The alert
rules and the dashboard in ``deploy/observability/`` use these names (a test checks they exist)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

TRACE_SPANS_DROPPED = Counter(
    "satupintu_trace_spans_dropped_total",
    "Spans this process ended and never exported, by reason: queue_full (more waiting than the export queue holds) "
    "or export_failed (the collector refused, timed out or answered an error).",
    ["reason"],
    registry=None,
)
"""The process's one count of dropped spans (tracing is per process, not per app); every registry shows it."""
for _reason in ("queue_full", "export_failed"):
    TRACE_SPANS_DROPPED.labels(_reason)


class ServiceMetrics:
    """The metrics one process exposes; one registry per process (or per app in tests)."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        self.events_consumed = Counter(
            "satupintu_events_consumed_total",
            "Events a consumer finished with, by outcome (processed, duplicate, dead_lettered).",
            ["consumer", "type", "outcome"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "satupintu_dead_letters_total",
            "Records sent to a dead-letter topic (the DLQ's depth, as this process added to it).",
            ["consumer", "topic"],
            registry=self.registry,
        )
        self.outbox_lag = Gauge(
            "satupintu_outbox_lag_events",
            "Events committed to this service's outbox and not yet published.",
            registry=self.registry,
        )
        self.outbox_oldest = Gauge(
            "satupintu_outbox_oldest_age_seconds",
            "Age of the oldest unpublished outbox event (0 when the outbox is empty).",
            registry=self.registry,
        )
        self.consumer_lag = Gauge(
            "satupintu_consumer_lag_events",
            "Records of a partition this process's consumer has not yet read: the partition's high watermark at the "
            "consumer's last fetch minus the consumer's position (the batch in hand counts as read).",
            ["consumer", "group", "topic", "partition"],
            registry=self.registry,
        )
        self.parked_events = Gauge(
            "satupintu_parked_events",
            "Events a consumer parked to retry later (a transient failure, or waiting behind one of its key).",
            ["consumer"],
            registry=self.registry,
        )
        self.events_published = Counter(
            "satupintu_events_published_total",
            "Events the outbox relay published to Kafka.",
            registry=self.registry,
        )

        self.http_requests = Counter(
            "satupintu_http_requests_total",
            "HTTP requests answered, by method, route template (`unmatched` for no route) and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_duration = Histogram(
            "satupintu_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            registry=self.registry,
        )
        self.registry.register(TRACE_SPANS_DROPPED)

    def counter(self, name: str, documentation: str, labels: list[str]) -> Counter:
        """A service's own counter, on this process's registry."""
        return Counter(name, documentation, labels, registry=self.registry)

    def gauge(self, name: str, documentation: str, labels: list[str]) -> Gauge:
        """A service's own gauge, on this process's registry."""
        return Gauge(name, documentation, labels, registry=self.registry)
