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
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.baselines import kafka_hops
from bench.isolation import one_slow_agency
from bench.load import application_body, closed_loop, first_task_latency, minimal_body, pipeline_throughput
from bench.notification import notification_delivery
from bench.report import report
from bench.whole import drain_rates, submit_latencies
from satupintu.common.database import ensure_database
from satupintu.common.migrations import migrate, registered_schema
from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.common.topics_admin import delete_topics, ensure_topics
from satupintu.contract.topics import all_topic_names
from satupintu.devtools.localstack.cli import service_database_url
from satupintu.devtools.localstack.kafka import LocalKafka
from satupintu.devtools.localstack.postgres import LocalPostgres
from satupintu.devtools.testing.browser import free_port
from tests.processes import ServiceProcess

SERVICES = ("intake", "routing", "agency", "notification", "audit", "mall", "payment")
STEPS = ("intake", "latency", "pipeline", "drain", "notification", "isolation")


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
        # the relays' last batches and the side consumers' tails (notification's sending included), within a minute
        await quiesce({name: services[name] for name in before}, timeout=60.0)
        spent = {name: round((cpu_seconds(running[name]) - used) * 1000 / count, 2) for name, used in before.items()}
    return rate, spent


async def notification_step(
    kafka: KafkaSettings, database: DatabaseSettings, log_dir: Path, results: dict[str, Any]
) -> None:
    """Notification's delivery throughput (SMTP and gateway, against baseline D) and one-time codes' event→sent
    while 5,000 routine messages drain (bench/notification.py): a notification process and sinks of its own."""
    print("notification delivery: SMTP and gateway against D, one-time codes behind a backlog ...", flush=True)
    results["notification"] = await notification_delivery(kafka, database, log_dir)


def peak_rss_mb(pid: int) -> float:
    """A process's peak resident set size (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


async def intake_step(
    arguments: argparse.Namespace,
    services: dict[str, ServiceProcess],
    intake_url: str,
    baseline_url: str,
    results: dict[str, Any],
) -> None:
    """Intake's accepted/s against baseline C, with the other services paused and with every service consuming."""
    print("baseline C, then intake alone (the other services paused), then with every service consuming ...")
    await quiesce(services)
    minimal = await closed_loop(baseline_url, minimal_body, arguments.clients, arguments.seconds)
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


async def latency_step(
    arguments: argparse.Namespace,
    kafka: KafkaSettings,
    database: DatabaseSettings,
    services: dict[str, ServiceProcess],
    intake_url: str,
    *,
    results: dict[str, Any],
) -> None:
    """Submit -> first task and -> message sent at the offered rates with every service consuming, then submit ->
    first task with only intake and routing running."""
    results["submit_latency"] = []
    for rate in arguments.rates:
        await quiesce(services)
        print(f"submit -> first task and -> message sent at {rate}/s, all seven ...", flush=True)
        results["submit_latency"].append(
            await submit_latencies(
                intake_url,
                kafka,
                database.owner().service_url("notification", driver="postgresql"),
                rate,
                arguments.seconds,
                wait_seconds=arguments.message_wait,
            )
        )
    results["latency"] = []
    await quiesce(services)
    print(f"submit -> first task at {arguments.alone_rate}/s, intake and routing alone ...", flush=True)
    with paused(services, set(services) - {"intake", "routing"}):
        path_only = await first_task_latency(intake_url, kafka, arguments.alone_rate, arguments.seconds)
    results["latency"].append({**path_only, "intake_and_routing_alone": True})


