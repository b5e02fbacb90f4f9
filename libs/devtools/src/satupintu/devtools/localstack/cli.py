"""``satupintu-local``: start and stop the whole system on one machine (``make up`` / ``make down``)."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sqlalchemy.engine import make_url

from satupintu.common.kafka_acls import service_user
from satupintu.common.settings import KafkaSettings
from satupintu.common.topics_admin import ensure_topics
from satupintu.contract.topics import all_topic_names, key_topic_names
from satupintu.devtools.localstack import processes
from satupintu.devtools.localstack.jaeger import PROCESS_NAME as JAEGER_PROCESS
from satupintu.devtools.localstack.jaeger import LocalJaeger
from satupintu.devtools.localstack.kafka import LocalKafka
from satupintu.devtools.localstack.keycloak import PROCESS_NAME as KEYCLOAK_PROCESS
from satupintu.devtools.localstack.keycloak import LocalKeycloak
from satupintu.devtools.localstack.paths import run_dir
from satupintu.devtools.localstack.postgres import LocalPostgres
from satupintu.devtools.localstack.secure_kafka import MECHANISM, SecureLocalKafka

SERVICE_PORTS = {
    "intake": 8001,
    "routing": 8002,
    "agency": 8003,
    "notification": 8004,
    "audit": 8005,
    "mall": 8006,
    "payment": 8007,
}
DEFAULT_AGENCIES = ("dpmptsp", "disdukcapil", "imigrasi", "polres", "djp", "bpn", "dinas-pupr", "dlh", "bpjs-kes")


def _installed_services() -> dict[str, Path]:
    scripts = Path(sys.executable).parent
    return {name: scripts / f"satupintu-{name}" for name in SERVICE_PORTS if (scripts / f"satupintu-{name}").is_file()}


def _agency_codes() -> list[str]:
    try:
        from satupintu.common.catalogue import load_catalogue  # noqa: PLC0415 (present once the catalogue exists)
    except ImportError:
        return list(DEFAULT_AGENCIES)
    return sorted(load_catalogue().agency_codes())


def start_infrastructure(secure: bool = False) -> tuple[str, str]:
    """Start (or find) Kafka and PostgreSQL as the selection order says; return bootstrap servers and server URL.
    ``secure``: the local secured broker (SASL/SCRAM, ACLs), whatever ``KAFKA_BOOTSTRAP_SERVERS`` says."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if secure:
        kafka: LocalKafka = SecureLocalKafka()
        started = kafka.start()
        bootstrap = kafka.bootstrap_servers
        print(
            f"Kafka        {bootstrap} ({'started' if started else 'already running'}): SASL_PLAINTEXT with "
            f"{MECHANISM}, StandardAuthorizer; passwords in {SecureLocalKafka().credentials_file}"
        )
    elif not bootstrap:
        kafka = LocalKafka()
        started = kafka.start()
        bootstrap = kafka.bootstrap_servers
        print(f"Kafka        {bootstrap} ({'started' if started else 'already running'})")
    else:
        print(f"Kafka        {bootstrap} (KAFKA_BOOTSTRAP_SERVERS)")
    server_url = os.environ.get("DATABASE_URL")
    if not server_url:
        postgres = LocalPostgres()
        started = postgres.start()
        server_url = postgres.url
        print(f"PostgreSQL   {server_url} ({'started' if started else 'already running'})")
    else:
        print("PostgreSQL   from DATABASE_URL")
    return bootstrap, server_url


def start_keycloak(server_url: str) -> LocalKeycloak:
    """Start (or find) the local Keycloak with its database on ``server_url``'s server; print how to sign in."""
    keycloak = LocalKeycloak(postgres_url=server_url)
    started = keycloak.start()
    print(f"Keycloak     {keycloak.url} ({'started' if started else 'already running'}; {keycloak.summary()})")
    return keycloak


async def prepare(bootstrap: str) -> None:
    """Create every topic and key topic (key topics compacted)."""
    codes = _agency_codes()
    created = await ensure_topics(
        KafkaSettings(bootstrap_servers=bootstrap), [*all_topic_names(codes), *key_topic_names(codes)]
    )
    print(f"Topics       {len(created)} created")


