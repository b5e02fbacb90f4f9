"""``make bench``: Satu Pintu against hand-written baselines, in one run, on the real local Kafka and PostgreSQL.

Prints a table and writes ``bench/results/latest.json``. Figures and how to read them: docs/performance.md.
Not a test: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.baselines import kafka_hops
from satupintu.common.database import ensure_database
from satupintu.common.events.topics import Topic, all_topic_names
from satupintu.common.localstack.cli import service_database_url
from satupintu.common.localstack.kafka import LocalKafka
from satupintu.common.localstack.postgres import LocalPostgres
from satupintu.common.migrations import migrate, registered_schema
from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.common.topics_admin import delete_topics, ensure_topics
from tests.processes import ServiceProcess, free_port
from tests.support import record_of, submitted_event

SERVICES = ("intake", "routing", "agency", "notification", "audit", "mall")


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


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def quiesce(services: dict[str, ServiceProcess], timeout: float = 180.0) -> None:
    """Wait until the services are idle (under 5% of a core each over a second): the previous run's backlog is
    worked off before the next measurement starts."""
    deadline = time.monotonic() + timeout
    pids = [service.process.pid for service in services.values() if service.process]
    while time.monotonic() < deadline:
        before = [cpu_seconds(pid) for pid in pids]
        await asyncio.sleep(1.0)
        if all(cpu_seconds(pid) - used < 0.05 for pid, used in zip(pids, before, strict=True)):
            return


@contextmanager
def paused(services: dict[str, ServiceProcess], names: set[str]) -> Iterator[None]:
    """Stop (SIGSTOP) the ``names`` services for the block, then let them go on (SIGCONT) and catch up."""
    pids = [service.process.pid for name, service in services.items() if name in names and service.process]
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


async def pipeline_with(
    kafka: KafkaSettings, services: dict[str, ServiceProcess], count: int, stopped: set[str]
) -> tuple[float, dict[str, float]]:
    """Pipeline throughput with the ``stopped`` services paused (SIGSTOP) for the run, and the CPU milliseconds
    each running service spent per application."""
    running = {name: service.process.pid for name, service in services.items() if service.process}
    await quiesce(services)
    with paused(services, stopped):
        before = {name: cpu_seconds(pid) for name, pid in running.items() if name not in stopped}
        rate = await pipeline_throughput(kafka, count)
        await asyncio.sleep(2)  # the relays' last batches and the side consumers' tails
        spent = {name: round((cpu_seconds(running[name]) - used) * 1000 / count, 2) for name, used in before.items()}
    return rate, spent


def peak_rss_mb(pid: int) -> float:
    """A process's peak resident set size (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


