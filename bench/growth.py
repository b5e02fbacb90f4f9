"""Cost as work grows: the services run as processes (as in ``make bench``), their databases are filled through the
real flow (applications POSTed to intake, every service consuming) to each level, and at each level a short measured
run says the CPU each service spends per application, what each database holds per application, how many rows
sequential scans read per application (a query whose cost grows with a table shows there), and what the hot queries
cost (``EXPLAIN (ANALYZE, BUFFERS)``).

    uv run --frozen python bench/growth.py                       # 1,000 -> 20,000 applications (long: ~10 min)
    uv run --frozen python bench/growth.py --levels 500,1000,2000  # a quick look

Writes ``bench/results/growth.json`` and prints a table. Figures and how to read them: docs/performance.md (cost as
work grows). Not a test: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import application_body, first_task_latency
from bench.run import SERVICES, cpu_seconds, quiesce
from satupintu.common.catalogue import load_catalogue
from satupintu.common.migrations import migrate, registered_schema
from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.common.topics_admin import delete_topics, ensure_topics
from satupintu.contract.topics import all_topic_names
from satupintu.devtools.localstack.cli import service_database_url
from satupintu.devtools.localstack.kafka import LocalKafka
from satupintu.devtools.localstack.postgres import LocalPostgres
from tests.processes import ServiceProcess

TABLE_STATS = (
    "SELECT relname, seq_scan, seq_tup_read, coalesce(idx_scan, 0) AS idx_scan,"
    " coalesce(idx_tup_fetch, 0) AS idx_tup_fetch FROM pg_stat_user_tables"
)
TABLE_SIZES = (
    "SELECT c.relname, pg_total_relation_size(c.oid) AS bytes FROM pg_class c"
    " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = 'public'"
)

OUTBOX_PENDING = "SELECT id, topic, key, headers, value, created_at FROM outbox ORDER BY id LIMIT 500"
INBOX_CHECK = "SELECT 1 FROM inbox WHERE consumer = $1 AND event_id = $2"
HOT_QUERIES: dict[str, list[tuple[str, str]]] = {
    "intake": [
        ("status projection: the application by id, locked", "SELECT * FROM applications WHERE id = $1 FOR UPDATE"),
        ("status projection: its tasks", "SELECT * FROM application_tasks WHERE application_id = $1"),
        ("status projection: its timeline", "SELECT * FROM application_timeline WHERE application_id = $1"),
    ],
    "routing": [
        ("workflow lookup", "SELECT * FROM workflows WHERE application_id = $1"),
        ("workflow's tasks", "SELECT * FROM workflow_tasks WHERE application_id = $1 ORDER BY stage_index, agency"),
        (
            "SLA watch: late tasks",
            "SELECT * FROM workflow_tasks WHERE state IN ('assigned', 'claimed') AND due_at < now()"
            " AND sla_breached_at IS NULL ORDER BY due_at LIMIT 100 FOR UPDATE SKIP LOCKED",
        ),
        (
            "SLA watch: late applications",
            "SELECT * FROM workflows WHERE state = 'in_progress' AND waiting_since IS NULL AND due_at < now()"
            " AND sla_breached_at IS NULL ORDER BY due_at LIMIT 100 FOR UPDATE SKIP LOCKED",
        ),
    ],
    "agency": [
        (
            "desk: an agency's open tasks",
            "SELECT task_id FROM desk_tasks WHERE agency = 'djp' AND state = 'open' ORDER BY due_at LIMIT 50",
        ),
        ("desk: a task by id", "SELECT * FROM desk_tasks WHERE application_id = $1"),
    ],
    "audit": [
        ("audit: the chain's head", "SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1"),
        ("audit: an application's trail", "SELECT * FROM audit_log WHERE application_id = $1 ORDER BY seq"),
    ],
    "mall": [
        (
            "mall board: today's applications by service",
            "SELECT service_code, count(*), count(*) FILTER (WHERE finished_at IS NULL) FROM mall_applications"
            " WHERE submitted_at >= now() - interval '1 day' GROUP BY service_code",
        ),
        ("mall: an application by id", "SELECT * FROM mall_applications WHERE application_id = $1"),
    ],
    "notification": [
        (
            "notification: pending scan",
            "SELECT * FROM deliveries WHERE kind = 'console' AND status = 'pending' AND next_attempt_at <= now()"
            " ORDER BY next_attempt_at LIMIT 100 FOR UPDATE SKIP LOCKED",
        ),
        ("notification: contact by application", "SELECT * FROM contacts WHERE application_id = $1"),
    ],
}
"""The hot queries of each service, as its repositories issue them (``$1``: an application id from the run)."""


async def fill(url: str, count: int, clients: int) -> float:
    """POST ``count`` applications with ``clients`` concurrent clients; the rate they were accepted at."""
    remaining = count
    began = time.monotonic()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def one_client(number: int) -> None:
            nonlocal remaining
            index = number * 10_000_000
            while remaining > 0:
                remaining -= 1
                index += 1
                answer = await client.post(url, json=application_body(index))
                if answer.status_code != 202:
                    remaining += 1

        await asyncio.gather(*(one_client(n) for n in range(clients)))
    return count / (time.monotonic() - began)


async def table_stats(connection: asyncpg.Connection) -> dict[str, dict[str, int]]:
    """Scan counters of every table of a database (cumulative since it was created)."""
    await connection.execute("SELECT pg_stat_clear_snapshot()")
    return {row["relname"]: dict(row) for row in await connection.fetch(TABLE_STATS)}


async def explain(connection: asyncpg.Connection, sql: str, *arguments: Any) -> dict[str, Any]:
    """Execution time and buffers of one query, run inside a transaction rolled back (it may lock rows)."""
    transaction = connection.transaction()
    await transaction.start()
    try:
        [plan] = json.loads(await connection.fetchval(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", *arguments))
    finally:
        await transaction.rollback()
    top = plan["Plan"]
    return {
        "ms": round(plan["Execution Time"], 3),
        "buffers": top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0),
        "rows": top.get("Actual Rows"),
        "plan": _node_types(top),
    }


def _node_types(node: dict[str, Any]) -> str:
    name = node["Node Type"] + (f" on {node['Relation Name']}" if "Relation Name" in node else "")
    if "Index Name" in node:
        name += f" using {node['Index Name']}"
    children = [_node_types(child) for child in node.get("Plans", [])]
    return name + (f" ({', '.join(children)})" if children else "")


async def measure_level(
    level: int,
    *,
    intake_url: str,
    kafka: KafkaSettings,
    connections: dict[str, asyncpg.Connection],
    services: dict[str, ServiceProcess],
    measured: int,
    rate: float,
) -> dict[str, Any]:
    """The measured run at one level: CPU per application per service, scans, sizes, hot queries."""
    await quiesce(services)
    before = {name: await table_stats(connection) for name, connection in connections.items()}
    pids = {name: service.process.pid for name, service in services.items() if service.process}
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    latency = await first_task_latency(intake_url, kafka, rate, measured / rate)
    await quiesce(services)
    submitted = latency["submitted"] or 1
    cpu = {name: round((cpu_seconds(pid) - cpu_before[name]) * 1000 / submitted, 2) for name, pid in pids.items()}
    after = {name: await table_stats(connection) for name, connection in connections.items()}
    applications = await connections["intake"].fetchval("SELECT count(*) FROM applications")
    scans: dict[str, float] = {}
    for service, tables in after.items():
        for table, stats in tables.items():
            earlier = before[service].get(table, {"seq_tup_read": 0})
            read = (stats["seq_tup_read"] - earlier["seq_tup_read"]) / submitted
            if read >= 1:
                scans[f"{service}.{table}"] = round(read, 1)
    sizes: dict[str, Any] = {}
    tables_per_application: dict[str, float] = {}
    for service, connection in connections.items():
        sizes[service] = await connection.fetchval("SELECT pg_database_size(current_database())")
        for row in await connection.fetch(TABLE_SIZES):
            tables_per_application[f"{service}.{row['relname']}"] = row["bytes"] / applications
    sample = await connections["intake"].fetchval("SELECT id FROM applications ORDER BY submitted_at DESC LIMIT 1")
    queries: dict[str, Any] = {}
    for service, connection in connections.items():
        checks = [("outbox pending scan", OUTBOX_PENDING), ("inbox check", INBOX_CHECK), *HOT_QUERIES.get(service, [])]
        processed = await connection.fetchrow("SELECT consumer, event_id FROM inbox LIMIT 1")
        for label, sql in checks:
            if sql == INBOX_CHECK:
                if processed is None:
                    continue
                arguments: tuple[Any, ...] = (processed["consumer"], processed["event_id"])
            else:
                arguments = (sample,) if "$1" in sql else ()
            queries[f"{service}: {label}"] = await explain(connection, sql, *arguments)
    largest = sorted(tables_per_application.items(), key=lambda item: -item[1])[:12]
    return {
        "level": level,
        "applications": applications,
        "first_task": latency,
        "cpu_ms_per_application": cpu,
        "cpu_ms_per_application_summed": round(sum(cpu.values()), 2),
        "database_bytes_per_application": {name: round(size / applications) for name, size in sizes.items()},
        "database_bytes_per_application_summed": round(sum(sizes.values()) / applications),
        "largest_tables_bytes_per_application": {name: round(size) for name, size in largest},
        "seq_rows_read_per_application": dict(sorted(scans.items(), key=lambda item: -item[1])),
        "hot_queries": queries,
    }


async def main(arguments: argparse.Namespace) -> list[dict[str, Any]]:
    run_id = uuid.uuid4().hex[:6]
    kafka = KafkaSettings(bootstrap_servers=LocalKafka().bootstrap_servers, topic_prefix=f"growth{run_id}.")
    owner_url = LocalPostgres().url
    database = DatabaseSettings(
        url=service_database_url(owner_url, "bench"), owner_url=owner_url, name_prefix=f"growth{run_id}_"
    )
    for name in SERVICES:
        schema = registered_schema(name)
        assert schema is not None, f"{name} is not installed"
        await migrate(schema, database)
    await ensure_topics(kafka, all_topic_names(sorted(load_catalogue().agency_codes())))
    log_dir = ROOT / "bench" / "results" / f"logs-growth-{run_id}"
    log_dir.mkdir(parents=True, exist_ok=True)
    environment = {
        "INTAKE_RATE_LIMIT_PER_MINUTE": "0",
        "INTAKE_DOCUMENTS_DIR": str(log_dir / "documents"),
        "INTAKE_LOG_LEVEL": "warning",
        "ROUTING_LOG_LEVEL": "warning",
    }
    services = {
        name: ServiceProcess(name, kafka, database, log_dir, extra_env=environment).start() for name in SERVICES
    }
    connections: dict[str, asyncpg.Connection] = {}
    levels: list[dict[str, Any]] = []
    try:
        await asyncio.gather(*(service.ready() for service in services.values()))
        for name in SERVICES:
            connections[name] = await asyncpg.connect(database.owner().service_url(name, driver="postgresql"))
        intake_url = f"http://127.0.0.1:{services['intake'].port}/applications"
        in_database = 0
        for level in arguments.levels:
            to_fill = level - in_database - arguments.measured
            if to_fill > 0:
                print(f"filling to {level - arguments.measured} applications ...", flush=True)
                rate = await fill(intake_url, to_fill, arguments.clients)
                print(f"  accepted at {rate:.1f}/s", flush=True)
            print(f"measuring at {level} ...", flush=True)
            figures = await measure_level(
                level,
                intake_url=intake_url,
                kafka=kafka,
                connections=connections,
                services=services,
                measured=arguments.measured,
                rate=arguments.rate,
            )
            in_database = figures["applications"]
            levels.append(figures)
            print(summary_line(figures), flush=True)
    finally:
        for connection in connections.values():
            await connection.close()
        for service in services.values():
            service.stop()
        await delete_topics(kafka.bootstrap_servers, kafka.topic_prefix)
    return levels


def summary_line(figures: dict[str, Any]) -> str:
    """One line of the table: applications, CPU per application, bytes per application, first task p99."""
    return (
        f"{figures['applications']:>7}  cpu {figures['cpu_ms_per_application_summed']:>7} ms/app  "
        f"db {figures['database_bytes_per_application_summed'] / 1024:>7.1f} KiB/app  "
        f"first task p99 {figures['first_task']['p99_ms']:>8} ms"
    )


def report(levels: list[dict[str, Any]]) -> str:
    """The table: a line per level, then the hot queries' cost per level."""
    lines = [summary_line(figures) for figures in levels]
    lines.append("")
    lines.append("hot queries: ms (buffers) per level")
    for query in levels[0]["hot_queries"] if levels else []:
        costs = "  ".join(
            f"{figures['hot_queries'][query]['ms']:.2f} ({figures['hot_queries'][query]['buffers']})"
            for figures in levels
        )
        lines.append(f"  {query:<60} {costs}")
    lines.append("")
    lines.append("rows read by sequential scans per application, per level")
    names = sorted({name for figures in levels for name in figures["seq_rows_read_per_application"]})
    for name in names:
        counts = "  ".join(f"{figures['seq_rows_read_per_application'].get(name, 0):>9}" for figures in levels)
        lines.append(f"  {name:<60} {counts}")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--levels",
        type=lambda text: [int(level) for level in text.split(",")],
        default=[1_000, 5_000, 10_000, 15_000, 20_000],
        help="applications in the databases at each measurement, comma-separated",
    )
    parser.add_argument("--measured", type=int, default=300, help="applications of each measured run")
    parser.add_argument("--rate", type=float, default=25.0, help="offered rate of the measured runs")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients filling the databases")
    options = parser.parse_args()
    LocalPostgres().start()
    LocalKafka().start()
    outcome = asyncio.run(main(options))
    results = ROOT / "bench" / "results" / "growth.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps({"parameters": vars(options), "levels": outcome}, indent=2))
    print()
    print(report(outcome))
    print(f"\nwritten to {results}")
