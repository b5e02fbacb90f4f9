"""Reading topics in tests: every record up to the end offsets as they are now, so "nothing else arrived" is a
statement about offsets, not about how long we waited.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition


def consumer_record(
    topic: str,
    value: bytes,
    headers: list[tuple[str, bytes]],
    *,
    key: bytes = b"k",
    partition: int = 0,
    offset: int = 0,
    timestamp: int = 0,
) -> ConsumerRecord[bytes, bytes]:
    """A record as a consumer receives it, for handing to a consumer directly (no broker round trip)."""
    return ConsumerRecord(
        topic=topic,
        partition=partition,
        offset=offset,
        timestamp=timestamp,
        timestamp_type=0,
        key=key,
        value=value,
        checksum=None,
        serialized_key_size=len(key),
        serialized_value_size=len(value),
        headers=headers,
    )


@dataclass(frozen=True)
class Record:
    """One record as a test sees it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, bytes]

    def header(self, name: str) -> str | None:
        """A header decoded as UTF-8, or None when absent."""
        raw = self.headers.get(name)
        return raw.decode() if raw is not None else None


async def end_offsets(bootstrap_servers: str, topic: str) -> dict[int, int]:
    """Partition → end offset (the offset the next record will get)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic)
        if partitions is None:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic) or set()
        offsets = await consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
        return {tp.partition: offset for tp, offset in offsets.items()}
    finally:
        await consumer.stop()


async def read_to_end(
    bootstrap_servers: str,
    topic: str,
    *,
    since: dict[int, int] | None = None,
    client_options: Mapping[str, Any] | None = None,
) -> list[Record]:
    """Every record of ``topic`` from ``since`` (or the beginning) to the end offsets taken at the call (as the user
    of ``client_options``, :meth:`KafkaSettings.client_options`, on a broker that authenticates its clients)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        enable_auto_commit=False,
        group_id=None,
        client_id=f"test-reader-{uuid.uuid4().hex[:8]}",
        **(client_options or {}),
    )
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or set())]
        if not partitions:
            return []
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        for tp in partitions:
            start = (since or {}).get(tp.partition, 0)
            consumer.seek(tp, start)
        records: list[Record] = []
        remaining = {tp for tp in partitions if ends[tp] > (since or {}).get(tp.partition, 0)}
        deadline = time.monotonic() + 60
        while remaining:
            if time.monotonic() > deadline:
                raise AssertionError(f"could not read {topic} to its end offsets {ends} within 60s")
            batches = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, messages in batches.items():
                for message in messages:
                    if message.offset < ends[tp]:
                        records.append(
                            Record(
                                topic=message.topic,
                                partition=message.partition,
                                offset=message.offset,
                                key=message.key,
                                value=message.value or b"",
                                headers=dict(message.headers),
                            )
                        )
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        return records
    finally:
        await consumer.stop()
