"""Replay dead letters: copy selected records of a ``<topic>.dlq`` back to the topic they came from, with their key,
value and headers as they were and without the ``dlq_*`` headers the consumer added.

Safe to repeat: consumers are idempotent by ``ce_id`` (their inbox), so a consumer that had already processed an
event skips it, and only the one that dead-lettered it tries again. The DLQ is read from its start to the end it
had when the tool started, without a consumer group (nothing is committed; the DLQ keeps its records). Connection
settings are the services' ``KAFKA_*`` environment variables (``kafka_client``). See docs/operations.md.

Usage:
  uv run python deploy/tools/replay_dlq.py applications.dlq --dry-run
  uv run python deploy/tools/replay_dlq.py applications.dlq --consumer routing --reason-contains timeout
  uv run python deploy/tools/replay_dlq.py agency.polres.decisions.dlq --event-id 0b7c... --event-id 5f1a...
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kafka_client import security_options

from satupintu.common.settings import KafkaSettings

DLQ_SUFFIX = ".dlq"
DLQ_HEADER_PREFIX = "dlq_"


@dataclass(frozen=True)
class Selection:
    """Which dead letters to replay; every given criterion must hold (none given: all of them)."""

    consumers: frozenset[str] = frozenset()
    reason_contains: str | None = None
    event_types: frozenset[str] = frozenset()
    event_ids: frozenset[str] = frozenset()
    since: datetime | None = None
    until: datetime | None = None

    def matches(self, headers: dict[str, str], timestamp_ms: int) -> bool:
        """Whether a dead letter with ``headers``, written at ``timestamp_ms``, is selected."""
        written = datetime.fromtimestamp(timestamp_ms / 1000, UTC)
        return (
            (not self.consumers or headers.get("dlq_consumer") in self.consumers)
            and (self.reason_contains is None or self.reason_contains in headers.get("dlq_reason", ""))
            and (not self.event_types or headers.get("ce_type") in self.event_types)
            and (not self.event_ids or headers.get("ce_id") in self.event_ids)
            and (self.since is None or written >= self.since)
            and (self.until is None or written < self.until)
        )


@dataclass
class Replay:
    """What a replay did (or, dry, would do)."""

    examined: int = 0
    replayed: list[dict[str, object]] = field(default_factory=list)
    skipped: list[dict[str, object]] = field(default_factory=list)


def original_topic(dlq_topic: str, headers: dict[str, str]) -> str | None:
    """The topic a dead letter came from: its ``dlq_topic`` header, which must be the DLQ's own source topic."""
    expected = dlq_topic.removesuffix(DLQ_SUFFIX)
    return headers.get("dlq_topic", expected) if headers.get("dlq_topic", expected) == expected else None


def replay_headers(record: ConsumerRecord[bytes, bytes]) -> list[tuple[str, bytes]]:
    """The record's headers as they were before it was dead-lettered."""
    return [(name, value) for name, value in record.headers or () if not name.startswith(DLQ_HEADER_PREFIX)]


def _text_headers(record: ConsumerRecord[bytes, bytes]) -> dict[str, str]:
    return {name: value.decode("utf-8", errors="replace") for name, value in record.headers or ()}


async def replay(
    bootstrap_servers: str,
    dlq_topic: str,
    selection: Selection,
    *,
    dry_run: bool = False,
    limit: int | None = None,
    timeout_seconds: float = 300.0,
) -> Replay:
    """Copy the selected dead letters of ``dlq_topic`` (its full name on the cluster) back to their topic."""
    if not dlq_topic.endswith(DLQ_SUFFIX):
        raise ValueError(f"{dlq_topic!r} is not a dead-letter topic (no {DLQ_SUFFIX} suffix)")
    security = security_options()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, enable_auto_commit=False, group_id=None, **security
    )
    producer: AIOKafkaProducer | None = None
    outcome = Replay()
    await consumer.start()
    try:
        partitions = [TopicPartition(dlq_topic, p) for p in await _partitions(bootstrap_servers, dlq_topic, security)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if ends[tp] > 0}
        if not dry_run:
            producer = AIOKafkaProducer(
                bootstrap_servers=bootstrap_servers, acks="all", enable_idempotence=True, **security
            )
            await producer.start()
        async with asyncio.timeout(timeout_seconds):
            while remaining and (limit is None or len(outcome.replayed) < limit):
                batches = await consumer.getmany(*remaining, timeout_ms=1000)
                for partition, records in batches.items():
                    for record in records:
                        if record.offset >= ends[partition]:
                            break  # dead-lettered after the replay began: left for the next one
                        outcome.examined += 1
                        await _consider(
                            record,
                            dlq_topic=dlq_topic,
                            selection=selection,
                            producer=producer,
                            outcome=outcome,
                            limit=limit,
                        )
                for partition in list(remaining):
                    if await consumer.position(partition) >= ends[partition]:
                        remaining.discard(partition)
        if producer is not None:
            await producer.flush()
    finally:
        await consumer.stop()
        if producer is not None:
            await producer.stop()
    return outcome


