"""Experiment: intake with all services consuming vs C, with per-process CPU during the run."""
from __future__ import annotations
import argparse, asyncio, json, os, subprocess, sys, time, uuid
from pathlib import Path
import httpx
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.load import application_body, closed_loop, minimal_body
from bench.run import SERVICES, cpu_seconds, paused, quiesce
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

def pg_kafka_cpu() -> dict[str, float]:
    out = {"postgres": 0.0, "kafka": 0.0}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read()
            if b"postgres" in cmd.split(b"\0")[0]:
                out["postgres"] += cpu_seconds(int(pid))
            elif b"kafka.Kafka" in cmd:
                out["kafka"] += cpu_seconds(int(pid))
        except OSError:
            pass
    return out

async def main(a):
    run_id = uuid.uuid4().hex[:6]
    kafka = KafkaSettings(bootstrap_servers=LocalKafka().bootstrap_servers, topic_prefix=f"bench{run_id}.")
    owner_url = LocalPostgres().url
    database = DatabaseSettings(url=service_database_url(owner_url, "bench"), owner_url=owner_url, name_prefix=f"bench{run_id}_")
    for name in SERVICES:
        await migrate(registered_schema(name), database)
    await ensure_database(owner_url, database.database_name("baseline_c"))
    agencies = ["djp","polres","dpmptsp","disdukcapil","imigrasi","satlantas","bpn","dinas-pupr","dlh","bpjs-kes"]
    await ensure_topics(kafka, list(all_topic_names(agencies)))
    log_dir = ROOT / "bench" / "results" / f"logs-{run_id}"; log_dir.mkdir(parents=True, exist_ok=True)
    env = {"INTAKE_RATE_LIMIT_PER_MINUTE": "0", "INTAKE_DOCUMENTS_DIR": str(log_dir / "documents"),
           "INTAKE_LOG_LEVEL": "warning", "ROUTING_LOG_LEVEL": "warning"}
    for kv in a.env:
        k, v = kv.split("=", 1); env[k] = v
    services = {n: ServiceProcess(n, kafka, database, log_dir, extra_env=env).start() for n in SERVICES}
    port = free_port()
    baseline = subprocess.Popen([sys.executable, "-m", "uvicorn", "bench.baselines.minimal_endpoint:app", "--port", str(port),
        "--log-level", "warning", "--no-access-log"], cwd=ROOT,
        env={**os.environ, "BASELINE_DATABASE_URL": database.owner().service_url("baseline_c", driver="postgresql")})
    try:
        await asyncio.gather(*(s.ready(timeout=180.0) for s in services.values()))
        for n in a.nice:
            name, _, value = n.partition("=")
            os.setpriority(os.PRIO_PROCESS, services[name].process.pid, int(value))
        async with httpx.AsyncClient() as client:
            for _ in range(150):
                try:
                    await client.get(f"http://127.0.0.1:{port}/docs"); break
                except httpx.HTTPError:
                    await asyncio.sleep(0.2)
        url = f"http://127.0.0.1:{services['intake'].port}/applications"
        await closed_loop(url, application_body, 8, 2)
        await closed_loop(f"http://127.0.0.1:{port}/submissions", minimal_body, 8, 2)
        await quiesce(services)
        c = await closed_loop(f"http://127.0.0.1:{port}/submissions", minimal_body, 32, a.seconds)
        if a.alone:
            with paused(services, set(services) - {"intake"}):
                await quiesce({"intake": services["intake"]})
                al = await closed_loop(url, application_body, 32, a.seconds)
            print("alone", round(al.per_second,1), round(al.per_second / c.per_second, 2))
        await quiesce(services)
        i0 = {n: cpu_seconds(s.process.pid) for n, s in services.items()}
        await asyncio.sleep(10)
        i1 = {n: cpu_seconds(s.process.pid) for n, s in services.items()}
        print("idle cpu share:", {n: round((i1[n]-i0[n])/10, 3) for n in i1})
        spies = [subprocess.Popen(["py-spy", "record", "-r", "50", "-d", str(int(a.seconds) + 4), "-p", str(services[n].process.pid), "-f", "raw", "-o", f"/tmp/exp/{n}.txt"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for n in a.profile]
        before = {n: cpu_seconds(s.process.pid) for n, s in services.items()}; b2 = pg_kafka_cpu(); t0 = time.monotonic()
        r = await closed_loop(url, application_body, 32, a.seconds)
        after = {n: cpu_seconds(s.process.pid) for n, s in services.items()}; a2 = pg_kafka_cpu(); el = time.monotonic() - t0
        print("C", round(c.per_second, 1), "all", r.summary(), "ratio", round(r.per_second / c.per_second, 2))
        print("cpu share of cores during run:", {n: round((after[n]-before[n])/el, 2) for n in after}, {k: round((a2[k]-b2[k])/el,2) for k in a2})
        for sp in spies: sp.wait()
        t1 = time.monotonic()
        await quiesce(services)
        after2 = {n: cpu_seconds(s.process.pid) for n, s in services.items()}
        n = r.accepted
        print("catch-up s", round(time.monotonic()-t1,1), "cpu ms/app total:", {k: round((after2[k]-before[k])*1000/n, 2) for k in after2}, "sum", round(sum(after2[k]-before[k] for k in after2)*1000/n, 2))
    finally:
        for s in services.values(): s.stop()
        baseline.terminate(); baseline.wait(timeout=30)
        await delete_topics(kafka.bootstrap_servers, kafka.topic_prefix)

if __name__ == "__main__":
    p = argparse.ArgumentParser(); p.add_argument("--seconds", type=float, default=10.0); p.add_argument("--alone", action="store_true"); p.add_argument("--profile", action="append", default=[]); p.add_argument("--nice", action="append", default=[])
    p.add_argument("--env", action="append", default=[])
    asyncio.run(main(p.parse_args()))
