"""Nothing lost, nothing twice: a crash between commit and publish, a redelivered event, malformed events on the
topic, and protected endpoints; on the real broker and database."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from satupintu.common import faults
from satupintu.common.auth import Role, TokenIssuer, load_or_create_local_keys
from satupintu.common.settings import AuthSettings, KafkaSettings
from satupintu.contract.topics import Topic, dead_letter_topic
from satupintu.devtools.testing.kafka import read_to_end
from satupintu.devtools.testing.payments import pay, payment_confirmed
from satupintu.devtools.testing.waiting import eventually
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app as create_intake
from satupintu.routing.config import RoutingSettings
from satupintu.routing.main import create_app as create_routing
from tests.conftest import running
from tests.support import produce, record_of, skck_application, submitted_event

pytestmark = pytest.mark.e2e


class RelayCrashed(BaseException):
    """Ends the relay task as a crash would: nothing in the relay catches it."""


async def assigned_tasks(kafka: KafkaSettings, application_id: str) -> list[str]:
    """``task.assigned`` events on the police's tasks topic for one application, by task id."""
    records = await read_to_end(kafka.bootstrap_servers, kafka.topic_name(Topic.AGENCY_TASKS.name_for("polres")))
    return [
        record.header("ce_id") or ""
        for record in records
        if record.header("ce_type") == "task.assigned" and record.header("ce_subject") == application_id
    ]


async def workflow_count(app: Any, application_id: str) -> int:
    """How many workflows routing holds for an application."""
    async with app.state.runtime.engine.connect() as connection:
        result = await connection.execute(
            text("SELECT count(*) FROM workflows WHERE application_id = :id"), {"id": application_id}
        )
        return int(result.scalar_one())


@pytest.mark.parametrize("crash_point", ["outbox.before_publish", "outbox.after_publish"])
async def test_relay_crash_after_commit_loses_nothing_and_routing_acts_once(
    crash_point: str, make_settings: Callable[..., Any], kafka_settings: KafkaSettings
) -> None:
    intake = create_intake(await make_settings(IntakeSettings, "intake"))
    routing = create_routing(await make_settings(RoutingSettings, "routing"))
    applications_topic = kafka_settings.topic_name(Topic.APPLICATIONS.name_for())

    def crash() -> None:
        raise RelayCrashed(crash_point)

    async with running(intake) as client, running(routing):
        runtime = intake.state.runtime
        await eventually(lambda: _true_when(runtime.relay.is_active), what="intake's relay active")
        faults.arm(crash_point, crash)
        try:
            answer = await client.post("/applications", json=await skck_application(client))
            assert answer.status_code == 202, answer.text
            application_id = answer.json()["application_id"]
            await pay(kafka_settings, application_id)
            await eventually(lambda: _true_when(not runtime.relay.is_active), what="relay crashed")
        finally:
            faults.disarm(crash_point)

        async with runtime.engine.connect() as connection:
            pending = await connection.execute(
                text("SELECT event_type FROM outbox WHERE key = :id"), {"id": application_id}
            )
            committed_not_deleted = [row.event_type for row in pending]
        published = [
            r
            for r in await read_to_end(kafka_settings.bootstrap_servers, applications_topic)
            if r.header("ce_subject") == application_id and r.header("ce_type") == "application.submitted"
        ]
        assert committed_not_deleted == ["application.submitted"]
        assert len(published) == (0 if crash_point == "outbox.before_publish" else 1)

        runtime.spawn(runtime.relay.run())  # the restarted relay

        await eventually(lambda: workflow_count(routing, application_id), lambda n: n >= 1, what="routing acted")
        tasks = await eventually(lambda: assigned_tasks(kafka_settings, application_id), what="task assigned")
        await eventually(lambda: _outbox_rows(intake, application_id), lambda rows: rows == 0, what="outbox drained")

    republished = [
        r
        for r in await read_to_end(kafka_settings.bootstrap_servers, applications_topic)
        if r.header("ce_subject") == application_id and r.header("ce_type") == "application.submitted"
    ]
    assert len(republished) == (1 if crash_point == "outbox.before_publish" else 2)
    assert await workflow_count(routing, application_id) == 1
    assert len(tasks) == 1
    assert len(await assigned_tasks(kafka_settings, application_id)) == 1


async def _true_when(value: bool) -> bool:
    return value


async def _outbox_rows(app: Any, application_id: str) -> int:
    async with app.state.runtime.engine.connect() as connection:
        result = await connection.execute(text("SELECT count(*) FROM outbox WHERE key = :id"), {"id": application_id})
        return int(result.scalar_one())


