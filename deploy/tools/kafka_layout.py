"""How Satu Pintu lays its topics and credentials out on a Kafka cluster: every topic of the event contract with its
dead-letter twin (partitions, replication, retention), and what each service may do on them.

The topic names come from ``satupintu.common.events.topics.all_topic_names`` and the catalogue's agency codes, so a
new agency or topic appears here without editing this file. Used by ``create_topics.py`` (the Compose one-shot) and
``generate_k8s_kafka.py`` (Strimzi ``KafkaTopic`` and ``KafkaUser`` resources).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from satupintu.common.catalogue import load_catalogue
from satupintu.common.events.topics import DLQ_SUFFIX, Topic, all_topic_names, dead_letter_topic
from satupintu.common.settings import KafkaSettings

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


def topic_specs(agency_codes: Iterable[str], replicas: int, partitions: int = PARTITIONS) -> list[TopicSpec]:
    """Every topic and its dead-letter twin for ``agency_codes``, in :func:`all_topic_names` order."""
    return [
        TopicSpec(
            name=name,
            partitions=partitions,
            replicas=replicas,
            config={
                "cleanup.policy": "delete",
                "retention.ms": DEAD_LETTER_RETENTION_MS if name.endswith(DLQ_SUFFIX) else EVENT_RETENTION_MS,
                "min.insync.replicas": min_in_sync_replicas(replicas),
            },
        )
        for name in all_topic_names(agency_codes)
    ]


def catalogue_agency_codes() -> list[str]:
    """The agency codes of the packaged catalogue, sorted."""
    return sorted(load_catalogue().agency_codes())


@dataclass(frozen=True)
class Access:
    """What one Kafka principal may do: topics it reads (in which consumer groups) and topics it writes."""

    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    dead_letters: bool = True
    """Whether it may write and read the dead-letter twin of every topic it reads: every ``EventConsumer``
    dead-letters there, and the service lists and replays its dead letters from there (``GET /dlq``, without a
    consumer group)."""

    def _twins(self) -> set[str]:
        if not self.dead_letters:
            return set()
        return {dead_letter_topic(topic) for topic in self.reads if not topic.endswith(DLQ_SUFFIX)}

    def read_topics(self) -> list[str]:
        """Topics read: those it consumes, and the dead-letter twins of those."""
        return sorted(set(self.reads) | self._twins())

    def write_topics(self) -> list[str]:
        """Topics written: its own, and the dead-letter twins of those it reads."""
        return sorted(set(self.writes) | self._twins())


def _per_agency(topic: Topic, codes: Iterable[str]) -> tuple[str, ...]:
    return tuple(topic.name_for(code) for code in codes)


def service_access(agency_codes: Iterable[str]) -> dict[str, Access]:
    """Each service's reads, writes and consumer groups, as its code does them (consumer names are the ``name`` of
    ``ServiceRuntime.consume``; the group is ``satupintu.<name>``). Every service writes ``access``: its operators'
    use of its dead letters is recorded there. The agency service (the desk) is not here: its rules and the
    agencies' come from ``satupintu.agency.acls``, which the agency service owns."""
    codes = sorted(agency_codes)
    applications = Topic.APPLICATIONS.name_for()
    tasks, decisions = _per_agency(Topic.AGENCY_TASKS, codes), _per_agency(Topic.AGENCY_DECISIONS, codes)
    notifications, access, mall = Topic.NOTIFICATIONS.name_for(), Topic.ACCESS.name_for(), Topic.MALL.name_for()
    return {
        "intake": Access(
            reads=(applications, mall),
            groups=("satupintu.intake-status", "satupintu.intake-consent"),
            writes=(applications, notifications, access),
        ),
        "routing": Access(
            reads=(applications, *decisions),
            groups=("satupintu.routing",),
            writes=(applications, *tasks, access),
        ),
        "notification": Access(
            reads=(applications, notifications, mall),
            groups=("satupintu.notification", "satupintu.notification-codes", "satupintu.notification-mall"),
            writes=(notifications, access),
        ),
        "audit": Access(
            reads=tuple(all_topic_names(codes)),
            groups=("satupintu.audit",),
            writes=(access,),
            dead_letters=False,
        ),
        "mall": Access(
            reads=(applications,),
            groups=("satupintu.mall",),
            writes=(mall, access),
        ),
    }


def operator_access(agency_codes: Iterable[str]) -> Access:
    """The operators' credential for the fallback replay by republishing (``deploy/tools/replay_dlq.py``): read
    every dead-letter topic, without a consumer group, and write every topic a dead letter can go back to."""
    names = all_topic_names(agency_codes)
    return Access(
        reads=tuple(name for name in names if name.endswith(DLQ_SUFFIX)),
        writes=tuple(name for name in names if not name.endswith(DLQ_SUFFIX)),
        dead_letters=False,
    )
