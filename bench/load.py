"""The load ``make bench`` offers: a closed loop of clients posting applications, offered rates measured to the
first task, and a backlog pushed through the pipeline; with the bodies they send and the percentiles they report."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

from bench.baselines import kafka_hops
from satupintu.common.settings import KafkaSettings
from satupintu.contract.topics import Topic
from tests.support import record_of, submitted_event


def application_body(index: int) -> dict[str, Any]:
    """An NPWP application: no documents to upload, one agency (djp)."""
    return {
        "service_code": "npwp",
        "applicant": {"nik": "3171015506900002", "name": f"Pemohon {index}", "language": "id"},
        "data": {"occupation": "Pedagang", "monthly_income": 5_000_000, "address": f"Jl. Pasar {index}"},
        "consent_reuse": False,
    }


def minimal_body(index: int) -> dict[str, Any]:
    """The baseline endpoint's body."""
    return {"service_code": "npwp", "nik": "3171015506900002", "name": f"Pemohon {index}", "language": "id"}


def percentile(values: list[float], share: float) -> float:
    """The ``share`` quantile (0..1) of ``values``, in the same unit."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass
class LoadResult:
    """What a closed-loop load run measured."""

    accepted: int
    refused: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        """Accepted requests per second."""
        return self.accepted / self.seconds

    def summary(self) -> dict[str, float]:
        """The figures reported."""
        return {
            "accepted_per_second": round(self.per_second, 1),
            "refused": self.refused,
            "p50_ms": round(percentile(self.latencies_ms, 0.50), 2),
            "p95_ms": round(percentile(self.latencies_ms, 0.95), 2),
            "p99_ms": round(percentile(self.latencies_ms, 0.99), 2),
        }


async def closed_loop(url: str, body: Any, clients: int, seconds: float) -> LoadResult:
    """``clients`` concurrent clients POSTing as fast as answers come back, for ``seconds``."""
    result = LoadResult(0, 0, seconds)
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def one_client(number: int) -> None:
            index = number * 1_000_000
            while time.monotonic() < deadline:
                index += 1
                started = time.perf_counter()
                answer = await client.post(url, json=body(index))
                elapsed = (time.perf_counter() - started) * 1000
                if answer.status_code in (200, 201, 202):
                    result.accepted += 1
                    result.latencies_ms.append(elapsed)
                else:
                    result.refused += 1

        began = time.monotonic()
        await asyncio.gather(*(one_client(n) for n in range(clients)))
        result.seconds = time.monotonic() - began
    return result


async def first_task_latency(intake_url: str, kafka: KafkaSettings, rate: float, seconds: float) -> dict[str, float]:
    """Open-loop submissions at ``rate`` per second; latency from sending the POST to ``task.assigned``."""
    topic = kafka.topic_name(Topic.AGENCY_TASKS.name_for("djp"))
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka.bootstrap_servers, group_id=None, auto_offset_reset="latest"
    )
    await consumer.start()
    await consumer.seek_to_end()
    sent: dict[str, float] = {}
    arrived: dict[str, float] = {}
    post_latencies: list[float] = []

    async def listen() -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=200)
            now = time.perf_counter()
            for messages in batches.values():
                for message in messages:
                    headers = dict(message.headers)
                    if headers.get("ce_type") == b"task.assigned":
                        arrived.setdefault((message.key or b"").decode(), now)

    listener = asyncio.create_task(listen())
    async with httpx.AsyncClient(timeout=30) as client:

        async def submit(index: int) -> None:
            started = time.perf_counter()
            answer = await client.post(intake_url, json=application_body(index))
            post_latencies.append((time.perf_counter() - started) * 1000)
            if answer.status_code == 202:
                sent[answer.json()["application_id"]] = started

        tasks = []
        total = int(rate * seconds)
        began = time.perf_counter()
        for index in range(total):
            await asyncio.sleep(max(0.0, began + index / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(submit(index)))
        await asyncio.gather(*tasks)
    deadline = time.monotonic() + 60
    while set(sent) - set(arrived) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    listener.cancel()
    await asyncio.gather(listener, return_exceptions=True)
    await consumer.stop()
    latencies = [(arrived[key] - sent[key]) * 1000 for key in sent if key in arrived]
    return {
        "offered_per_second": rate,
        "submitted": len(sent),
        "tasks_seen": len(latencies),
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "post_p99_ms": round(percentile(post_latencies, 0.99), 1),
    }


async def pipeline_throughput(kafka: KafkaSettings, count: int) -> float:
    """Applications fully routed per second: a burst of ``count`` submissions through routing to first tasks."""
    events = [
        submitted_event("npwp", {"occupation": "Guru", "monthly_income": 1, "address": "x"}) for _ in range(count)
    ]
    target = kafka.topic_name(Topic.AGENCY_TASKS.name_for("djp"))
    consumer = AIOKafkaConsumer(target, bootstrap_servers=kafka.bootstrap_servers, group_id=None)
    await consumer.start()
    await consumer.seek_to_end()
    wanted = {event.subject for event in events}
    seen: set[str] = set()
    sender = kafka_hops.producer(kafka.bootstrap_servers)
    await sender.start()
    started = time.monotonic()
    try:
        records = [record_of(event) for event in events]
        pending = [
            await sender.send(
                kafka.topic_name(Topic.APPLICATIONS.name_for()), r.value, key=r.key, headers=r.header_list()
            )
            for r in records
        ]
        await asyncio.gather(*pending)
        deadline = time.monotonic() + 300
        while seen != wanted and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for messages in batches.values():
                for message in messages:
                    if dict(message.headers).get("ce_type") == b"task.assigned":
                        key = (message.key or b"").decode()
                        if key in wanted:
                            seen.add(key)
        return len(seen) / (time.monotonic() - started)
    finally:
        await sender.stop()
        await consumer.stop()