async def prepare_secure(kafka: SecureLocalKafka) -> None:
    """Create every topic and key topic as the administrator, and add every principal's ACLs."""
    created, bindings = await kafka.provision()
    print(
        f"Topics       {len(created)} created; ACLs: {bindings} bindings "
        "for every service, the operators and each agency"
    )


def service_database_url(server_url: str, service: str) -> str:
    """The server URL with the local credentials of ``service``'s own role, which may only read and write rows of
    its database (``satupintu-<service> migrate`` creates it; a laptop's password, as the local keys are)."""
    url = make_url(server_url).set(username=f"satupintu_{service}", password=f"local-development-{service}")
    return url.render_as_string(hide_password=False)


def migrate(services: dict[str, Path], server_url: str) -> None:
    """Run every service's ``satupintu-<service> migrate`` (at once) as the server's user, as a deployment's
    migration job does; stop with its output when one fails."""
    running = {
        name: subprocess.Popen(
            [str(script), "migrate"],
            env={
                **os.environ,
                "DATABASE_OWNER_URL": server_url,
                "DATABASE_URL": service_database_url(server_url, name),
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name, script in services.items()
    }
    failed: list[str] = []
    for name, process in running.items():
        output, _ = process.communicate(timeout=300)
        if process.returncode != 0:
            failed.append(f"satupintu-{name} migrate failed:\n{output}")
    if failed:
        raise SystemExit("\n".join(failed))
    print(f"Migrated     {', '.join(running)} (each service connects as its own role)")


def _wait_ready(name: str, port: int, pid: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}/readyz"
    while time.monotonic() < deadline:
        if not processes.is_alive(pid):
            raise SystemExit(f"{name} exited while starting:\n{processes.log_tail(name)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{name} was not ready within {timeout:.0f}s:\n{processes.log_tail(name)}")


def provider_environment(keycloak: LocalKeycloak) -> dict[str, str]:
    """How the services verify access tokens of the local Keycloak's realm: its issuer, the audience every client's
    tokens carry, its published keys and their algorithm (RS256, pinned)."""
    return {
        "AUTH_ISSUER": keycloak.issuer,
        "AUTH_AUDIENCE": "satupintu",
        "AUTH_JWKS_URL": f"{keycloak.issuer}/protocol/openid-connect/certs",
        "AUTH_ALGORITHMS": '["RS256"]',
    }


def up(secure: bool = False) -> None:
    """Start infrastructure and every installed service, then print where each one answers (and, ``secure``, as
    which Kafka user)."""
    began = time.monotonic()
    bootstrap, server_url = start_infrastructure(secure)
    keycloak = start_keycloak(server_url)
    services = _installed_services()
    migrate(services, server_url)
    secured = SecureLocalKafka() if secure else None
    if secured is not None:
        asyncio.run(prepare_secure(secured))
    else:
        asyncio.run(prepare(bootstrap))
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, **provider_environment(keycloak)}
    env.pop("DATABASE_OWNER_URL", None)
    started: list[tuple[str, int, int, bool]] = []
    for name, script in services.items():
        port = SERVICE_PORTS[name]
        pid = processes.running_pid(name)
        already = pid is not None
        if pid is None:
            service_env = {
                **env,
                **(secured.environment(service_user(name)) if secured is not None else {}),
                "DATABASE_URL": service_database_url(server_url, name),
                f"{name.upper()}_PORT": str(port),
            }
            pid = processes.spawn(name, [str(script)], env=service_env)
        started.append((name, port, pid, already))
    for name, port, pid, already in started:
        _wait_ready(name, port, pid)
        kafka_user = f"  Kafka user {service_user(name)}" if secured is not None else ""
        note = "  (already running: `make down` first to change brokers)" if already else ""
        print(f"{name:<13}http://127.0.0.1:{port}/  (docs: /docs, ready: /readyz){kafka_user}{note}")
    if secured is not None:
        print(
            "Agencies     each agency's systems connect as agency-<code> (a worker: KAFKA_SASL_USERNAME=agency-polres"
            f" with its password from {secured.credentials_file})"
        )
    print(
        f"Tokens       the APIs take the realm's access tokens ({keycloak.issuer}, audience satupintu): "
        "`uv run satupintu-token --user officer-polres` (any local user) or `--agency polres` (an agency's systems)"
    )
    print(
        "Sign in      through Keycloak (password local-<user>): officers at http://127.0.0.1:8003/login "
        "(officer-polres, officer-imigrasi; supervisor-polres also at /desk/supervisor), "
        "counter staff at http://127.0.0.1:8006/staff/login (clerk-mall; counter payments at "
        "http://127.0.0.1:8007/staff/login), "
        "auditors at http://127.0.0.1:8005/audit/ui/login (auditor; the day's payments at "
        "http://127.0.0.1:8007/staff/reconciliation), citizens at http://127.0.0.1:8001/sign-in "
        "(citizen; nobody has to), operators at any service's /operator/dead-letters, e.g. "
        "http://127.0.0.1:8002/operator/dead-letters (operator)"
    )
    print(f"Up in {time.monotonic() - began:.1f}s. Logs in {run_dir() / 'logs'}; stop with `make down`.")


def down() -> None:
    """Stop every service, then Keycloak, Kafka and PostgreSQL, by the process ids this tooling recorded."""
    for name in SERVICE_PORTS:
        if processes.stop(name):
            print(f"stopped {name}")
    if processes.stop(KEYCLOAK_PROCESS, timeout=30.0):
        print("stopped keycloak")
    if LocalJaeger().stop():
        print("stopped jaeger")
    if LocalKafka().stop():
        print("stopped kafka")
    if SecureLocalKafka().stop():
        print("stopped the secured kafka")
    if LocalPostgres().stop():
        print("stopped postgresql")


def clean() -> None:
    """Stop everything and delete the local data (Kafka log and PostgreSQL cluster)."""
    down()
    shutil.rmtree(run_dir(), ignore_errors=True)
    print(f"removed {run_dir()}")


def main() -> None:
    """Console script ``satupintu-local``."""
    parser = argparse.ArgumentParser(prog="satupintu-local", description=__doc__)
    parser.add_argument(
        "command",
        choices=["up", "down", "kafka", "db", "keycloak", "jaeger", "status", "clean"],
        help="up: everything; down: stop everything; kafka/db/keycloak: just that (keycloak: with PostgreSQL); "
        "jaeger: a trace collector and its query API (built once from its Go module); status: what runs; "
        "clean: down and wipe",
    )
    parser.add_argument(
        "--secure",
        action="store_true",
        help="up/kafka: the secured broker (127.0.0.1:9192, SASL/SCRAM-SHA-512, StandardAuthorizer with the ACLs "
        "of satupintu.common.kafka_acls), each service under its own Kafka user",
    )
    arguments = parser.parse_args()
    command = arguments.command
    if command == "up":
        up(arguments.secure)
    elif command == "down":
        down()
    elif command == "clean":
        clean()
    elif command == "kafka":
        kafka = SecureLocalKafka() if arguments.secure else LocalKafka()
        print(f"Kafka {kafka.bootstrap_servers} ({'started' if kafka.start() else 'already running'})")
        if isinstance(kafka, SecureLocalKafka):
            asyncio.run(prepare_secure(kafka))
    elif command == "db":
        postgres = LocalPostgres()
        print(f"PostgreSQL {postgres.url} ({'started' if postgres.start() else 'already running'})")
    elif command == "keycloak":
        server_url = os.environ.get("DATABASE_URL")
        if not server_url:
            postgres = LocalPostgres()
            print(f"PostgreSQL   {postgres.url} ({'started' if postgres.start() else 'already running'})")
            server_url = postgres.url
        start_keycloak(server_url)
    elif command == "jaeger":
        jaeger = LocalJaeger()
        started = jaeger.start()
        print(f"{jaeger.how_to_use()}\n({'started' if started else 'already running'}; stop with `make down`)")
    else:
        for name in ["kafka", "kafka-secure", KEYCLOAK_PROCESS, JAEGER_PROCESS, *SERVICE_PORTS]:
            pid = processes.running_pid(name)
            print(f"{name:<13}{'running, pid ' + str(pid) if pid else 'stopped'}")
        print(f"{'postgresql':<13}{'running' if LocalPostgres().is_running() else 'stopped'}")
