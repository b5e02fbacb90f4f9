"""Topics made at start-up: key topics keep each citizen's latest key (compacted); every other topic, their
dead-letter twins included, is deleted after its retention."""

from __future__ import annotations

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from satupintu.common.settings import KafkaSettings
from satupintu.common.topics_admin import ensure_topics
from satupintu.contract.topics import KeyTopic, Topic, dead_letter_topic, key_topic_names

pytestmark = pytest.mark.integration


async def test_key_topics_are_created_compacted_and_their_dead_letter_twins_are_not(
    kafka_settings: KafkaSettings,
) -> None:
    applications = Topic.APPLICATIONS.name_for()
    await ensure_topics(kafka_settings, [applications, *key_topic_names(["polres"])])

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_settings.bootstrap_servers)
    await admin.start()
    try:
        names = [
            applications,
            KeyTopic.NOTIFICATION.name_for(),
            KeyTopic.AGENCY.name_for("polres"),
            dead_letter_topic(KeyTopic.AGENCY.name_for("polres")),
        ]
        responses = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, kafka_settings.topic_name(name)) for name in names]
        )
    finally:
        await admin.close()
    cleanup = {
        resource[3].removeprefix(kafka_settings.topic_prefix): {entry[0]: entry[1] for entry in resource[4]}[
            "cleanup.policy"
        ]
        for response in responses
        for resource in response.resources
    }
    assert cleanup == {
        applications: "delete",
        "keys.notification": "compact",
        "keys.agency.polres": "compact",
        "keys.agency.polres.dlq": "delete",
    }