async def main(arguments: argparse.Namespace) -> dict[str, Any]:
    run_id = uuid.uuid4().hex[:6]
    kafka = KafkaSettings(bootstrap_servers=LocalKafka().bootstrap_servers, topic_prefix=f"bench{run_id}.")
    # The services connect as their role with only rows (as `make up` starts them), after `migrate` as the owner.
    owner_url = LocalPostgres().url
    database = DatabaseSettings(
        url=service_database_url(owner_url, "bench"), owner_url=owner_url, name_prefix=f"bench{run_id}_"
    )
    for name in SERVICES:
        schema = registered_schema(name)
        assert schema is not None, f"{name} is not installed"
        await migrate(schema, database)
    for name in ("baseline_c", "baseline_b"):
        await ensure_database(owner_url, database.database_name(name))
    agencies = [
        "djp",
        "polres",
        "dpmptsp",
        "disdukcapil",
        "imigrasi",
        "satlantas",
        "bpn",
        "dinas-pupr",
        "dlh",
        "bpjs-kes",
    ]
    await ensure_topics(
        kafka, [*all_topic_names(agencies), "baseline.a.in", "baseline.a.out", "baseline.b.in", "baseline.b.out"]
    )
    log_dir = ROOT / "bench" / "results" / f"logs-{run_id}"
    log_dir.mkdir(parents=True, exist_ok=True)
    services = {
        name: ServiceProcess(
            name,
            kafka,
            database,
            log_dir,
            extra_env={
                "INTAKE_RATE_LIMIT_PER_MINUTE": "0",
                "INTAKE_DOCUMENTS_DIR": str(log_dir / "documents"),
                "INTAKE_LOG_LEVEL": "warning",
                "ROUTING_LOG_LEVEL": "warning",
            },
        ).start()
        for name in arguments.services.split(",")
    }
    baseline_port = free_port()
    baseline_env = {
        **os.environ,
        "BASELINE_DATABASE_URL": database.owner().service_url("baseline_c", driver="postgresql"),
    }
    baseline = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.baselines.minimal_endpoint:app",
            "--port",
            str(baseline_port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=baseline_env,
    )
    results: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()}}
    try:
        await asyncio.gather(*(service.ready() for service in services.values()))
        async with httpx.AsyncClient() as client:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    await client.get(f"http://127.0.0.1:{baseline_port}/docs")
                    break
                except httpx.HTTPError:
                    await asyncio.sleep(0.2)
        intake_url = f"http://127.0.0.1:{services['intake'].port}/applications"
        print("warming up ...", flush=True)
        await closed_loop(intake_url, application_body, 8, 2)
        await closed_loop(f"http://127.0.0.1:{baseline_port}/submissions", minimal_body, 8, 2)

        print("baseline C, then intake alone (the other services paused), then with every service consuming ...")
        await quiesce(services)
        minimal = await closed_loop(
            f"http://127.0.0.1:{baseline_port}/submissions", minimal_body, arguments.clients, arguments.seconds
        )
        with paused(services, set(services) - {"intake"}):
            await quiesce({"intake": services["intake"]})
            alone = await closed_loop(intake_url, application_body, arguments.clients, arguments.seconds)
        await quiesce(services)
        intake = await closed_loop(intake_url, application_body, arguments.clients, arguments.seconds)
        results["intake_alone"] = alone.summary()
        results["intake_alone"]["ratio_to_c"] = round(alone.per_second / minimal.per_second, 2)
        results["intake"] = intake.summary()
        results["baseline_c"] = minimal.summary()
        results["intake"]["ratio_to_c"] = round(intake.per_second / minimal.per_second, 2)

        results["latency"] = []
        for rate in arguments.rates:
            await quiesce(services)
            print(f"submit -> first task at {rate}/s ...", flush=True)
            results["latency"].append(await first_task_latency(intake_url, kafka, rate, arguments.seconds))
        await quiesce(services)
        print(f"submit -> first task at {arguments.rates[0]}/s, intake and routing alone ...", flush=True)
        with paused(services, set(services) - {"intake", "routing"}):
            path_only = await first_task_latency(intake_url, kafka, arguments.rates[0], arguments.seconds)
        results["latency"].append({**path_only, "intake_and_routing_alone": True})

        print("pipeline throughput: the routing hop alone, then with every service consuming ...", flush=True)
        path_only, _ = await pipeline_with(kafka, services, arguments.messages, set(services) - {"routing"})
        pipeline, cpu_per_application = await pipeline_with(kafka, services, arguments.messages, set())
        print("baselines A and B ...", flush=True)
        raw = await kafka_hops.measure_hop(
            kafka.bootstrap_servers,
            kafka.topic_name("baseline.a.in"),
            kafka.topic_name("baseline.a.out"),
            arguments.messages,
            None,
        )
        durable = await kafka_hops.measure_hop(
            kafka.bootstrap_servers,
            kafka.topic_name("baseline.b.in"),
            kafka.topic_name("baseline.b.out"),
            arguments.messages,
            database.owner().service_url("baseline_b", driver="postgresql"),
        )
        results["pipeline"] = {
            "routing_hop_per_second": round(path_only, 1),
            "applications_routed_per_second": round(pipeline, 1),
            "baseline_a_per_second": round(raw, 1),
            "baseline_b_per_second": round(durable, 1),
            "ratio_to_b": round(path_only / durable, 2),
            "ratio_to_b_all_services": round(pipeline / durable, 2),
            "cpu_ms_per_application": cpu_per_application,
        }
        results["rss_mb"] = {
            name: peak_rss_mb(service.process.pid) for name, service in services.items() if service.process
        }
    finally:
        for service in services.values():
            service.stop()
        baseline.terminate()
        baseline.wait(timeout=30)
        await delete_topics(kafka.bootstrap_servers, kafka.topic_prefix)
    return results


