"""How far a consumer is behind the partitions it reads, as the consumer itself knows it: each fetch response carries
the partition's high watermark (the offset the next record produced will get), and the consumer's position is the
offset of the next record it will hand out. Their difference is the records waiting on the broker (the batch in hand
counts as read). Reported per partition as ``satupintu_consumer_lag_events`` on ``/metrics``
(:meth:`satupintu.common.consuming.RecordConsumer.measure_lag`), measured at each scrape, nothing asked of the
broker. A consumer stuck on one batch fetches nothing more, so its high watermark stands still: the stall is what
``faststream_received_messages_in_process`` shows (alert ``SatuPintuConsumerStalled``)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from aiokafka.errors import IllegalStateError

POSITION_WAIT_SECONDS = 0.5
"""How long a scrape waits for the position of a partition the consumer is resetting (normally none: the position
is known once it has fetched); past it, that partition is left out of this scrape."""


@dataclass(frozen=True)
class PartitionLag:
    """Records of ``topic``'s ``partition`` the consumer has not read yet."""

    topic: str
    partition: int
    records: int


async def partition_lags(consumer: Any) -> list[PartitionLag]:
    """The lag of each partition assigned to ``consumer`` (an ``AIOKafkaConsumer``) that it has fetched from; a
    partition not fetched from yet (no high watermark known) or revoked meanwhile is left out."""
    highwaters = {partition: consumer.highwater(partition) for partition in consumer.assignment()}
    lags = []
    for partition, highwater in sorted(highwaters.items()):
        if highwater is None:
            continue
        try:
            position = await asyncio.wait_for(consumer.position(partition), POSITION_WAIT_SECONDS)
        except (TimeoutError, IllegalStateError):
            continue
        lags.append(PartitionLag(partition.topic, partition.partition, max(int(highwater) - int(position), 0)))
    return lags
