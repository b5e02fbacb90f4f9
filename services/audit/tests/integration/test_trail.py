"""The log itself on the real broker and database: a redelivery adds nothing, dead letters and unparseable records
are logged as what they are, personal data is hashed yet matchable, the log refuses UPDATE and DELETE, and
inclusion and consistency proofs verify while a proof for a wrong entry does not; two appenders at once keep
one gapless chain."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from satupintu.audit.domain import keyed_hash
from satupintu.audit.handlers import AuditConsumer
from satupintu.audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from satupintu.audit.services import AuditService
from satupintu.audit.signing import SignedCheckpoint, load_public_key, signature_valid
from satupintu.common.database import session_factory
from satupintu.contract.applications import ApplicationStageStarted
from satupintu.contract.envelope import Event
from satupintu.contract.topics import Topic, dead_letter_topic
from satupintu.devtools.testing.kafka import consumer_record
from satupintu.devtools.testing.waiting import eventually
from tests.support import produce, record_of, submitted_event

from .conftest import RunningAudit

pytestmark = pytest.mark.integration

APPLICATIONS = Topic.APPLICATIONS.name_for()


def consumer_records(audit: RunningAudit, events: list[Event[Any]]) -> list[ConsumerRecord[bytes, bytes]]:
    """The events as audit's consumer would receive them from the applications topic, in order."""
    topic = audit.kafka.topic_name(APPLICATIONS)
    return [
        consumer_record(topic, record.value, record.header_list(), key=record.key, offset=offset)
        for offset, record in enumerate(record_of(event) for event in events)
    ]


async def test_redelivered_ce_id_adds_nothing(audit: RunningAudit) -> None:
    event = submitted_event()
    marker = event.caused(  # same key, so same partition, produced after both copies: logged after them
        ApplicationStageStarted(
            application_id=event.subject,
            stage_index=0,
            stage_name="verifikasi",
            stage_count=1,
            tasks=(),
            started_at=datetime.now(UTC),
        ),
        source="/satupintu/routing",
        actor="service:routing",
    )
    await produce(audit.kafka, APPLICATIONS, [record_of(event), record_of(event)])
    await produce(audit.kafka, APPLICATIONS, [record_of(marker)])

    await audit.wait_for_rows("ce_id = :id", id=marker.id)

    assert len(await audit.rows("ce_id = :id", id=event.id)) == 1
    assert [row.ce_id for row in await audit.rows("application_id = :id", id=event.subject)] == [event.id, marker.id]


async def test_dead_letters_and_unparseable_records_are_logged_as_what_they_are(audit: RunningAudit) -> None:
    key = f"poison-{uuid.uuid4()}"
    headers = [("dlq_reason", b"missing header ce_type"), ("dlq_consumer", b"routing"), ("ce_subject", key.encode())]
    await produce(audit.kafka, dead_letter_topic(APPLICATIONS), [(key.encode(), b"{not json", headers)])
    await produce(audit.kafka, APPLICATIONS, [(key.encode(), b"{not json", [("ce_subject", key.encode())])])

    rows = await audit.wait_for_rows("subject = :key", 2, key=key)

    assert sorted(row.type for row in rows) == ["dead_letter", "invalid"]
    dead = next(row for row in rows if row.type == "dead_letter")
    assert dead.payload["reason"] == "missing header ce_type"
    assert dead.actor == "service:routing"


async def test_personal_data_is_stored_as_keyed_hashes_an_auditor_can_match(audit: RunningAudit) -> None:
    event = submitted_event()
    await produce(audit.kafka, APPLICATIONS, [record_of(event)])
    [row] = await audit.wait_for_rows("ce_id = :id", id=event.id)
    nik = event.payload.applicant.nik

    assert nik not in str(row.payload)
    assert row.payload["applicant"]["nik"] == keyed_hash(audit.settings.hash_key.encode(), nik)
    assert row.payload["service_code"] == "skck"
    found = await audit.client.get("/audit/events", params={"personal": nik}, headers=audit.auditor())
    assert found.status_code == 200, found.text
    assert event.id in [item["ce_id"] for item in found.json()["items"]]


