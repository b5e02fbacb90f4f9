"""The floor every other test stands on: a real Kafka broker and a real PostgreSQL server answer."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.common.topics_admin import ensure_topics
from satupintu.devtools.testing.plugin import service_database

pytestmark = pytest.mark.integration


async def test_message_round_trips_through_real_broker_and_row_through_real_database(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings
) -> None:
    topic = kafka_settings.topic_name(f"floor.{uuid.uuid4().hex[:6]}")
    await ensure_topics(kafka_settings.model_copy(update={"topic_prefix": ""}), [topic])
    producer = AIOKafkaProducer(bootstrap_servers=kafka_settings.bootstrap_servers, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        metadata = await producer.send_and_wait(topic, b"halo dunia", key=b"app-1", headers=[("ce_id", b"e1")])
    finally:
        await producer.stop()

    group = f"floor-{uuid.uuid4().hex[:6]}"
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_settings.bootstrap_servers,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        message = await consumer.getone()
        await consumer.commit()
        committed = await consumer.committed(TopicPartition(topic, message.partition))
    finally:
        await consumer.stop()

    assert (message.key, message.value, dict(message.headers)) == (b"app-1", b"halo dunia", {"ce_id": b"e1"})
    assert message.offset == metadata.offset
    assert committed == message.offset + 1

    name = await service_database(database_settings, "floor")
    url = database_settings.owner().service_url("floor", driver="postgresql")  # a table of its own
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("CREATE TABLE IF NOT EXISTS seen (ce_id text PRIMARY KEY, body text NOT NULL)")
        await connection.execute("INSERT INTO seen VALUES ($1, $2)", "e1", message.value.decode())
        row = await connection.fetchrow("SELECT ce_id, body FROM seen")
        server_version = await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()

    assert name.endswith("_floor")
    assert dict(row) == {"ce_id": "e1", "body": "halo dunia"}
    assert server_version
