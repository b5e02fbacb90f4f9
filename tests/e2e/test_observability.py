"""One trace from the HTTP submit through routing and the agency to notification and audit, and every service's
``/metrics`` with domain metrics that move when an application is processed; on the real broker and database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from satupintu.agency_sdk import AgencyWorker, Outcome, Task, approve
from satupintu.audit.config import AuditSettings
from satupintu.audit.main import create_app as create_audit
from satupintu.common.settings import KafkaSettings
from satupintu.common.tracing import configure_tracing
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.payments import pay
from satupintu.devtools.testing.waiting import eventually
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app as create_intake
from satupintu.notification.config import NotificationSettings
from satupintu.notification.main import create_app as create_notification
from satupintu.routing.config import RoutingSettings
from satupintu.routing.main import create_app as create_routing
from tests.conftest import running
from tests.support import skck_application, wait_for_events

pytestmark = pytest.mark.e2e


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus exposition (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for metric in family.samples:
            if metric.name == name and all(metric.labels.get(k) == v for k, v in labels.items()):
                return float(metric.value)
    return 0.0


async def test_one_trace_runs_from_the_http_submit_to_the_audit_record_and_metrics_move(
    make_settings: Callable[..., Any], kafka_settings: KafkaSettings
) -> None:
    configure_tracing("e2e")
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    spans = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    intake = create_intake(await make_settings(IntakeSettings, "intake"))
    routing = create_routing(await make_settings(RoutingSettings, "routing"))
    notification = create_notification(await make_settings(NotificationSettings, "notification"))
    audit = create_audit(await make_settings(AuditSettings, "audit"))

    async def police(task: Task) -> Outcome:
        return approve({"skck_number": "SKCK/TRACE"})

    worker = AgencyWorker("polres", kafka_settings, police, worker_name="tracing")
    async with (
        running(intake) as intake_client,
        running(routing) as routing_client,
        running(notification) as notification_client,
        running(audit) as audit_client,
    ):
        await worker.start()
        try:
            before = {
                "intake": (await intake_client.get("/metrics")).text,
                "routing": (await routing_client.get("/metrics")).text,
            }
            body = await skck_application(intake_client)
            answer = await intake_client.post("/applications", json=body)
            application_id = answer.json()["application_id"]
            [http] = [s for s in spans.get_finished_spans() if s.name == "POST /applications"][-1:]
            trace_id = http.context.trace_id
            # The fee's payment continues the submission's trace: whether routing starts the stage on the submission
            # (paid first) or on the payment (the submission first, waiting at the gate) is a race, and a real
            # gateway's callback would start a trace of its own; this test follows one trace end to end.
            await pay(kafka_settings, application_id, traceparent=f"00-{trace_id:032x}-{http.context.span_id:016x}-01")
            await wait_for_events(
                kafka_settings, Topic.APPLICATIONS.name_for(), application_id, "application.completed", timeout=60
            )

            async def span_names() -> set[str]:
                return {s.name for s in spans.get_finished_spans() if s.context.trace_id == trace_id}

            wanted = {"consume application.submitted", "consume task.decided", "consume application.completed"}
            names = await eventually(span_names, lambda found: wanted <= found and "audit" in str(found), timeout=60)

            async def audit_metrics() -> str:
                return (await audit_client.get("/metrics")).text

            await eventually(
                audit_metrics,
                lambda text: sample(text, "satupintu_audit_entries_total", type="application.completed") >= 1,
                timeout=60,
                what="completion audited",
            )
            after = {
                "intake": (await intake_client.get("/metrics")).text,
                "routing": (await routing_client.get("/metrics")).text,
                "notification": (await notification_client.get("/metrics")).text,
                "audit": (await audit_client.get("/metrics")).text,
            }
        finally:
            await worker.stop()

    submitted = "satupintu_applications_submitted_total"
    consumed = "satupintu_events_consumed_total"
    assert answer.status_code == 202
    assert wanted <= names
    assert (
        sample(after["intake"], submitted, service_code="skck")
        == sample(before["intake"], submitted, service_code="skck") + 1
    )
    assert sample(after["routing"], consumed, consumer="routing", type="task.decided", outcome="processed") > sample(
        before["routing"], consumed, consumer="routing", type="task.decided", outcome="processed"
    )
    assert "satupintu_tasks_open" in after["routing"]
    assert "satupintu_outbox_lag_events" in after["intake"]
    for service in ("notification", "audit"):
        assert "satupintu_outbox_lag_events" in after[service], service
    assert sample(after["audit"], "satupintu_audit_entries_total", type="application.completed") >= 1
