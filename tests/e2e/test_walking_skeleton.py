"""The walking skeleton: one application goes from the HTTP front door through routing to an agency worker and
back, and notification and audit each record what they saw; everything on the real broker and database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from satupintu.agency_sdk import AgencyWorker, Outcome, Task, approve
from satupintu.audit.config import AuditSettings
from satupintu.audit.main import create_app as create_audit
from satupintu.common.settings import KafkaSettings
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


async def test_application_is_submitted_routed_approved_completed_notified_and_audited(
    make_settings: Callable[..., Any], kafka_settings: KafkaSettings
) -> None:
    intake = create_intake(await make_settings(IntakeSettings, "intake"))
    routing = create_routing(await make_settings(RoutingSettings, "routing"))
    notification = create_notification(await make_settings(NotificationSettings, "notification"))
    audit = create_audit(await make_settings(AuditSettings, "audit"))
    seen_tasks: list[Task] = []

    async def police_approve(task: Task) -> Outcome:
        seen_tasks.append(task)
        return approve({"skck_number": "SKCK/2026/11/0001"})

    worker = AgencyWorker("polres", kafka_settings, police_approve)

    async with running(intake) as intake_client, running(routing), running(notification), running(audit):
        await worker.start()
        try:
            application = await skck_application(intake_client)
            answer = await intake_client.post("/applications", json=application)
            assert answer.status_code == 202, answer.text
            application_id = answer.json()["application_id"]
            # SKCK's fee is paid before the police start, after the submission is out (as the payment service,
            # which bills on it, would): notification then knows whom to send the receipt to.
            await wait_for_events(
                kafka_settings, Topic.APPLICATIONS.name_for(), application_id, "application.submitted"
            )
            await pay(kafka_settings, application_id)

            async def audited_types() -> list[str]:
                async with audit.state.runtime.engine.connect() as connection:
                    rows = await connection.execute(
                        text("SELECT type FROM audit_log WHERE application_id = :id ORDER BY seq"),
                        {"id": application_id},
                    )
                    return [row.type for row in rows]

            types = await eventually(audited_types, lambda seen: len(seen) >= 9, what="nine events audited")

            async def notified() -> list[str]:
                async with notification.state.runtime.engine.connect() as connection:
                    rows = await connection.execute(
                        text("SELECT template FROM deliveries WHERE application_id = :id ORDER BY created_at"),
                        {"id": application_id},
                    )
                    return [row.template for row in rows]

            templates = await eventually(
                notified, lambda seen: "application.completed" in seen, what="completion notified"
            )
        finally:
            await worker.stop()

    assert answer.json()["status"] == "submitted"
    [task] = [task for task in seen_tasks if task.application_id == application_id]
    assert task.agency == "polres"
    assert dict(task.fields) == application["data"]
    assert [document.name for document in task.documents] == ["ktp"]
    assert sorted(types) == sorted(
        [
            "application.submitted",
            "payment.confirmed",
            "application.stage_started",
            "task.assigned",
            "application.task_updated",
            "task.decided",
            "task.decision_accepted",
            "application.task_updated",
            "application.completed",
        ]
    )
    lifecycle = [t for t in types if t.startswith("application.")]  # one topic, one key: in produced order
    assert lifecycle == [
        "application.submitted",
        "application.stage_started",
        "application.task_updated",
        "application.task_updated",
        "application.completed",
    ]
    assert templates == ["application.submitted", "payment.confirmed", "application.completed"]
