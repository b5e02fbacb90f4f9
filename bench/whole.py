"""What users get with every service consuming (issue 23): submit to first task and to the citizen's message sent
at offered rates, and each consumer's drain rate of a backlog with the other services paused."""

from __future__ import annotations

import asyncio
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bench.baselines import kafka_hops
from bench.load import application_body
from satupintu.common.settings import KafkaSettings
from satupintu.contract.topics import Topic
from tests.support import record_of, submitted_event

SUBMITTED_TEMPLATE = "application.submitted"
"""The template of the citizen's message that tells them their application was received."""
PERCENTILES = (("p50_ms", 0.50), ("p95_ms", 0.95), ("p99_ms", 0.99))


def percentiles(values: Sequence[float], missing: int) -> dict[str, float | None]:
    """p50/p95/p99 of ``values`` with ``missing`` more that never arrived counted as infinitely late (``None``
    when the percentile falls on one of them: it is later than the wait)."""
    ordered = sorted([*values, *([math.inf] * missing)])
    if not ordered:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None}
    picked = {name: ordered[min(len(ordered) - 1, int(share * len(ordered)))] for name, share in PERCENTILES}
    return {name: (round(value, 1) if math.isfinite(value) else None) for name, value in picked.items()}


async def submit_latencies(
    intake_url: str, kafka: KafkaSettings, notification_url: str, rate: float, seconds: float, *, wait_seconds: float
) -> dict[str, Any]:
    """Open-loop submissions at ``rate`` per second for ``seconds``; from sending each POST to its first
    ``task.assigned`` (djp's tasks topic) and to the ``sent_at`` of its "submitted" message in notification's
    database (``notification_url``: the console channel, which the bench's applicants get, publishes no
    ``notification.sent``), waiting at most ``wait_seconds`` after the last POST for the stragglers."""
    consumer = AIOKafkaConsumer(
        kafka.topic_name(Topic.AGENCY_TASKS.name_for("djp")),
        bootstrap_servers=kafka.bootstrap_servers,
        group_id=None,
        auto_offset_reset="latest",
    )
    await consumer.start()
    await consumer.seek_to_end()
    sent: dict[str, float] = {}
    sent_wall: dict[str, float] = {}
    first_task: dict[str, float] = {}
    message_sent: dict[str, float] = {}
    post_latencies: list[float] = []

    async def listen() -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=200)
            now = time.perf_counter()
            for messages in batches.values():
                for message in messages:
                    if dict(message.headers).get("ce_type") == b"task.assigned":
                        first_task.setdefault((message.key or b"").decode(), now)

    listener = asyncio.create_task(listen())
    async with httpx.AsyncClient(timeout=30) as client:

        async def submit(index: int) -> None:
            started, wall = time.perf_counter(), time.time()
            answer = await client.post(intake_url, json=application_body(index))
            post_latencies.append((time.perf_counter() - started) * 1000)
            if answer.status_code == 202:
                application_id = answer.json()["application_id"]
                sent[application_id], sent_wall[application_id] = started, wall

        submissions = []
        began = time.perf_counter()
        for index in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, began + index / rate - time.perf_counter()))
            submissions.append(asyncio.create_task(submit(index)))
        await asyncio.gather(*submissions)
    deadline = time.monotonic() + wait_seconds
    database = await asyncpg.connect(notification_url)
    try:
        while time.monotonic() < deadline:
            message_sent.update(await _messages_sent(database, set(sent) - set(message_sent)))
            if not set(sent) - set(first_task) and not set(sent) - set(message_sent):
                break
            await asyncio.sleep(0.5)
    finally:
        await database.close()
    listener.cancel()
    await asyncio.gather(listener, return_exceptions=True)
    await consumer.stop()
    to_task = [(first_task[key] - sent[key]) * 1000 for key in sent if key in first_task]
    to_message = [(message_sent[key] - sent_wall[key]) * 1000 for key in sent if key in message_sent]
    return {
        "offered_per_second": rate,
        "submitted": len(sent),
        "waited_seconds": wait_seconds,
        "first_task": {"seen": len(to_task), **percentiles(to_task, len(sent) - len(to_task))},
        "message_sent": {"seen": len(to_message), **percentiles(to_message, len(sent) - len(to_message))},
        "post_p99_ms": percentiles(post_latencies, 0)["p99_ms"],
    }


async def _messages_sent(database: asyncpg.Connection, application_ids: set[str]) -> dict[str, float]:
    """When the "submitted" message of each of ``application_ids`` was sent (epoch seconds), of those sent."""
    if not application_ids:
        return {}
    rows = await database.fetch(
        "SELECT application_id, min(sent_at) AS sent_at FROM deliveries WHERE template = $1"
        " AND sent_at IS NOT NULL AND application_id = ANY($2::text[]) GROUP BY application_id",
        SUBMITTED_TEMPLATE,
        list(application_ids),
    )
    return {row["application_id"]: row["sent_at"].timestamp() for row in rows}


@dataclass(frozen=True)
class Drained:
    """A consumer whose drain is measured: its service, its consumer group and the logical topics it drains."""

    service: str
    consumer: str
    topics: tuple[str, ...] | None  # None: every topic of the flow (the audit log consumes them all)


DRAIN_ORDER = (
    Drained("routing", "routing", (Topic.APPLICATIONS.name_for(),)),
    Drained("agency", "agency-desk", (Topic.AGENCY_TASKS.name_for("djp"),)),
    Drained("intake", "intake-status", (Topic.APPLICATIONS.name_for(),)),
    Drained("mall", "mall", (Topic.APPLICATIONS.name_for(),)),
    Drained("payment", "payment", (Topic.APPLICATIONS.name_for(),)),
    Drained("notification", "notification", (Topic.APPLICATIONS.name_for(),)),
    Drained("audit", "audit", None),
)
"""Routing first (its tasks are the agency desk's backlog, its lifecycle events join the others'), the audit log
last (it drains every record the others added)."""


