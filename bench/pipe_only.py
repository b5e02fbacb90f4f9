"""Scratch: pipeline throughput only, with the given services running."""
from __future__ import annotations
import asyncio, sys, uuid, time
from pathlib import Path
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.run import pipeline_throughput, peak_rss_mb
from satupintu.common.database import ensure_database
from satupintu.common.events.topics import all_topic_names
from satupintu.common.localstack.kafka import LocalKafka
from satupintu.common.localstack.postgres import LocalPostgres
from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.common.topics_admin import delete_topics, ensure_topics
from tests.processes import ServiceProcess

async def main() -> None:
    names = sys.argv[1].split(",")
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    run_id = uuid.uuid4().hex[:6]
    kafka = KafkaSettings(bootstrap_servers=LocalKafka().bootstrap_servers, topic_prefix=f"pipe{run_id}.")
    database = DatabaseSettings(url=LocalPostgres().url, name_prefix=f"pipe{run_id}_")
    for name in names:
        await ensure_database(database.server_url(), database.database_name(name))
    await ensure_topics(kafka, all_topic_names(["djp","polres","dpmptsp","disdukcapil","imigrasi","satlantas","bpn","dinas-pupr","dlh","bpjs-kes"]))
    log_dir = Path("/tmp/sp/logs"); log_dir.mkdir(parents=True, exist_ok=True)
    services = {n: ServiceProcess(n, kafka, database, log_dir, extra_env={"ROUTING_LOG_LEVEL": "warning", "INTAKE_LOG_LEVEL": "warning"}).start() for n in names}
    try:
        await asyncio.gather(*(s.ready() for s in services.values()))
        await asyncio.sleep(3)
        def cpu(pid: int) -> float:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / 100
        before = {n: cpu(s.process.pid) for n, s in services.items() if s.process}
        rate = await pipeline_throughput(kafka, count)
        await asyncio.sleep(5)
        after = {n: cpu(s.process.pid) for n, s in services.items() if s.process}
        print("cpu ms per application:", {n: round((after[n] - before[n]) * 1000 / count, 2) for n in before}, "total", round(sum(after[n] - before[n] for n in before) * 1000 / count, 2))
        print(f"pipeline {rate:.1f}/s with {names}")
        print({n: peak_rss_mb(s.process.pid) for n, s in services.items() if s.process})
    finally:
        for s in services.values():
            s.stop()
        await delete_topics(kafka.bootstrap_servers, kafka.topic_prefix)

asyncio.run(main())
