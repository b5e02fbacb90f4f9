"""The secured broker enforces who reads what: every principal connects as its own SCRAM user and may do only what
``satupintu.common.kafka_acls`` allows (the rules Strimzi's users and ``deploy/kafka-acls/`` carry). Each denial is
tried in a consumer group the principal may use, so it is the topic that is refused, and beside it the same client
does what it may."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import TopicAuthorizationFailedError

from satupintu.common.kafka_acls import agency_group_prefix
from satupintu.common.settings import KafkaSettings
from satupintu.contract.topics import KeyTopic, Topic
from satupintu.devtools.testing.secure_kafka import SecuredKafka

pytestmark = pytest.mark.integration

POLRES, BPN = "polres", "bpn"


async def write_as(settings: KafkaSettings, logical_topic: str, value: bytes) -> None:
    """Produce one record as the settings' user (idempotent, ``acks=all``, as the services do)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        enable_idempotence=True,
        acks="all",
        request_timeout_ms=10_000,
        **settings.client_options(),
    )
    await producer.start()
    try:
        await producer.send_and_wait(settings.topic_name(logical_topic), value, key=b"citizen-1")
    finally:
        await producer.stop()


async def read_as(settings: KafkaSettings, logical_topic: str, group: str, wanted: bytes) -> list[ConsumerRecord]:
    """Consume ``logical_topic`` as the settings' user in the consumer group ``group`` (under the topic prefix) from
    the beginning, until the record ``wanted`` arrives."""
    consumer = AIOKafkaConsumer(
        settings.topic_name(logical_topic),
        bootstrap_servers=settings.bootstrap_servers,
        group_id=settings.topic_name(group),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **settings.client_options(),
    )
    try:
        await consumer.start()
        records: list[ConsumerRecord] = []
        while not any(record.value == wanted for record in records):
            for batch in (await consumer.getmany(timeout_ms=30_000)).values():
                records += batch
            assert records, f"nothing on {logical_topic} within 30s"
        return records
    finally:
        await consumer.stop()


async def test_an_agency_can_neither_read_another_agencys_tasks_nor_write_its_decisions(
    secure_kafka: SecuredKafka,
) -> None:
    polres, routing = secure_kafka.agency(POLRES), secure_kafka.service("routing")
    police_tasks, land_tasks = Topic.AGENCY_TASKS.name_for(POLRES), Topic.AGENCY_TASKS.name_for(BPN)
    await write_as(routing, police_tasks, b"task for the police")
    await write_as(routing, land_tasks, b"task for the land office")
    worker_group = f"{agency_group_prefix(POLRES)}acl-test"

    assert await read_as(polres, police_tasks, worker_group, b"task for the police")
    with pytest.raises(TopicAuthorizationFailedError):
        await read_as(polres, land_tasks, worker_group, b"task for the land office")

    await write_as(polres, Topic.AGENCY_DECISIONS.name_for(POLRES), b"police decision")
    with pytest.raises(TopicAuthorizationFailedError):
        await write_as(polres, Topic.AGENCY_DECISIONS.name_for(BPN), b"forged land decision")
    with pytest.raises(TopicAuthorizationFailedError):
        await read_as(polres, Topic.AGENCY_DECISIONS.name_for(POLRES), worker_group, b"police decision")


async def test_only_a_key_topics_readers_read_it_and_only_intake_writes_it(secure_kafka: SecuredKafka) -> None:
    intake = secure_kafka.service("intake")
    notification_keys, police_keys = KeyTopic.NOTIFICATION.name_for(), KeyTopic.AGENCY.name_for(POLRES)
    await write_as(intake, notification_keys, b"key wrapped for notification")
    await write_as(intake, police_keys, b"key wrapped for the police")

    notification = secure_kafka.service("notification")
    assert await read_as(
        notification, notification_keys, "satupintu.notification-keys", b"key wrapped for notification"
    )
    assert await read_as(
        secure_kafka.agency(POLRES),
        police_keys,
        f"{agency_group_prefix(POLRES)}acl-test",
        b"key wrapped for the police",
    )
    assert await read_as(
        secure_kafka.service("agency"), police_keys, "satupintu.agency-keys", b"key wrapped for the police"
    )

    for service, group in (("mall", "satupintu.mall"), ("audit", "satupintu.audit")):
        for topic in (notification_keys, police_keys):
            with pytest.raises(TopicAuthorizationFailedError):
                await read_as(secure_kafka.service(service), topic, group, b"")
    with pytest.raises(TopicAuthorizationFailedError):
        await read_as(secure_kafka.agency(BPN), police_keys, f"{agency_group_prefix(BPN)}acl-test", b"")
    with pytest.raises(TopicAuthorizationFailedError):
        await write_as(notification, notification_keys, b"a key not from intake")
