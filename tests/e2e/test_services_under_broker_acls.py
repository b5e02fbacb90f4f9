"""Every service and an agency's worker under their own Kafka users and the production ACLs, on the secured broker
(SASL/SCRAM, ``StandardAuthorizer``): an application is submitted, routed, decided by the police's worker, completed,
notified, projected by the mall, kept on the desk and audited, and every service stays ready (no consumer blocked on
a topic or a dead-letter queue it may not use). A consumer whose user may not write its dead-letter queue says so on
``/readyz`` and keeps the record until it may."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from satupintu.agency.config import AgencySettings
from satupintu.agency.main import create_app as create_agency
from satupintu.agency_sdk import AgencyWorker, Outcome, Task, approve
from satupintu.audit.config import AuditSettings
from satupintu.audit.main import create_app as create_audit
from satupintu.common.catalogue import load_catalogue
from satupintu.common.kafka_acls import principal, principal_acls, service_user
from satupintu.contract.topics import Topic, dead_letter_topic
from satupintu.devtools.localstack.acls import apply_acls, remove_acls
from satupintu.devtools.testing.kafka import read_to_end
from satupintu.devtools.testing.payments import pay
from satupintu.devtools.testing.secure_kafka import SecuredKafka
from satupintu.devtools.testing.waiting import eventually
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app as create_intake
from satupintu.mall.config import MallSettings
from satupintu.mall.main import create_app as create_mall
from satupintu.notification.config import NotificationSettings
from satupintu.notification.main import create_app as create_notification
from satupintu.routing.config import RoutingSettings
from satupintu.routing.main import create_app as create_routing
from tests.conftest import running
from tests.support import produce, skck_application

pytestmark = pytest.mark.e2e


async def rows(app: FastAPI, query: str, application_id: str) -> list[Any]:
    """The rows ``query`` (with ``:id``) finds in a running service's own database."""
    async with app.state.runtime.engine.connect() as connection:
        return list(await connection.execute(text(query), {"id": application_id}))


async def test_every_service_and_a_worker_complete_an_application_under_their_own_kafka_users(
    make_secure_settings: Callable[..., Any], secure_kafka: SecuredKafka
) -> None:
    apps = {
        "intake": create_intake(await make_secure_settings(IntakeSettings, "intake")),
        "routing": create_routing(await make_secure_settings(RoutingSettings, "routing")),
        "agency": create_agency(await make_secure_settings(AgencySettings, "agency")),
        "notification": create_notification(await make_secure_settings(NotificationSettings, "notification")),
        "audit": create_audit(await make_secure_settings(AuditSettings, "audit")),
        "mall": create_mall(await make_secure_settings(MallSettings, "mall")),
    }
    for name, app in apps.items():
        assert app.state.runtime.settings.kafka.sasl_username == f"satupintu-{name}"

    async def police_approve(task: Task) -> Outcome:
        return approve({"skck_number": "SKCK/2026/ACL/0001"})

    worker = AgencyWorker("polres", secure_kafka.agency("polres"), police_approve, worker_name="acl")

    async with (
        running(apps["intake"]) as intake,
        running(apps["routing"]) as routing,
        running(apps["agency"]) as desk,
        running(apps["notification"]) as notification,
        running(apps["audit"]) as audit,
        running(apps["mall"]) as mall,
    ):
        await worker.start()
        try:
            answer = await intake.post("/applications", json=await skck_application(intake))
            assert answer.status_code == 202, answer.text
            application_id, tracking_code = answer.json()["application_id"], answer.json()["tracking_code"]
            await pay(secure_kafka.service("payment"), application_id)  # as the payment service would

            async def status() -> str:
                tracked = await intake.get(f"/applications/{tracking_code}")
                assert tracked.status_code == 200, tracked.text
                return str(tracked.json()["status"])

            await eventually(status, lambda seen: seen == "completed", timeout=60, what="the application completed")
            audited = await eventually(
                lambda: rows(apps["audit"], "SELECT type FROM audit_log WHERE application_id = :id", application_id),
                lambda found: {"application.completed", "task.decided"} <= {row.type for row in found},
                what="the decision and the completion audited",
            )
            await eventually(
                lambda: rows(
                    apps["notification"], "SELECT template FROM deliveries WHERE application_id = :id", application_id
                ),
                lambda found: "application.completed" in {row.template for row in found},
                what="the completion notified",
            )
            await eventually(
                lambda: rows(
                    apps["mall"], "SELECT state FROM mall_applications WHERE application_id = :id", application_id
                ),
                lambda found: [row.state for row in found] == ["completed"],
                what="the mall's board knows the application completed",
            )
            await eventually(
                lambda: rows(
                    apps["agency"], "SELECT agency FROM desk_tasks WHERE application_id = :id", application_id
                ),
                lambda found: [row.agency for row in found] == ["polres"],
                what="the police's task on the desk",
            )
            clients = {"intake": intake, "routing": routing, "agency": desk}
            clients |= {"notification": notification, "audit": audit, "mall": mall}
            for name, client in clients.items():
                ready = await client.get("/readyz")
                assert ready.status_code == 200, f"{name}: {ready.text}"
        finally:
            await worker.stop()

    assert worker.decided == 1
    assert worker.dead_lettered == 0
    assert "application.submitted" in {row.type for row in audited}


async def test_a_consumer_denied_its_dead_letter_queue_says_so_on_readyz_and_keeps_the_record(
    make_secure_settings: Callable[..., Any], secure_kafka: SecuredKafka
) -> None:
    applications_dlq = dead_letter_topic(Topic.APPLICATIONS.name_for())
    mall_on_its_dlq = [
        rule
        for rule in principal_acls(load_catalogue().agency_codes())[principal(service_user("mall"))]
        if rule.name == applications_dlq
    ]
    assert mall_on_its_dlq, "the mall may dead-letter what it reads"
    mall = create_mall(await make_secure_settings(MallSettings, "mall"))
    poison_key = f"poison-{uuid.uuid4().hex[:8]}".encode()

    async def readiness(client: httpx.AsyncClient) -> httpx.Response:
        return await client.get("/readyz")

    async with running(mall) as client:
        await remove_acls(secure_kafka.admin, mall_on_its_dlq)
        try:
            await produce(
                secure_kafka.service("intake"), Topic.APPLICATIONS.name_for(), [(poison_key, b"{not json", [])]
            )
            blocked = await eventually(
                lambda: readiness(client),
                lambda answer: answer.status_code == 503,
                what="the mall not ready while it cannot dead-letter",
            )
        finally:
            await apply_acls(secure_kafka.admin, mall_on_its_dlq)
        await eventually(
            lambda: readiness(client), lambda answer: answer.status_code == 200, what="the mall ready again"
        )

    consumers = blocked.json()["checks"]["consumers"]
    assert f"cannot dead-letter to {secure_kafka.topic_prefix}{applications_dlq}" in consumers
    assert "TopicAuthorizationFailed" in consumers
    admin = secure_kafka.admin
    dead = await read_to_end(
        admin.bootstrap_servers, admin.topic_name(applications_dlq), client_options=admin.client_options()
    )
    [letter] = [record for record in dead if record.key == poison_key]
    assert letter.value == b"{not json"
    assert letter.header("dlq_consumer") == "mall"
