"""Creating topics up front: services never rely on the broker auto-creating a topic."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from satupintu.common.settings import KafkaSettings

_logger = logging.getLogger(__name__)


async def ensure_topics(settings: KafkaSettings, logical_names: Iterable[str]) -> list[str]:
    """Create each missing topic (with the cluster prefix) and return the names created."""
    wanted = {settings.topic_name(name) for name in logical_names}
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers, request_timeout_ms=30_000, **settings.client_options()
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = sorted(wanted - existing)
        if not missing:
            return []
        new_topics = [NewTopic(name, settings.partitions, settings.replication_factor) for name in missing]
        try:
            await admin.create_topics(new_topics)
        except TopicAlreadyExistsError:
            _logger.info("topics created concurrently by another process")
        _logger.info("created %d topics", len(missing))
        return missing
    finally:
        await admin.close()


async def delete_topics(bootstrap_servers: str, prefix: str) -> int:
    """Delete every topic whose name starts with ``prefix`` (a test session's); the number deleted."""
    if not prefix:
        raise ValueError("refusing to delete topics without a prefix")
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=30_000)
    await admin.start()
    try:
        doomed = [name for name in await admin.list_topics() if name.startswith(prefix)]
        if doomed:
            await admin.delete_topics(doomed)
        return len(doomed)
    finally:
        await admin.close()