async def test_update_and_delete_on_the_log_fail(audit: RunningAudit) -> None:
    event = submitted_event()
    await produce(audit.kafka, APPLICATIONS, [record_of(event)])
    [row] = await audit.wait_for_rows("ce_id = :id", id=event.id)
    owner = audit.owner()
    refusals: list[str] = []
    try:
        for engine in (audit.service, owner):  # the service's role, then the owner (a superuser)
            for statement in (
                "UPDATE audit_log SET actor = 'someone-else' WHERE seq = :seq",
                "DELETE FROM audit_log WHERE seq = :seq",
                "DELETE FROM audit_tree_nodes WHERE level = 0 AND position = :seq - 1",
                "TRUNCATE audit_checkpoints",
            ):
                with pytest.raises(DBAPIError) as refused:
                    async with engine.begin() as connection:
                        await connection.execute(text(statement), {"seq": row.seq})
                refusals.append(str(refused.value.orig))
        async with audit.service.connect() as connection:
            privileges = await connection.execute(
                text(
                    "SELECT privilege_type FROM information_schema.role_table_grants "
                    "WHERE grantee = current_user AND table_name = 'audit_log' ORDER BY privilege_type"
                )
            )
            granted = [privilege for (privilege,) in privileges]
            service_role = (await connection.execute(text("SELECT current_user"))).scalar_one()
    finally:
        await owner.dispose()

    assert all("permission denied" in refusal for refusal in refusals[:4]), refusals[:4]
    assert all("append-only" in refusal for refusal in refusals[4:]), refusals[4:]
    assert granted == ["INSERT", "SELECT"]
    assert service_role == make_url(audit.settings.database.url).username  # DATABASE_URL's role, not the owner
    [unchanged] = await audit.rows("seq = :seq", seq=row.seq)
    assert unchanged.actor == row.actor


async def test_the_services_role_cannot_switch_off_or_drop_the_append_only_triggers(audit: RunningAudit) -> None:
    refusals: dict[str, str] = {}
    for statement in (
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
        "ALTER TABLE audit_log DISABLE TRIGGER ALL",
        "DROP TRIGGER audit_log_append_only ON audit_log",
        "DROP TRIGGER audit_checkpoints_no_truncate ON audit_checkpoints",
        "CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN RETURN NEW; END $$",
        "DROP TABLE audit_tree_nodes",
        "ALTER TABLE audit_log ADD COLUMN note text",
        "SET session_replication_role = replica",
    ):
        with pytest.raises(DBAPIError) as refused:
            async with audit.service.begin() as connection:
                await connection.execute(text(statement))
        refusals[statement] = str(refused.value.orig)

    assert all("must be owner" in refusal or "permission denied" in refusal for refusal in refusals.values()), refusals
    async with audit.service.connect() as connection:
        triggers = await connection.execute(
            text(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass AND tgenabled = 'O' "
                "ORDER BY tgname"
            )
        )
        enabled = [name for (name,) in triggers]
    assert enabled == ["audit_log_append_only", "audit_log_no_truncate"]


async def test_inclusion_and_consistency_proofs_verify_and_a_proof_for_a_wrong_entry_fails(
    audit: RunningAudit,
) -> None:
    first_event, second_event = submitted_event(), submitted_event()
    await produce(audit.kafka, APPLICATIONS, [record_of(first_event)])
    [first] = await audit.wait_for_rows("ce_id = :id", id=first_event.id)
    older = await audit.client.post("/audit/checkpoints", headers=audit.auditor())
    await produce(audit.kafka, APPLICATIONS, [record_of(second_event)])
    [second] = await audit.wait_for_rows("ce_id = :id", id=second_event.id)
    newer = await audit.client.post("/audit/checkpoints", headers=audit.auditor())
    public_key = load_public_key((await audit.client.get("/audit/public-key")).content)

    included = await audit.client.get(f"/audit/proofs/inclusion/{first.seq}", headers=audit.auditor())
    consistent = await audit.client.get(
        "/audit/proofs/consistency",
        params={"first": older.json()["tree_size"], "second": newer.json()["tree_size"]},
        headers=audit.auditor(),
    )

    statuses = (older.status_code, newer.status_code, included.status_code, consistent.status_code)
    assert statuses == (201, 201, 200, 200), (older.text, newer.text, included.text, consistent.text)
    proof = included.json()
    checkpoint = proof["checkpoint"]
    assert checkpoint is not None
    assert checkpoint["root_hash"] == proof["root_hash"]
    signed = SignedCheckpoint(
        tree_size=checkpoint["tree_size"],
        root_hash=checkpoint["root_hash"],
        time=datetime.fromisoformat(checkpoint["time"]),
        key_id=checkpoint["key_id"],
        signature=checkpoint["signature"],
    )
    assert signature_valid(public_key, signed)
    root = bytes.fromhex(proof["root_hash"])
    path = [bytes.fromhex(sibling) for sibling in proof["audit_path"]]
    assert proof["leaf_hash"] == leaf_hash(bytes.fromhex(first.entry_hash)).hex()
    assert verify_inclusion(leaf_hash(bytes.fromhex(first.entry_hash)), first.seq - 1, proof["tree_size"], path, root)
    wrong_entry = leaf_hash(bytes.fromhex(second.entry_hash))
    assert not verify_inclusion(wrong_entry, first.seq - 1, proof["tree_size"], path, root)
    assert not verify_inclusion(wrong_entry, second.seq - 1, proof["tree_size"], path, root)

    answer = consistent.json()
    assert answer["first_root"] == older.json()["root_hash"]
    assert answer["second_root"] == newer.json()["root_hash"]
    hashes = [bytes.fromhex(node) for node in answer["proof"]]
    first_root, second_root = bytes.fromhex(answer["first_root"]), bytes.fromhex(answer["second_root"])
    assert verify_consistency(answer["first"], answer["second"], first_root, second_root, hashes)
    assert not verify_consistency(answer["first"], answer["second"], wrong_entry, second_root, hashes)


