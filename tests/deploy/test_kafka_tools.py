"""The operations tools on the real broker: the Compose topic creator lays every topic out once, and the DLQ replay
copies exactly the selected dead letters back to their topic, without the dead-letter headers."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from satupintu.common.settings import KafkaSettings
from satupintu.devtools.localstack.selection import Endpoint
from tests.deploy.support import tool

pytestmark = pytest.mark.integration
create_topics = tool("create_topics")
kafka_layout = tool("kafka_layout")
replay_dlq = tool("replay_dlq")


@pytest.fixture
async def settings(kafka_endpoint: Endpoint, test_session_id: str) -> AsyncIterator[KafkaSettings]:
    """A topic prefix of this test alone; its topics are deleted afterwards."""
    prefix = f"t{test_session_id}.{time.monotonic_ns() % 10**9}."
    yield KafkaSettings(bootstrap_servers=kafka_endpoint.address, topic_prefix=prefix)
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_endpoint.address)
    await admin.start()
    try:
        ours = [topic for topic in await admin.list_topics() if topic.startswith(prefix)]
        if ours:
            await admin.delete_topics(ours)
    finally:
        await admin.close()


async def records_of(bootstrap: str, topic: str, count: int, deadline_seconds: float = 20.0) -> list[Any]:
    """The first ``count`` records of ``topic``, polling until they are there or the deadline passes."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        records: list[Any] = []
        deadline = time.monotonic() + deadline_seconds
        while len(records) < count and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records += batch
        return sorted(records, key=lambda r: r.key)
    finally:
        await consumer.stop()


async def test_topic_creator_makes_every_topic_with_partitions_retention_and_compacted_key_topics_once(
    settings: KafkaSettings,
) -> None:
    specs = kafka_layout.topic_specs(["polres", "bpjs-kes"], replicas=1, partitions=2)
    created = await create_topics.create_topics(settings, specs, wait_seconds=30)
    assert sorted(created) == sorted(settings.topic_name(spec.name) for spec in specs)
    assert await create_topics.create_topics(settings, specs, wait_seconds=30) == []

    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    await admin.start()
    try:
        described = await admin.describe_topics([settings.topic_name("agency.polres.tasks")])
        assert len(described[0]["partitions"]) == 2
        responses = await admin.describe_configs(
            [
                ConfigResource(ConfigResourceType.TOPIC, settings.topic_name("applications")),
                ConfigResource(ConfigResourceType.TOPIC, settings.topic_name("applications.dlq")),
            ]
        )
        retention = {
            resource[3]: {entry[0]: entry[1] for entry in resource[4]}["retention.ms"]
            for response in responses
            for resource in response.resources
        }
        assert retention == {
            settings.topic_name("applications"): str(kafka_layout.EVENT_RETENTION_MS),
            settings.topic_name("applications.dlq"): str(kafka_layout.DEAD_LETTER_RETENTION_MS),
        }
        responses = await admin.describe_configs(
            [
                ConfigResource(ConfigResourceType.TOPIC, settings.topic_name("keys.agency.polres")),
                ConfigResource(ConfigResourceType.TOPIC, settings.topic_name("keys.agency.polres.dlq")),
            ]
        )
        cleanup = {
            resource[3]: {entry[0]: entry[1] for entry in resource[4]}["cleanup.policy"]
            for response in responses
            for resource in response.resources
        }
        assert cleanup == {
            settings.topic_name("keys.agency.polres"): "compact",
            settings.topic_name("keys.agency.polres.dlq"): "delete",
        }
    finally:
        await admin.close()


async def test_replay_copies_the_selected_dead_letters_back_without_dlq_headers(settings: KafkaSettings) -> None:
    topic, dlq = settings.topic_name("applications"), settings.topic_name("applications.dlq")
    await create_topics.create_topics(
        settings, kafka_layout.topic_specs([], replicas=1, partitions=2)[:2], wait_seconds=30
    )

    def dead_letter(ce_id: str, consumer: str, reason: str, source: str = topic) -> list[tuple[str, bytes]]:
        return [
            ("ce_id", ce_id.encode()),
            ("ce_type", b"application.submitted"),
            ("dlq_reason", reason.encode()),
            ("dlq_consumer", consumer.encode()),
            ("dlq_topic", source.encode()),
            ("dlq_partition", b"0"),
            ("dlq_offset", b"7"),
        ]

    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
    await producer.start()
    try:
        letters = {
            b"app-1": dead_letter("e1", "routing", "handler failed after 5 attempts: TimeoutError()"),
            b"app-2": dead_letter("e2", "notification", "unknown service code"),
            b"app-3": dead_letter("e3", "routing", "TimeoutError() again"),
            b"app-4": dead_letter("e4", "routing", "timeout", source=settings.topic_name("mall")),
        }
        for key, headers in letters.items():
            await producer.send_and_wait(dlq, b"value of " + key, key=key, headers=headers)
    finally:
        await producer.stop()

    routing_timeouts = replay_dlq.Selection(consumers=frozenset({"routing"}), reason_contains="Timeout")
    dry = await replay_dlq.replay(settings.bootstrap_servers, dlq, routing_timeouts, dry_run=True)
    assert (dry.examined, sorted(r["ce_id"] for r in dry.replayed)) == (4, ["e1", "e3"])

    done = await replay_dlq.replay(
        settings.bootstrap_servers, dlq, replay_dlq.Selection(consumers=frozenset({"routing"}))
    )
    assert sorted(r["ce_id"] for r in done.replayed) == ["e1", "e3"]
    assert [s["ce_id"] for s in done.skipped] == ["e4"], "a letter naming another source topic is not replayed"

    replayed = await records_of(settings.bootstrap_servers, topic, 2)
    assert [(r.key, r.value) for r in replayed] == [(b"app-1", b"value of app-1"), (b"app-3", b"value of app-3")]
    for record in replayed:
        assert [name for name, _ in record.headers] == ["ce_id", "ce_type"]
    assert len(await records_of(settings.bootstrap_servers, dlq, 4)) == 4, "the DLQ keeps its records"
