"""Topics made at start-up: key topics keep each citizen's latest key (compacted); every other topic, their
dead-letter twins included, is deleted after its retention."""

from __future__ import annotations

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from satupintu.common.settings import KafkaSettings
from satupintu.common.topics_admin import ensure_topics
from satupintu.contract.topics import KeyTopic, Topic, dead_letter_topic, key_topic_names
from satupintu.devtools.testing.waiting import eventually

pytestmark = pytest.mark.integration


async def test_key_topics_are_created_compacted_and_their_dead_letter_twins_are_not(
    kafka_settings: KafkaSettings,
) -> None:
    applications = Topic.APPLICATIONS.name_for()
    await ensure_topics(kafka_settings, [applications, *key_topic_names(["polres"])])

    names = [
        applications,
        KeyTopic.NOTIFICATION.name_for(),
        KeyTopic.AGENCY.name_for("polres"),
        dead_letter_topic(KeyTopic.AGENCY.name_for("polres")),
    ]
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_settings.bootstrap_servers)
    await admin.start()

    async def policies() -> dict[str, str | None]:
        """Each topic's cleanup policy; None while the broker answering does not know the new topic yet."""
        responses = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, kafka_settings.topic_name(name)) for name in names]
        )
        return {
            resource[3].removeprefix(kafka_settings.topic_prefix): next(
                (entry[1] for entry in resource[4] if entry[0] == "cleanup.policy"), None
            )
            for response in responses
            for resource in response.resources
        }

    def complete(found: dict[str, str | None]) -> bool:
        return len(found) == len(names) and None not in found.values()

    try:
        cleanup = await eventually(policies, complete, timeout=30, what="the new topics' configurations")
    finally:
        await admin.close()
    assert cleanup == {
        applications: "delete",
        "keys.notification": "compact",
        "keys.agency.polres": "compact",
        "keys.agency.polres.dlq": "delete",
    }