async def one_slow_agency_step(
    arguments: argparse.Namespace,
    kafka: KafkaSettings,
    database: DatabaseSettings,
    services: dict[str, ServiceProcess],
    results: dict[str, Any],
) -> None:
    """Another agency's submit -> first task without and with one agency flooded (docs/performance.md, one slow
    agency never stalls another); skipped when the desk is not among the services or ``--flood 0``."""
    if arguments.flood <= 0 or "agency" not in services:
        return
    await quiesce(services)
    print(f"one slow agency: {arguments.flood} tasks flooding one agency, another's first tasks ...", flush=True)
    results["one_slow_agency"] = await one_slow_agency(
        f"http://127.0.0.1:{services['intake'].port}/applications",
        kafka,
        database.owner().service_url("agency", driver="postgresql"),
        flood=arguments.flood,
        rate=arguments.isolation_rate,
        seconds=min(arguments.seconds, 8.0),
    )


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
        await asyncio.gather(*(service.ready(timeout=180.0) for service in services.values()))
        async with httpx.AsyncClient() as client:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    await client.get(f"http://127.0.0.1:{baseline_port}/docs")
                    break
                except httpx.HTTPError:
                    await asyncio.sleep(0.2)
        intake_url = f"http://127.0.0.1:{services['intake'].port}/applications"
        steps = set(arguments.steps)
        print("warming up ...", flush=True)
        await closed_loop(intake_url, application_body, 8, 2)
        await closed_loop(f"http://127.0.0.1:{baseline_port}/submissions", minimal_body, 8, 2)

        if "intake" in steps:
            await intake_step(arguments, services, intake_url, f"http://127.0.0.1:{baseline_port}/submissions", results)

        if "latency" in steps:
            await latency_step(arguments, kafka, database, services, intake_url, results=results)

        if "pipeline" in steps:
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
            results["pipeline"]["cpu_ms_per_application_summed"] = round(sum(cpu_per_application.values()), 2)
        if "drain" in steps:
            await quiesce(services)
            print(f"drain rates: a backlog of {arguments.backlog} submissions, one consumer at a time ...", flush=True)
            results["drain"] = await drain_rates(
                kafka,
                {name: service.process.pid for name, service in services.items() if service.process},
                arguments.backlog,
                all_topic_names(agencies),
                profile_dir=arguments.profile,
            )
            results["drain_baseline_b_per_second"] = round(durable, 1)
            results["rss_mb"] = {
                name: peak_rss_mb(service.process.pid) for name, service in services.items() if service.process
            }
        if "notification" in steps:
            await notification_step(kafka, database, log_dir, results)
        if "isolation" in steps:
            await one_slow_agency_step(arguments, kafka, database, services, results)
    finally:
        for service in services.values():
            service.stop()
        baseline.terminate()
        baseline.wait(timeout=30)
        await delete_topics(kafka.bootstrap_servers, kafka.topic_prefix)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients for the throughput runs")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each load run")
    parser.add_argument(
        "--rates",
        type=lambda text: [float(rate) for rate in text.split(",")],
        default=[25.0, 50.0],
        help="offered rates for the latency runs with every service consuming, comma-separated (targets at 50/s)",
    )
    parser.add_argument(
        "--alone-rate", type=float, default=100.0, help="offered rate of the intake-and-routing-alone latency run"
    )
    parser.add_argument(
        "--message-wait", type=float, default=60.0, help="seconds to wait for the last messages sent after a run"
    )
    parser.add_argument(
        "--profile", type=Path, default=None, help="directory for py-spy's samples of each consumer while it drains"
    )
    parser.add_argument("--backlog", type=int, default=5000, help="backlog each consumer drains alone (10000 in #23)")
    parser.add_argument("--messages", type=int, default=2000, help="backlog size for the pipeline runs")
    parser.add_argument("--services", default=",".join(SERVICES), help="services to run (intake and routing at least)")
    parser.add_argument("--flood", type=int, default=10_000, help="tasks flooding one agency (0: skip that step)")
    parser.add_argument(
        "--steps",
        type=lambda text: text.split(","),
        default=list(STEPS),
        help=f"steps to run, comma-separated (default all: {','.join(STEPS)}); the report shows the ones run",
    )
    parser.add_argument("--isolation-rate", type=float, default=25.0, help="offered rate while one agency is flooded")
    options = parser.parse_args()
    LocalPostgres().start()
    LocalKafka().start()
    outcome = asyncio.run(main(options))
    outcome["parameters"] = vars(options)
    results_dir = ROOT / "bench" / "results"
    whole = set(options.steps) >= set(STEPS)
    written = results_dir / ("latest.json" if whole else "partial.json")
    written.write_text(json.dumps(outcome, indent=2))
    print()
    # the table needs every step; a partial run (--steps) prints its figures as they are
    print(report(outcome) if whole else json.dumps(outcome, indent=2))
    print(f"\nwritten to {written}")
