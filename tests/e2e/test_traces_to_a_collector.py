"""Traces leave the services over OTLP/HTTP: the services run as processes with ``OTEL_TRACES_EXPORTER=otlp``,
one application's trace reaches a collector (a receiver in this process) whole across the Kafka hops, and a
collector that never answers costs the requests nothing: its spans are dropped and counted on ``/metrics``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from satupintu.agency_sdk import AgencyWorker, Outcome, Task, approve
from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.collectors import OtlpReceiver, ReceivedSpan, SilentCollector
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.waiting import eventually
from tests.processes import ServiceProcess
from tests.support import wait_for_events

pytestmark = pytest.mark.e2e

TRACED_SERVICES = ("intake", "routing", "agency", "notification", "audit")
CONSUMER = 5
"""OTLP's ``SPAN_KIND_CONSUMER``."""


def exporting_to(endpoint: str, **settings: str) -> dict[str, str]:
    """A service's environment for OTLP export to ``endpoint``, sending every 100 ms so the test waits little."""
    return {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "INTAKE_RATE_LIMIT_PER_MINUTE": "0",
        **settings,
    }


def npwp_application() -> dict[str, object]:
    """A free, one-task application (DJP decides it), so the flow needs no payment."""
    return {
        "service_code": "npwp",
        "applicant": {"nik": "3171015506900002", "name": "Siti Rahayu", "email": "siti@example.id", "language": "id"},
        "data": {"occupation": "Guru", "monthly_income": 7_500_000, "address": "Jl. Kenanga 5, Samarinda"},
        "consent_reuse": False,
    }


EXPECTED_HOPS = {
    ("satupintu-intake", "satupintu-routing"),  # application.submitted
    ("satupintu-intake", "satupintu-notification"),  # application.submitted: "we received it"
    ("satupintu-intake", "satupintu-audit"),
    ("satupintu-routing", "satupintu-agency"),  # task.assigned, to the desk's inbox
    ("satupintu-routing", "satupintu-intake"),  # the application's status
    ("satupintu-routing", "satupintu-notification"),  # application.completed
    ("satupintu-routing", "satupintu-audit"),
}
"""(publishing service, consuming service) of the Kafka hops one application's trace must show as parent spans."""


def kafka_hops(spans: list[ReceivedSpan]) -> set[tuple[str, str]]:
    """(service of the parent, service of the consumer) of every consumer span whose parent is among ``spans``, or
    that links to one of them."""
    by_id = {span.span_id: span for span in spans}
    hops: set[tuple[str, str]] = set()
    for span in spans:
        if span.kind != CONSUMER:
            continue
        causes = [span.parent_span_id, *(span_id for _, span_id in span.links)]
        hops |= {(by_id[cause].service, span.service) for cause in causes if cause in by_id}
    return hops


def dropped_spans(metrics: str, reason: str) -> float:
    """``satupintu_trace_spans_dropped_total`` for ``reason`` in a ``/metrics`` answer."""
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            if sample.name == "satupintu_trace_spans_dropped_total" and sample.labels.get("reason") == reason:
                return float(sample.value)
    raise AssertionError("satupintu_trace_spans_dropped_total is missing from /metrics")


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpReceiver]:
    """The collector the traced services export to."""
    with OtlpReceiver() as running:
        yield running


@pytest.fixture(scope="module")
async def traced_services(
    receiver: OtlpReceiver,
    kafka_settings: KafkaSettings,
    database_settings: DatabaseSettings,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[dict[str, ServiceProcess]]:
    """Intake, routing, the agency desk, notification and audit as processes exporting to :func:`receiver`."""
    logs = tmp_path_factory.mktemp("traced")
    for service in TRACED_SERVICES:
        await service_database(database_settings, service)
    environment = exporting_to(receiver.endpoint, INTAKE_DOCUMENTS_DIR=str(logs / "documents"))
    processes = {
        service: ServiceProcess(service, kafka_settings, database_settings, logs, extra_env=environment).start()
        for service in TRACED_SERVICES
    }
    try:
        await asyncio.gather(*(process.ready(timeout=120) for process in processes.values()))
        yield processes
    finally:
        await asyncio.gather(*(asyncio.to_thread(process.stop) for process in processes.values()))


async def test_one_application_is_one_trace_at_the_collector_across_every_service_and_kafka_hop(
    traced_services: dict[str, ServiceProcess], receiver: OtlpReceiver, kafka_settings: KafkaSettings
) -> None:
    async def tax_office(task: Task) -> Outcome:
        return approve({"npwp": "09.254.294.3-407.000"})

    worker = AgencyWorker("djp", kafka_settings, tax_office, worker_name="traces")
    await worker.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{traced_services['intake'].port}") as intake:
            answer = await intake.post("/applications", json=npwp_application())
        assert answer.status_code == 202, answer.text
        application_id = answer.json()["application_id"]
        await wait_for_events(
            kafka_settings, Topic.APPLICATIONS.name_for(), application_id, "application.completed", timeout=60
        )
    finally:
        await worker.stop()

    async def submission() -> list[ReceivedSpan]:
        return [
            span
            for span in receiver.spans()
            if span.service == "satupintu-intake" and span.name == "POST /applications"
        ]

    [submitted] = await eventually(submission, timeout=30, what="intake's POST /applications span at the collector")

    async def the_trace() -> list[ReceivedSpan]:
        return [span for span in receiver.spans() if span.trace_id == submitted.trace_id]

    def whole(spans: list[ReceivedSpan]) -> bool:
        received = {span.span_id for span in spans}
        parents_received = all(not span.parent_span_id or span.parent_span_id in received for span in spans)
        return parents_received and kafka_hops(spans) >= EXPECTED_HOPS

    spans = await eventually(the_trace, whole, timeout=60, what="the application's whole trace at the collector")

    by_id = {span.span_id: span for span in spans}
    consumers_without_cause = [
        span for span in spans if span.kind == CONSUMER and span.parent_span_id not in by_id and not span.links
    ]
    assert [span for span in spans if not span.parent_span_id] == [submitted]
    assert {span.service for span in spans} == {f"satupintu-{service}" for service in TRACED_SERVICES}
    assert consumers_without_cause == []
    assert kafka_hops(spans) >= EXPECTED_HOPS


async def test_a_collector_that_never_answers_costs_requests_nothing_and_its_spans_are_counted_as_dropped(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    await service_database(database_settings, "intake")
    with SilentCollector() as collector:
        intake = ServiceProcess(
            "intake",
            kafka_settings,
            database_settings,
            tmp_path,
            extra_env=exporting_to(collector.endpoint, OTEL_EXPORTER_OTLP_TIMEOUT="2"),
            label="-silent-collector",
        ).start()
        try:
            await intake.ready(timeout=120)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{intake.port}") as client:
                first = await client.get("/services")

                async def exporting() -> int:
                    return collector.connections

                await eventually(exporting, timeout=30, what="an export waiting on the silent collector")
                answers = [await client.get("/services") for _ in range(3)]
                unanswered_exports = collector.connections

                async def metrics() -> str:
                    return (await client.get("/metrics")).text

                after = await eventually(
                    metrics,
                    lambda text: dropped_spans(text, "export_failed") >= 1,
                    timeout=60,
                    what="a dropped span counted",
                )
        finally:
            intake.stop()

    assert first.status_code == 200
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert unanswered_exports >= 1
    assert dropped_spans(after, "export_failed") >= 1
    assert dropped_spans(after, "queue_full") == 0
