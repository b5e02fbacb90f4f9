"""How Satu Pintu lays its topics out on a Kafka cluster: every topic of the event contract with its dead-letter
twin, and every key topic with its twin (partitions, replication, retention or compaction). What each principal may
do on them is ``satupintu.common.kafka_acls``.

The topic names come from ``satupintu.contract.topics`` (``all_topic_names``, ``key_topic_names``) and the
catalogue's agency codes, so a new agency or topic appears here without editing this file. Used by
``create_topics.py`` (the Compose one-shot) and ``generate_k8s_kafka.py`` (Strimzi ``KafkaTopic`` and ``KafkaUser``
resources).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from satupintu.common.catalogue import load_catalogue
from satupintu.common.settings import KafkaSettings
from satupintu.common.topics_admin import KEY_TOPIC_CONFIG, is_key_topic
from satupintu.contract.topics import DLQ_SUFFIX, all_topic_names, key_topic_names

PARTITIONS: int = KafkaSettings.model_fields["partitions"].default
"""Partitions per topic: the most instances of one consumer group that get work (the services' own default)."""

DAY_MS = 24 * 60 * 60 * 1000
EVENT_RETENTION_MS = 14 * DAY_MS
"""How long events stay on their topics: the window in which a consumer can be rewound or a new one catch up."""
DEAD_LETTER_RETENTION_MS = 30 * DAY_MS
"""How long dead letters stay: long enough to notice, fix the cause and replay (docs/operations.md)."""


@dataclass(frozen=True)
class TopicSpec:
    """One topic as the cluster should have it."""

    name: str
    partitions: int
    replicas: int
    config: dict[str, int | str]


def min_in_sync_replicas(replicas: int) -> int:
    """Acknowledged writes survive one broker loss when there are three or more replicas."""
    return 2 if replicas >= 3 else 1


def topic_config(name: str, replicas: int) -> dict[str, int | str]:
    """The configuration of the topic ``name``: events and dead letters are deleted after their retention; a key
    topic is compacted (it keeps each citizen's latest key, or the tombstone that destroyed it)."""
    if is_key_topic(name):
        return {**KEY_TOPIC_CONFIG, "min.insync.replicas": min_in_sync_replicas(replicas)}
    return {
        "cleanup.policy": "delete",
        "retention.ms": DEAD_LETTER_RETENTION_MS if name.endswith(DLQ_SUFFIX) else EVENT_RETENTION_MS,
        "min.insync.replicas": min_in_sync_replicas(replicas),
    }


def topic_specs(agency_codes: Iterable[str], replicas: int, partitions: int = PARTITIONS) -> list[TopicSpec]:
    """Every topic and its dead-letter twin for ``agency_codes``, in :func:`all_topic_names` order, then every key
    topic and its twin, in :func:`key_topic_names` order."""
    codes = list(agency_codes)
    return [
        TopicSpec(name=name, partitions=partitions, replicas=replicas, config=topic_config(name, replicas))
        for name in [*all_topic_names(codes), *key_topic_names(codes)]
    ]


def catalogue_agency_codes() -> list[str]:
    """The agency codes of the packaged catalogue, sorted."""
    return sorted(load_catalogue().agency_codes())
