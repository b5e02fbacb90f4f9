"""An application goes through the whole flow (intake, routing, an agency worker) on the real broker and database,
and the audit log holds every event of it exactly once, each topic's events in the order they were produced, and
a timeline where every cause comes before its effects."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import text

from satupintu.agency_sdk import AgencyWorker, Outcome, Task, approve
from satupintu.audit.config import AuditSettings
from satupintu.audit.main import create_app as create_audit
from satupintu.common.auth import Role, TokenIssuer, load_or_create_local_keys
from satupintu.common.settings import AuthSettings, DatabaseSettings, KafkaSettings
from satupintu.contract.topics import Topic
from satupintu.devtools.testing.payments import pay
from satupintu.devtools.testing.plugin import service_database
from satupintu.devtools.testing.waiting import eventually
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app as create_intake
from satupintu.routing.config import RoutingSettings
from satupintu.routing.main import create_app as create_routing
from tests.conftest import running
from tests.support import events_on, skck_application, wait_for_events

pytestmark = pytest.mark.e2e

TOPICS = [
    Topic.APPLICATIONS.name_for(),
    Topic.AGENCY_TASKS.name_for("polres"),
    Topic.AGENCY_DECISIONS.name_for("polres"),
    Topic.ACCESS.name_for(),
]


async def test_every_event_of_an_end_to_end_application_appears_once_in_order_per_application(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings
) -> None:
    for service in ("intake", "routing", "audit"):
        await service_database(database_settings, service)
    common: dict[str, Any] = {"kafka": kafka_settings, "database": database_settings}
    intake = create_intake(IntakeSettings(**common))
    routing = create_routing(RoutingSettings(**common))
    audit_settings = AuditSettings(**common)
    audit = create_audit(audit_settings)
    private_pem, _ = load_or_create_local_keys(audit_settings.auth.keys_dir)
    token = TokenIssuer(AuthSettings(), private_key_pem=private_pem).issue("andi", {Role.AUDITOR})
    auditor = {"Authorization": f"Bearer {token}"}

    async def police_approve(_task: Task) -> Outcome:
        return approve({"skck_number": "SKCK/2026/11/0001"})

    worker = AgencyWorker("polres", kafka_settings, police_approve)

    async with running(intake) as intake_client, running(routing), running(audit) as audit_client:
        await worker.start()
        try:
            answer = await intake_client.post("/applications", json=await skck_application(intake_client))
            assert answer.status_code == 202, answer.text
            application_id = answer.json()["application_id"]
            await pay(kafka_settings, application_id)
            await wait_for_events(
                kafka_settings, Topic.APPLICATIONS.name_for(), application_id, "application.completed"
            )
            await wait_for_events(
                kafka_settings, Topic.AGENCY_TASKS.name_for("polres"), application_id, "task.decision_accepted"
            )
            looked_up = await audit_client.get(f"/audit/applications/{application_id}", headers=auditor)
            assert looked_up.status_code == 200, looked_up.text

            async def produced() -> dict[str, list[str]]:
                return {
                    topic: [e.id for e in await events_on(kafka_settings, topic, application_id)] for topic in TOPICS
                }

            async def logged() -> list[Any]:
                async with audit.state.runtime.engine.connect() as connection:
                    rows = await connection.execute(
                        text("SELECT * FROM audit_log WHERE application_id = :id OR subject = :id ORDER BY seq"),
                        {"id": application_id},
                    )
                    return list(rows)

            async def both() -> tuple[dict[str, list[str]], list[Any]]:
                return await produced(), await logged()

            on_topics, rows = await eventually(
                both,
                lambda seen: (
                    {i for ids in seen[0].values() for i in ids} <= {row.ce_id for row in seen[1]}
                    and bool(seen[0][Topic.ACCESS.name_for()])
                ),
                interval=0.5,
                what="every produced event logged",
            )
            timeline = (await audit_client.get(f"/audit/applications/{application_id}", headers=auditor)).json()
        finally:
            await worker.stop()

    logged_ids = [row.ce_id for row in rows]
    assert [ce_id for ce_id, count in Counter(logged_ids).items() if count > 1] == []
    assert set(logged_ids) == {ce_id for ids in on_topics.values() for ce_id in ids}
    for topic in TOPICS:
        full_name = kafka_settings.topic_name(topic)
        assert [row.ce_id for row in rows if row.topic == full_name] == on_topics[topic], topic
    assert Counter(row.type for row in rows if row.type != "access.recorded") == Counter(
        {
            "application.submitted": 1,
            "payment.confirmed": 1,
            "application.stage_started": 1,
            "task.assigned": 1,
            "application.task_updated": 2,
            "task.decided": 1,
            "task.decision_accepted": 1,
            "application.completed": 1,
        }
    )
    positions = {entry["ce_id"]: position for position, entry in enumerate(timeline["entries"])}
    for entry in timeline["entries"]:
        cause = entry["causation_id"]
        if cause in positions:
            assert positions[cause] < positions[entry["ce_id"]], (entry["type"], "before its cause")
    for topic in TOPICS:
        full_name = kafka_settings.topic_name(topic)
        in_timeline = [entry["ce_id"] for entry in timeline["entries"] if entry["topic"] == full_name]
        assert in_timeline == [ce_id for ce_id in on_topics[topic] if ce_id in positions], topic
    assert timeline["agencies"] == ["polres"]