async def test_checkpoints_are_taken_at_the_interval_as_the_log_grows(audit: RunningAudit) -> None:
    event = submitted_event()
    await produce(audit.kafka, APPLICATIONS, [record_of(event)])
    [row] = await audit.wait_for_rows("ce_id = :id", id=event.id)

    async def latest_size() -> int:
        answer = await audit.client.get("/audit/checkpoints/latest", headers=audit.auditor())
        return int(answer.json()["tree_size"]) if answer.status_code == 200 else 0

    assert await eventually(latest_size, lambda size: size >= row.seq, what="a checkpoint covering the entry")


def two_consumers(audit: RunningAudit, engine: AsyncEngine) -> tuple[AuditConsumer, AuditConsumer]:
    """Audit's consumer as in this process and as in another instance (its own engine), on the same log."""
    runtime = audit.app.state.runtime
    return tuple(  # type: ignore[return-value]
        AuditConsumer(trail, audit.app.state.audit.reader, broker=runtime.broker, kafka=audit.kafka)
        for trail in (audit.app.state.audit.trail, AuditService(session_factory(engine)))
    )


async def test_two_appenders_at_once_keep_one_gapless_chain(audit: RunningAudit) -> None:
    events = [submitted_event() for _ in range(30)]
    records = consumer_records(audit, events)
    engine = audit.writer()
    instances = two_consumers(audit, engine)
    try:
        await asyncio.gather(*(instance.process(record) for record in records for instance in instances))
    finally:
        await engine.dispose()
    verified = await audit.client.get("/audit/verify", headers=audit.auditor())

    assert sum(instance.processed for instance in instances) == 30  # each event once, whoever got there first
    assert sum(instance.duplicates for instance in instances) == 30
    rows = await audit.rows("ce_id = ANY(:ids)", ids=[event.id for event in events])
    assert len(rows) == 30
    assert verified.json()["ok"] is True, verified.text
    assert verified.json()["entries_checked"] == verified.json()["tree_size"]


async def test_batches_appended_by_two_instances_at_once_keep_one_gapless_chain_with_each_event_once(
    audit: RunningAudit,
) -> None:
    events = [submitted_event() for _ in range(40)]
    records = consumer_records(audit, events)
    # overlapping batches, and one event twice in the same batch (a redelivery inside one poll)
    batches = [records[0:15], [*records[10:25], records[12]], records[20:40]]
    engine = audit.writer()
    instances = two_consumers(audit, engine)
    try:
        await asyncio.gather(*(instance.process_batch(batch) for batch in batches for instance in instances))
    finally:
        await engine.dispose()
    verified = await audit.client.get("/audit/verify", headers=audit.auditor())

    assert sum(instance.processed for instance in instances) == 40
    rows = await audit.rows("ce_id = ANY(:ids)", ids=[event.id for event in events])
    assert sorted(row.ce_id for row in rows) == sorted(event.id for event in events)
    assert verified.json()["ok"] is True, verified.text
    assert verified.json()["entries_checked"] == verified.json()["tree_size"]