async def test_redelivered_event_has_one_effect(
    make_settings: Callable[..., Any], kafka_settings: KafkaSettings
) -> None:
    routing = create_routing(await make_settings(RoutingSettings, "routing"))
    event = submitted_event()
    application_id = event.subject

    async with running(routing):
        paid = record_of(payment_confirmed(application_id))
        await produce(kafka_settings, Topic.APPLICATIONS.name_for(), [record_of(event), record_of(event), paid])
        consumer = routing.state.runtime.consumers[0]
        duplicates_before = consumer.duplicates

        async def both_seen() -> int:
            records = await read_to_end(
                kafka_settings.bootstrap_servers, kafka_settings.topic_name(Topic.APPLICATIONS.name_for())
            )
            return sum(1 for r in records if r.header("ce_id") == event.id)

        assert await both_seen() == 2
        await eventually(lambda: assigned_tasks(kafka_settings, application_id), what="task assigned")
        await eventually(lambda: _inbox_has(routing, event.id), what="event in routing's inbox")

    assert await workflow_count(routing, application_id) == 1
    assert len(await assigned_tasks(kafka_settings, application_id)) == 1
    assert consumer.duplicates - duplicates_before == 1


async def _inbox_has(app: Any, event_id: str) -> bool:
    async with app.state.runtime.engine.connect() as connection:
        result = await connection.execute(text("SELECT count(*) FROM inbox WHERE event_id = :id"), {"id": event_id})
        return int(result.scalar_one()) == 1


async def test_malformed_events_are_dead_lettered_with_reasons_and_valid_one_behind_is_processed(
    make_settings: Callable[..., Any], kafka_settings: KafkaSettings
) -> None:
    routing = create_routing(await make_settings(RoutingSettings, "routing"))
    valid = record_of(submitted_event())
    headers = dict(valid.headers)
    key = b"poison-" + uuid.uuid4().hex.encode()
    no_type = [(k, v) for k, v in headers.items() if k != "ce_type"]
    unknown_type = [(k, b"application.teleported" if k == "ce_type" else v) for k, v in headers.items()]
    bad_json = list(headers.items())
    bad_payload = list(headers.items())
    poison = [
        (key, b"{not json", bad_json),
        (key, valid.value, no_type),
        (key, valid.value, unknown_type),
        (key, b'{"application_id": "x"}', bad_payload),
    ]
    dlq = kafka_settings.topic_name(dead_letter_topic(Topic.APPLICATIONS.name_for()))

    async with running(routing):
        await produce(kafka_settings, Topic.APPLICATIONS.name_for(), [*poison, valid])
        application_id = valid.key.decode()
        await eventually(lambda: workflow_count(routing, application_id), lambda n: n == 1, what="valid one processed")

        async def dead_letters() -> list[dict[str, str | None]]:
            records = await read_to_end(kafka_settings.bootstrap_servers, dlq)
            return [
                {name: r.header(name) for name in ("dlq_reason", "dlq_topic", "dlq_partition", "dlq_offset")}
                for r in records
                if r.key == key and r.header("dlq_consumer") == "routing"
            ]

        letters = await eventually(dead_letters, lambda found: len(found) == 4, what="four dead letters")

    reasons = [letter["dlq_reason"] or "" for letter in letters]
    assert reasons[0].startswith("payload is not valid JSON")
    assert reasons[1] == "missing header ce_type"
    assert reasons[2] == "unknown event type 'application.teleported'"
    assert "payload does not match urn:satupintu:schema:application.submitted:v1" in reasons[3]
    assert all(letter["dlq_topic"] == kafka_settings.topic_name("applications") for letter in letters)
    assert all(letter["dlq_partition"] is not None and letter["dlq_offset"] is not None for letter in letters)


async def test_protected_endpoint_refuses_missing_expired_and_wrong_role_tokens(
    make_settings: Callable[..., Any],
) -> None:
    settings: RoutingSettings = await make_settings(RoutingSettings, "routing")
    routing = create_routing(settings)
    private_pem, _ = load_or_create_local_keys(settings.auth.keys_dir)
    issuer = TokenIssuer(AuthSettings(), private_key_pem=private_pem)
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).timestamp()
    expired = TokenIssuer(AuthSettings(), private_key_pem=private_pem, clock=lambda: an_hour_ago).issue(
        "rina", {Role.OPERATOR}, ttl=60
    )
    auditor = issuer.issue("andi", {Role.AUDITOR})
    operator = issuer.issue("rina", {Role.OPERATOR})
    path = f"/workflows/{uuid.uuid4()}"

    async with running(routing) as client:
        missing = await client.get(path)
        stale = await client.get(path, headers={"Authorization": f"Bearer {expired}"})
        wrong_role = await client.get(path, headers={"Authorization": f"Bearer {auditor}"})
        allowed = await client.get(path, headers={"Authorization": f"Bearer {operator}"})

    assert (missing.status_code, stale.status_code, wrong_role.status_code) == (401, 401, 403)
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.headers["www-authenticate"] == "Bearer"
    assert wrong_role.json()["type"].endswith("/forbidden")
    assert allowed.status_code == 404
    assert allowed.json()["type"].endswith("/not-found")