class Lag:
    """A consumer group's lag on some topics: end offsets minus its committed offsets (the beginning when it never
    committed on a partition)."""

    def __init__(self, kafka: KafkaSettings) -> None:
        self._kafka = kafka
        self._admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers)
        self._probe = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap_servers, group_id=None)

    async def __aenter__(self) -> Lag:
        await self._admin.start()
        await self._probe.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._probe.stop()
        await self._admin.close()

    async def partitions(self, logical_topics: Sequence[str]) -> list[TopicPartition]:
        """Every partition of the topics (of this run's prefix)."""
        names = [self._kafka.topic_name(logical) for logical in logical_topics]
        described = await self._admin.describe_topics(names)
        return [
            TopicPartition(topic["topic"], partition["partition"])
            for topic in described
            for partition in topic["partitions"]
        ]

    async def of(self, consumer: str, partitions: Sequence[TopicPartition]) -> int:
        """Records on ``partitions`` the group of ``consumer`` has not committed yet."""
        group = self._kafka.topic_name(f"satupintu.{consumer}")
        committed = await self._admin.list_consumer_group_offsets(group)
        ends = await self._probe.end_offsets(list(partitions))
        starts = await self._probe.beginning_offsets(list(partitions))
        lag = 0
        for partition in partitions:
            done = committed.get(partition)
            position = done.offset if done is not None and done.offset >= 0 else starts[partition]
            lag += max(0, ends[partition] - position)
        return lag


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def publish_submitted(kafka: KafkaSettings, count: int) -> None:
    """``count`` ``application.submitted`` of ``npwp`` (no fee, one agency) on ``applications``."""
    sender = kafka_hops.producer(kafka.bootstrap_servers)
    await sender.start()
    try:
        topic = kafka.topic_name(Topic.APPLICATIONS.name_for())
        pending = []
        for _ in range(count):
            record = record_of(
                submitted_event("npwp", {"occupation": "Guru", "monthly_income": 1, "address": "Jl. Pasar 1"})
            )
            pending.append(await sender.send(topic, record.value, key=record.key, headers=record.header_list()))
        await asyncio.gather(*pending)
    finally:
        await sender.stop()


def profiler(pid: int, output: Path) -> subprocess.Popen[bytes]:
    """py-spy sampling ``pid`` (collapsed stacks, ``--format raw``) until it is sent SIGINT."""
    output.parent.mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).parent / "py-spy"
    command = [str(spy), "record", "--pid", str(pid), "--format", "raw", "--nonblocking", "-o", str(output)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def idle(pid: int, timeout: float) -> None:
    """Wait until the process uses under 5% of a core over a second (or ``timeout``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        await asyncio.sleep(1.0)
        if cpu_seconds(pid) - before < 0.05:
            return


async def drain_rates(
    kafka: KafkaSettings,
    pids: Mapping[str, int],
    count: int,
    every_topic: Sequence[str],
    *,
    timeout: float = 600.0,
    on_step: Callable[[str], None] = print,
    profile_dir: Path | None = None,
) -> dict[str, dict[str, float]]:
    """With every service paused (SIGSTOP), publish ``count`` submissions; then let one consumer at a time go on
    (SIGCONT) until its group's lag is 0, and pause it again. Each consumer's events per second, applications per
    second and CPU milliseconds per application while it drained alone. Leaves the services running (with the
    backlogs the others did not drain yet). With ``profile_dir``, py-spy samples each consumer while it drains
    (collapsed stacks, ``<service>.txt``; ``python -m bench.stacks`` sums them)."""
    for each in pids.values():
        os.kill(each, signal.SIGSTOP)
    results: dict[str, dict[str, float]] = {}
    try:
        await publish_submitted(kafka, count)
        async with Lag(kafka) as lag:
            for drained in DRAIN_ORDER:
                if drained.service not in pids:
                    continue
                pid = pids[drained.service]
                on_step(f"  {drained.service} drains alone ...")
                partitions = await lag.partitions(drained.topics or every_topic)
                backlog = await lag.of(drained.consumer, partitions)
                used = cpu_seconds(pid)
                started = time.monotonic()
                spy = profiler(pid, profile_dir / f"{drained.service}.txt") if profile_dir else None
                os.kill(pid, signal.SIGCONT)
                remaining = backlog
                while remaining and time.monotonic() - started < timeout:
                    await asyncio.sleep(0.1)
                    remaining = await lag.of(drained.consumer, partitions)
                elapsed = time.monotonic() - started
                spent = cpu_seconds(pid) - used
                if spy is not None:
                    spy.send_signal(signal.SIGINT)
                    spy.wait(timeout=60)
                if drained.service == "routing":
                    await idle(pid, 120.0)  # its outbox relay publishes the tasks the desk drains next
                os.kill(pid, signal.SIGSTOP)
                results[drained.service] = {
                    "events": backlog,
                    "left": remaining,
                    "seconds": round(elapsed, 2),
                    "events_per_second": round((backlog - remaining) / elapsed, 1),
                    "applications_per_second": round(count / elapsed, 1),
                    "cpu_ms_per_application": round(spent * 1000 / count, 2),
                }
    finally:
        for each in pids.values():
            os.kill(each, signal.SIGCONT)
    return results
