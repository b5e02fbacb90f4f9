"""Creating topics up front: services never rely on the broker auto-creating a topic."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from satupintu.common.settings import KafkaSettings
from satupintu.contract.topics import KeyTopic

_logger = logging.getLogger(__name__)

KEY_TOPIC_CONFIG: Mapping[str, str] = {"cleanup.policy": "compact"}
"""A key topic keeps the latest record of each key (a citizen's wrapped key, or the tombstone that destroys it)
for as long as the topic lives (decision 0016); its dead-letter twin is an ordinary topic."""
_KEY_TOPIC = re.compile("|".join(re.escape(topic.value).replace(re.escape("{agency}"), "[^.]+") for topic in KeyTopic))


def is_key_topic(logical_name: str) -> bool:
    """Whether ``logical_name`` (without the cluster prefix) is a key topic (its dead-letter twin is not)."""
    return _KEY_TOPIC.fullmatch(logical_name) is not None


def topic_config(logical_name: str) -> dict[str, str]:
    """The configuration a topic is created with beyond the broker's defaults: compaction for key topics."""
    return dict(KEY_TOPIC_CONFIG) if is_key_topic(logical_name) else {}


async def ensure_topics(settings: KafkaSettings, logical_names: Iterable[str]) -> list[str]:
    """Create each missing topic (with the cluster prefix; key topics compacted) and return the names created."""
    wanted = {settings.topic_name(name): name for name in logical_names}
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers, request_timeout_ms=30_000, **settings.client_options()
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = sorted(wanted.keys() - existing)
        if not missing:
            return []
        new_topics = [
            NewTopic(name, settings.partitions, settings.replication_factor, topic_configs=topic_config(wanted[name]))
            for name in missing
        ]
        try:
            await admin.create_topics(new_topics)
        except TopicAlreadyExistsError:
            _logger.info("topics created concurrently by another process")
        _logger.info("created %d topics", len(missing))
        return missing
    finally:
        await admin.close()


async def delete_topics(bootstrap_servers: str, prefix: str, client_options: Mapping[str, Any] | None = None) -> int:
    """Delete every topic whose name starts with ``prefix`` (a test session's); the number deleted. A cluster that
    authenticates its clients needs an administrator's ``client_options`` (:meth:`KafkaSettings.client_options`)."""
    if not prefix:
        raise ValueError("refusing to delete topics without a prefix")
    options = dict(client_options or {})
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=30_000, **options)
    await admin.start()
    try:
        doomed = [name for name in await admin.list_topics() if name.startswith(prefix)]
        if doomed:
            await admin.delete_topics(doomed)
        return len(doomed)
    finally:
        await admin.close()
