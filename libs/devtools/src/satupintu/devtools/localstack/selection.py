"""Which Kafka and PostgreSQL to use: an explicit address, else containers when a Docker engine answers, else the
local broker and the embedded server. The same order serves ``make up`` and the test fixtures.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from satupintu.devtools.localstack import processes
from satupintu.devtools.localstack.kafka import LocalKafka
from satupintu.devtools.localstack.postgres import LocalPostgres


@dataclass
class Endpoint:
    """An address to use, where it came from, and how to release it afterwards."""

    address: str
    origin: str
    release: Callable[[], object] = field(default=lambda: None)


def docker_answers() -> bool:
    """Whether a Docker engine answers a ping (never true on machines without one)."""
    if not (os.environ.get("DOCKER_HOST") or os.path.exists("/var/run/docker.sock")):
        return False
    try:
        import docker  # noqa: PLC0415 (only needed when an engine may exist)

        client = docker.from_env(timeout=3)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def select_kafka() -> Endpoint:
    """Kafka bootstrap servers per the selection order; ``release`` stops what this call started."""
    explicit = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if explicit:
        return Endpoint(explicit, "KAFKA_BOOTSTRAP_SERVERS")
    if docker_answers():
        from testcontainers.kafka import KafkaContainer  # noqa: PLC0415

        container = KafkaContainer().with_kraft()
        container.start()
        return Endpoint(container.get_bootstrap_server(), "testcontainers", container.stop)
    kafka = LocalKafka()
    with processes.one_starter(kafka.name):
        kafka.start()
    # Left running (like the database): other test sessions may share it; `make down` stops it.
    return Endpoint(kafka.bootstrap_servers, "local broker")


def select_postgres() -> Endpoint:
    """PostgreSQL server URL per the selection order; ``release`` stops what this call started."""
    explicit = os.environ.get("DATABASE_URL")
    if explicit:
        return Endpoint(explicit, "DATABASE_URL")
    if docker_answers():
        from testcontainers.postgres import PostgresContainer  # noqa: PLC0415

        container = PostgresContainer("postgres:17", driver=None)
        container.start()
        return Endpoint(container.get_connection_url(), "testcontainers", container.stop)
    postgres = LocalPostgres()
    with processes.one_starter("postgres"):
        postgres.start()
    return Endpoint(postgres.url, "embedded-postgres")
