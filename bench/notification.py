"""Notification's delivery figures for ``make bench``: the throughput of a backlog of routine messages through SMTP
to an ``aiosmtpd`` sink and through the SMS gateway to an HTTP sink, each against baseline D (the smallest
``aiosmtplib`` / ``httpx`` sender of as many messages to the same sink, bench/baselines/minimal_smtp.py), and how
long one-time codes take from their event to ``sent`` while a backlog of routine messages drains.

A notification process of its own (its own topics and database, so the run's other services see none of this),
wired to the sinks (bench/sinks.py, a process of their own). Standalone, on the running local Kafka and PostgreSQL:
``python -m bench.notification`` (it starts neither).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.baselines import kafka_hops, minimal_smtp
from satupintu.common.migrations import migrate, registered_schema
from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.common.topics_admin import ensure_topics
from satupintu.contract.applications import Applicant, ApplicationSubmitted
from satupintu.contract.envelope import Event
from satupintu.contract.mall import AppointmentCodeIssued
from satupintu.contract.topics import Topic, all_topic_names
from satupintu.devtools.testing.browser import free_port
from tests.processes import ServiceProcess
from tests.support import record_of

ROOT = Path(__file__).resolve().parents[1]
CONCURRENCY = 8
UNBINDING = {"per_minute": 60_000_000, "burst": 1_000_000}
"""A rate limit far above what the sinks take: the shared limit is still taken, per batch, but never waits."""


def submitted(*, email: str | None = None, phone: str | None = None) -> Event[ApplicationSubmitted]:
    """A routine lifecycle event whose applicant is told on one channel (e-mail or SMS)."""
    application_id = str(uuid.uuid4())
    return Event(
        payload=ApplicationSubmitted(
            application_id=application_id,
            tracking_code=f"SP-BENCH-{application_id[:6]}",
            service_code="npwp",
            catalogue_version="2026.11.1",
            applicant=Applicant(nik="3171015506900002", name="Siti Rahayu", email=email, phone=phone, language="id"),
            data={"occupation": "Guru", "monthly_income": 1, "address": "x"},
            submitted_at=datetime.now(UTC),
        ),
        source="/satupintu/intake",
        subject=application_id,
        actor="citizen",
    )


def code_issued(number: int) -> Event[AppointmentCodeIssued]:
    """A mall booking's one-time code to an e-mail address: an urgent message."""
    appointment_id = str(uuid.uuid4())
    return Event(
        payload=AppointmentCodeIssued(
            appointment_id=appointment_id,
            service_code="npwp",
            agency="djp",
            channel="email",
            recipient=f"booker{number}@example.id",
            code=f"{number % 1_000_000:06d}",
            language="id",
            expires_at=datetime.now(UTC) + timedelta(minutes=10),
        ),
        source="/satupintu/mall",
        subject=appointment_id,
        actor="service:mall",
    )


async def publish(kafka: KafkaSettings, logical_topic: str, events: list[Event[Any]]) -> None:
    """Produce ``events`` as fast as the broker takes them."""
    sender = kafka_hops.producer(kafka.bootstrap_servers)
    await sender.start()
    try:
        records = [record_of(event) for event in events]
        pending = [
            await sender.send(kafka.topic_name(logical_topic), r.value, key=r.key, headers=r.header_list())
            for r in records
        ]
        await asyncio.gather(*pending)
    finally:
        await sender.stop()


