"""Create every Satu Pintu topic and its dead-letter twin with the intended partitions, replication and retention
(``kafka_layout``), on the cluster the ``KAFKA_*`` environment names; existing topics are left as they are.

The Compose file runs it once before the services start (they would create missing topics themselves, but without
retention settings). Waits for the brokers until ``--wait-seconds``; exits non-zero when a topic cannot be made.

Usage: ``python deploy/tools/create_topics.py [--wait-seconds 120]`` (inside any Satu Pintu image, or ``uv run``)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kafka_client import security_options
from kafka_layout import TopicSpec, catalogue_agency_codes, topic_specs

from satupintu.common.settings import KafkaSettings

TOPIC_ALREADY_EXISTS = 36


async def _connected_admin(settings: KafkaSettings, deadline: float) -> AIOKafkaAdminClient:
    delay = 0.5
    while True:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=settings.bootstrap_servers, request_timeout_ms=30_000, **security_options()
        )
        try:
            await admin.start()
            await admin.list_topics()
        except (KafkaError, OSError) as unavailable:
            await admin.close()
            if time.monotonic() + delay > deadline:
                raise
            print(f"kafka not ready ({unavailable!r}); retrying in {delay:.1f}s", flush=True)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
        else:
            return admin


async def create_topics(settings: KafkaSettings, specs: Sequence[TopicSpec], wait_seconds: float) -> list[str]:
    """Create the missing topics of ``specs`` (names get the settings' prefix); return the names created."""
    admin = await _connected_admin(settings, time.monotonic() + wait_seconds)
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in specs if settings.topic_name(spec.name) not in existing]
        if not missing:
            return []
        response = await admin.create_topics(
            [
                NewTopic(
                    settings.topic_name(spec.name),
                    spec.partitions,
                    spec.replicas,
                    topic_configs={key: str(value) for key, value in spec.config.items()},
                )
                for spec in missing
            ]
        )
        failures = [
            f"{topic}: error {code} {details[0] if details else ''}".strip()
            for topic, code, *details in response.topic_errors
            if code not in (0, TOPIC_ALREADY_EXISTS)
        ]
        if failures:
            raise RuntimeError("could not create topics:\n" + "\n".join(failures))
        # A topic made a moment ago (by a service starting, or a broker whose metadata lags) answers "exists".
        return sorted(topic for topic, code, *_ in response.topic_errors if code == 0)
    finally:
        await admin.close()


def main(argv: list[str] | None = None) -> int:
    """Create the topics the environment's cluster is missing and say which."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wait-seconds", type=float, default=120.0, help="how long to wait for the brokers")
    arguments = parser.parse_args(argv)
    settings = KafkaSettings()
    specs = topic_specs(catalogue_agency_codes(), replicas=settings.replication_factor, partitions=settings.partitions)
    created = asyncio.run(create_topics(settings, specs, arguments.wait_seconds))
    print(f"{len(specs)} topics wanted, {len(created)} created: {', '.join(created) or '-'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