async def _partitions(bootstrap_servers: str, topic: str, security: dict[str, Any]) -> list[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **security)
    await admin.start()
    try:
        (description,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    if description["error_code"] or not description["partitions"]:
        raise ValueError(f"topic {topic!r} does not exist or may not be described (error {description['error_code']})")
    return sorted(partition["partition"] for partition in description["partitions"])


async def _consider(
    record: ConsumerRecord[bytes, bytes],
    *,
    dlq_topic: str,
    selection: Selection,
    producer: AIOKafkaProducer | None,
    outcome: Replay,
    limit: int | None,
) -> None:
    headers = _text_headers(record)
    where = {"dlq_partition": record.partition, "dlq_offset": record.offset, "ce_id": headers.get("ce_id")}
    if (limit is not None and len(outcome.replayed) >= limit) or not selection.matches(headers, record.timestamp):
        return
    target = original_topic(dlq_topic, headers)
    if target is None:
        outcome.skipped.append(where | {"reason": f"dlq_topic header {headers.get('dlq_topic')!r} is not the source"})
        return
    if producer is not None:  # None: a dry run
        await producer.send_and_wait(target, record.value, key=record.key, headers=replay_headers(record))
    outcome.replayed.append(where | {"topic": target, "dlq_reason": headers.get("dlq_reason")})


def _timestamp(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the selection, replay, and print one JSON line per record and a summary."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "dlq", help="the dead-letter topic, e.g. applications.dlq (the cluster's topic prefix is added)"
    )
    parser.add_argument(
        "--consumer", action="append", default=[], help="only dead letters of this consumer (dlq_consumer)"
    )
    parser.add_argument("--reason-contains", help="only dead letters whose dlq_reason contains this text")
    parser.add_argument("--event-type", action="append", default=[], help="only this ce_type (repeatable)")
    parser.add_argument("--event-id", action="append", default=[], help="only this ce_id (repeatable)")
    parser.add_argument("--since", type=_timestamp, help="only dead letters written at or after this ISO time")
    parser.add_argument("--until", type=_timestamp, help="only dead letters written before this ISO time")
    parser.add_argument("--limit", type=int, help="replay at most this many")
    parser.add_argument("--dry-run", action="store_true", help="list what would be replayed; send nothing")
    arguments = parser.parse_args(argv)
    settings = KafkaSettings()
    selection = Selection(
        consumers=frozenset(arguments.consumer),
        reason_contains=arguments.reason_contains,
        event_types=frozenset(arguments.event_type),
        event_ids=frozenset(arguments.event_id),
        since=arguments.since,
        until=arguments.until,
    )
    outcome = asyncio.run(
        replay(
            settings.bootstrap_servers,
            settings.topic_name(arguments.dlq),
            selection,
            dry_run=arguments.dry_run,
            limit=arguments.limit,
        )
    )
    for line in outcome.replayed:
        print(json.dumps(line | {"dry_run": arguments.dry_run}))
    for line in outcome.skipped:
        print(json.dumps(line | {"skipped": True}), file=sys.stderr)
    verb = "would replay" if arguments.dry_run else "replayed"
    print(
        f"examined {outcome.examined}, {verb} {len(outcome.replayed)}, skipped {len(outcome.skipped)}", file=sys.stderr
    )
    return 1 if outcome.skipped else 0


if __name__ == "__main__":
    sys.exit(main())