async def sink_stats(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    """The sinks' tallies."""
    answer: dict[str, Any] = (await client.get(f"{url}/stats")).json()
    return answer


async def drain_rate(
    client: httpx.AsyncClient, url: str, which: str, count: int, *, started: float, timeout: float = 600.0
) -> float:
    """Messages per second from ``started`` (Unix seconds) until the ``which`` sink has ``count``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tally = (await sink_stats(client, url))[which]
        if tally["count"] >= count:
            return round(count / (float(tally["last"]) - started), 1)
        await asyncio.sleep(0.5)
    tally = (await sink_stats(client, url))[which]
    return round(float(tally["count"]) / (time.time() - started), 1)


def percentile(values: list[float], share: float) -> float:
    """The ``share`` percentile (0..1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


async def code_latencies(
    owner_url: str, events: list[Event[AppointmentCodeIssued]], timeout: float = 120.0
) -> list[float]:
    """Seconds from each code's event to its delivery recorded ``sent``, once every one is."""
    wanted = {event.id: event.time for event in events}
    connection = await asyncpg.connect(owner_url)
    try:
        deadline = time.monotonic() + timeout
        rows: list[asyncpg.Record] = []
        while time.monotonic() < deadline:
            rows = await connection.fetch(
                "SELECT cause_event_id, sent_at FROM deliveries WHERE cause_event_id = ANY($1) AND status = 'sent'",
                list(wanted),
            )
            if len(rows) == len(wanted):
                break
            await asyncio.sleep(0.5)
        return [(row["sent_at"] - wanted[row["cause_event_id"]]).total_seconds() for row in rows]
    finally:
        await connection.close()


async def notification_delivery(
    kafka: KafkaSettings, database: DatabaseSettings, log_dir: Path, count: int = 5000, codes: int = 40
) -> dict[str, Any]:
    """Notification's delivery throughput on SMTP and the gateway against D, and one-time codes' event→sent while
    ``count`` routine messages drain."""
    kafka = kafka.model_copy(update={"topic_prefix": f"{kafka.topic_prefix}notify."})
    database = database.model_copy(update={"name_prefix": f"{database.name_prefix}notify_"})
    schema = registered_schema("notification")
    assert schema is not None, "notification is not installed"
    await migrate(schema, database)
    await ensure_topics(kafka, all_topic_names([]))
    smtp_port, http_port = free_port(), free_port()
    sinks_url = f"http://127.0.0.1:{http_port}"
    sinks = subprocess.Popen(
        [sys.executable, "-m", "bench.sinks", "--smtp-port", str(smtp_port), "--http-port", str(http_port)], cwd=ROOT
    )
    notification = ServiceProcess(
        "notification",
        kafka,
        database,
        log_dir,
        label="-delivery",
        extra_env={
            "NOTIFICATION_LOG_LEVEL": "warning",
            "NOTIFICATION_SMTP_HOST": "127.0.0.1",
            "NOTIFICATION_SMTP_PORT": str(smtp_port),
            "NOTIFICATION_SMTP_SECURITY": "none",
            "NOTIFICATION_GATEWAY_URL": f"{sinks_url}/messages",
            "NOTIFICATION_EMAIL_CONCURRENCY": str(CONCURRENCY),
            "NOTIFICATION_SMS_CONCURRENCY": str(CONCURRENCY),
            "NOTIFICATION_CHANNEL_CONCURRENCY": str(CONCURRENCY),  # the setting's name before the urgent lane
            "NOTIFICATION_RATE_LIMITS": json.dumps({"email": UNBINDING, "sms": UNBINDING}),
        },
    ).start()
    results: dict[str, Any] = {"messages": count, "concurrency": CONCURRENCY}
    try:
        async with httpx.AsyncClient() as client:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    await sink_stats(client, sinks_url)
                    break
                except httpx.HTTPError:
                    await asyncio.sleep(0.2)
            await notification.ready()

            print(f"notification: baseline D by SMTP, then {count} e-mails through notification ...", flush=True)
            results["smtp_baseline_d_per_second"] = round(
                await minimal_smtp.send_mail("127.0.0.1", smtp_port, count, CONCURRENCY), 1
            )
            await client.post(f"{sinks_url}/reset")
            started = time.time()
            await publish(
                kafka, Topic.APPLICATIONS.name_for(), [submitted(email=f"c{n}@example.id") for n in range(count)]
            )
            results["smtp_per_second"] = await drain_rate(client, sinks_url, "smtp", count, started=started)

            print(f"notification: baseline D by HTTP, then {count} SMS through notification's gateway ...", flush=True)
            results["gateway_baseline_d_per_second"] = round(
                await minimal_smtp.post_messages(f"{sinks_url}/messages", count, CONCURRENCY), 1
            )
            await client.post(f"{sinks_url}/reset")
            started = time.time()
            await publish(kafka, Topic.APPLICATIONS.name_for(), [submitted(phone=f"0812{n:08d}") for n in range(count)])
            results["gateway_per_second"] = await drain_rate(client, sinks_url, "http", count, started=started)

            print(f"notification: {codes} one-time codes while {count} routine e-mails drain ...", flush=True)
            await client.post(f"{sinks_url}/reset")
            started = time.time()
            await publish(
                kafka, Topic.APPLICATIONS.name_for(), [submitted(email=f"r{n}@example.id") for n in range(count)]
            )
            issued = []
            for number in range(codes):
                event = code_issued(number)
                issued.append(event)
                await publish(kafka, Topic.MALL.name_for(), [event])
                await asyncio.sleep(0.1)
            latencies = await code_latencies(database.owner().service_url("notification", driver="postgresql"), issued)
            routine_left = count + codes - (await sink_stats(client, sinks_url))["smtp"]["count"]
            await drain_rate(client, sinks_url, "smtp", count + codes, started=started)
            results["codes"] = {
                "sent": len(latencies),
                "issued": codes,
                "routine_still_pending_after_the_last_code": routine_left,
                "p50_ms": round(statistics.median(latencies) * 1000) if latencies else None,
                "p95_ms": round(percentile(latencies, 0.95) * 1000) if latencies else None,
                "p99_ms": round(percentile(latencies, 0.99) * 1000) if latencies else None,
            }
        results["smtp_ratio_to_d"] = round(results["smtp_per_second"] / results["smtp_baseline_d_per_second"], 2)
        results["gateway_ratio_to_d"] = round(
            results["gateway_per_second"] / results["gateway_baseline_d_per_second"], 2
        )
    finally:
        notification.stop()
        sinks.terminate()
        sinks.wait(timeout=30)
    return results


if __name__ == "__main__":
    from satupintu.common.topics_admin import delete_topics
    from satupintu.devtools.localstack.cli import service_database_url
    from satupintu.devtools.localstack.kafka import LocalKafka
    from satupintu.devtools.localstack.postgres import LocalPostgres

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--codes", type=int, default=40)
    options = parser.parse_args()
    run_id = uuid.uuid4().hex[:6]
    owner = LocalPostgres().url
    bench_kafka = KafkaSettings(bootstrap_servers=LocalKafka().bootstrap_servers, topic_prefix=f"bench{run_id}.")
    logs = ROOT / "bench" / "results" / f"logs-{run_id}"
    logs.mkdir(parents=True, exist_ok=True)

    async def standalone() -> dict[str, Any]:
        try:
            return await notification_delivery(
                bench_kafka,
                DatabaseSettings(
                    url=service_database_url(owner, "bench"), owner_url=owner, name_prefix=f"bench{run_id}_"
                ),
                logs,
                options.messages,
                options.codes,
            )
        finally:
            await delete_topics(bench_kafka.bootstrap_servers, bench_kafka.topic_prefix)

    print(json.dumps(asyncio.run(standalone()), indent=2))
