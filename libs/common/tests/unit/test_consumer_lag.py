"""A consumer's lag from what its Kafka client knows (a fake one here): per assigned partition, the high watermark of
the last fetch minus the position; a partition not fetched from yet is left out, and one revoked since the last
scrape loses its series. The real client on the real broker: services/payment/tests/integration/test_consumer_lag.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import IllegalStateError
from faststream.kafka import KafkaBroker
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from satupintu.common.consumer_lag import PartitionLag, partition_lags
from satupintu.common.consuming import Invalid, Record, RecordConsumer
from satupintu.common.metrics import ServiceMetrics
from satupintu.common.settings import KafkaSettings

pytestmark = pytest.mark.unit

TOPIC = "satupintu.applications"


@dataclass
class FakeKafkaClient:
    """What an ``AIOKafkaConsumer`` answers about its partitions."""

    highwaters: dict[TopicPartition, int | None]
    positions: dict[TopicPartition, int]
    revoked_while_asked: set[TopicPartition] = field(default_factory=set)

    def assignment(self) -> set[TopicPartition]:
        return set(self.highwaters)

    def highwater(self, partition: TopicPartition) -> int | None:
        return self.highwaters[partition]

    async def position(self, partition: TopicPartition) -> int:
        if partition in self.revoked_while_asked:
            raise IllegalStateError(f"Partition {partition} is not assigned")
        return self.positions[partition]


class NothingToApply(RecordConsumer[None]):
    def read(self, record: Record) -> Invalid | None:
        return None

    async def apply_alone(self, record: Record, item: None) -> bool:
        return False


def partition(number: int) -> TopicPartition:
    return TopicPartition(TOPIC, number)


def reported(metrics: ServiceMetrics) -> dict[str, float]:
    exposition = generate_latest(metrics.registry).decode()
    return {
        sample.labels["partition"]: sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == "satupintu_consumer_lag_events"
    }


async def test_the_lag_is_the_high_watermark_minus_the_position_of_each_partition_fetched_from() -> None:
    client = FakeKafkaClient(
        highwaters={partition(0): 120, partition(1): 40, partition(2): None, partition(3): 9},
        positions={partition(0): 100, partition(1): 40, partition(2): 0, partition(3): 3},
        revoked_while_asked={partition(3)},
    )

    lags = await partition_lags(client)

    assert lags == [PartitionLag(TOPIC, 0, 20), PartitionLag(TOPIC, 1, 0)]


async def test_a_partition_no_longer_assigned_loses_its_series_at_the_next_scrape() -> None:
    metrics = ServiceMetrics("routing")
    broker = KafkaBroker()
    consumer = NothingToApply(name="routing", broker=broker, kafka=KafkaSettings(), metrics=metrics)
    consumer.subscribe(TOPIC)
    [subscriber] = broker.subscribers
    client = FakeKafkaClient(
        highwaters={partition(0): 10, partition(1): 7}, positions={partition(0): 4, partition(1): 7}
    )
    subscriber.consumer = client  # where FastStream keeps its AIOKafkaConsumer while it runs

    await consumer.measure_lag()
    before = reported(metrics)
    del client.highwaters[partition(0)]  # a rebalance gave partition 0 to another instance
    await consumer.measure_lag()
    after = reported(metrics)

    assert before == {"0": 6, "1": 0}
    assert after == {"1": 0}