def report(results: dict[str, Any]) -> str:
    """The table printed at the end."""
    intake, alone, c, pipeline = results["intake"], results["intake_alone"], results["baseline_c"], results["pipeline"]
    rows = [
        (
            "intake accepted/s, alone",
            f"{alone['accepted_per_second']}",
            f"C {c['accepted_per_second']}",
            f"{alone['ratio_to_c']} (target >= 0.5)",
        ),
        (
            "intake POST p50/p95/p99 ms, alone",
            f"{alone['p50_ms']}/{alone['p95_ms']}/{alone['p99_ms']}",
            f"C {c['p50_ms']}/{c['p95_ms']}/{c['p99_ms']}",
            "",
        ),
        (
            "intake accepted/s, all six consuming",
            f"{intake['accepted_per_second']}",
            f"C {c['accepted_per_second']}",
            f"{intake['ratio_to_c']}",
        ),
        (
            "intake POST p50/p95/p99 ms, all six",
            f"{intake['p50_ms']}/{intake['p95_ms']}/{intake['p99_ms']}",
            "",
            "",
        ),
    ]
    for latency in results["latency"]:
        rate = latency["offered_per_second"]
        rows += [
            (
                f"submit->first task p50/p95/p99 ms at {rate}/s"
                + (", intake+routing alone" if latency.get("intake_and_routing_alone") else ""),
                f"{latency['p50_ms']}/{latency['p95_ms']}/{latency['p99_ms']}",
                f"{latency['tasks_seen']}/{latency['submitted']} seen",
                "p99 target < 250 at 100/s",
            ),
            (
                f"POST p99 ms at {rate}/s"
                + (", intake+routing alone" if latency.get("intake_and_routing_alone") else ""),
                f"{latency['post_p99_ms']}",
                "",
                "target < 50 at 100/s",
            ),
        ]
    rows += [
        (
            "pipeline routed/s, routing hop alone",
            f"{pipeline['routing_hop_per_second']}",
            f"B {pipeline['baseline_b_per_second']}, A {pipeline['baseline_a_per_second']}",
            f"{pipeline['ratio_to_b']} (target >= 0.5)",
        ),
        (
            "pipeline routed/s, all six consuming",
            f"{pipeline['applications_routed_per_second']}",
            f"B {pipeline['baseline_b_per_second']}",
            f"{pipeline['ratio_to_b_all_services']}",
        ),
    ]
    rows += [
        (f"CPU ms per application {name}", f"{spent}", "", "")
        for name, spent in pipeline["cpu_ms_per_application"].items()
    ]
    rows += [(f"peak RSS {name} MB", f"{rss}", "", "target < 150") for name, rss in results["rss_mb"].items()]
    width = max(len(row[0]) for row in rows)
    return "\n".join(f"{a:<{width}}  {b:>16}  {c:>28}  {d}" for a, b, c, d in rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients for the throughput runs")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each load run")
    parser.add_argument(
        "--rates",
        type=lambda text: [float(rate) for rate in text.split(",")],
        default=[100.0, 50.0],
        help="offered rates for the latency runs, comma-separated (the target is at 100/s)",
    )
    parser.add_argument("--messages", type=int, default=2000, help="backlog size for the pipeline runs")
    parser.add_argument("--services", default=",".join(SERVICES), help="services to run (intake and routing at least)")
    options = parser.parse_args()
    LocalPostgres().start()
    LocalKafka().start()
    outcome = asyncio.run(main(options))
    outcome["parameters"] = vars(options)
    results_dir = ROOT / "bench" / "results"
    (results_dir / "latest.json").write_text(json.dumps(outcome, indent=2))
    print()
    print(report(outcome))
    print(f"\nwritten to {results_dir / 'latest.json'}")
