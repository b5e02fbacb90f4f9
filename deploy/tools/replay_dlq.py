"""Replay dead letters by republishing them: copy selected records of a ``<topic>.dlq`` back to the topic they came
from, with their key, value and headers as they were and without the ``dlq_*`` headers the consumer added.

The fallback, not the main way: a service replays its own dead letters through the consumer that dead-lettered them
(``POST /dlq/replay``, the page ``/operator/dead-letters``; docs/operations.md). Republishing delivers the event
again to *every* consumer group of the topic; that is safe (consumers are idempotent by ``ce_id``, their inbox),
but use it only when the service cannot replay, e.g. its consumer is gone. The DLQ is read and selected as the
services do (``satupintu.common.dead_letters``): from its start to the end it had when the tool started, without a
consumer group (nothing is committed; the DLQ keeps its records); a trimmed dead letter (its value not kept) is
skipped. Connection settings are the services' ``KAFKA_*`` environment variables. See docs/operations.md.

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

from aiokafka import AIOKafkaProducer

from satupintu.common.dead_letters.queues import DeadLetter, Selection, read_dead_letters
from satupintu.common.settings import KafkaSettings
from satupintu.contract.topics import DLQ_SUFFIX

__all__ = ["Replay", "Selection", "main", "replay"]


@dataclass
class Replay:
    """What a replay did (or, dry, would do)."""

    examined: int = 0
    replayed: list[dict[str, object]] = field(default_factory=list)
    skipped: list[dict[str, object]] = field(default_factory=list)


async def replay(
    bootstrap_servers: str,
    dlq_topic: str,
    selection: Selection,
    *,
    dry_run: bool = False,
    limit: int | None = None,
    timeout_seconds: float = 300.0,
) -> Replay:
    """Copy the selected dead letters of ``dlq_topic`` (its full name on the cluster), oldest first, back to their
    topic."""
    if not dlq_topic.endswith(DLQ_SUFFIX):
        raise ValueError(f"{dlq_topic!r} is not a dead-letter topic (no {DLQ_SUFFIX} suffix)")
    kafka = KafkaSettings(bootstrap_servers=bootstrap_servers)  # security from the KAFKA_* environment
    selected: list[DeadLetter] = []

    def keep(letter: DeadLetter) -> None:
        if selection.matches(letter):
            selected.append(letter)

    outcome = Replay(examined=await read_dead_letters(kafka, [dlq_topic], keep, timeout_seconds=timeout_seconds))
    producer: AIOKafkaProducer | None = None
    if not dry_run:
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers, acks="all", enable_idempotence=True, **kafka.client_options()
        )
        await producer.start()
    try:
        for letter in sorted(selected, key=DeadLetter.order):
            if limit is not None and len(outcome.replayed) >= limit:
                break
            where = {
                "dlq_partition": letter.record.partition,
                "dlq_offset": letter.record.offset,
                "ce_id": letter.header("ce_id"),
            }
            why_not = letter.unreplayable()
            if why_not is not None:
                outcome.skipped.append(where | {"reason": why_not})
                continue
            original = letter.original()
            if producer is not None:  # None: a dry run
                await producer.send_and_wait(original.topic, original.value, key=original.key, headers=original.headers)
            outcome.replayed.append(where | {"topic": original.topic, "dlq_reason": letter.reason})
    finally:
        if producer is not None:
            await producer.stop()
    return outcome


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
    parser.add_argument("--reason-contains", help="only dead letters whose dlq_reason contains this text (any case)")
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
    empty = " (the topic is empty or does not exist)" if outcome.examined == 0 else ""
    print(
        f"examined {outcome.examined}{empty}, {verb} {len(outcome.replayed)}, skipped {len(outcome.skipped)}",
        file=sys.stderr,
    )
    return 1 if outcome.skipped else 0


if __name__ == "__main__":
    sys.exit(main())
