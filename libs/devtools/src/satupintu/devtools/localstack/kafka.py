"""A single-node KRaft Kafka broker (broker and controller in one process) run from Maven Central's jars.

The jars are resolved by Maven from ``deploy/local/kafka/pom.xml``, checked against the pinned SHA-256 sums in
``deploy/local/kafka/jars.sha256`` and cached per user, so only the first run downloads anything.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from satupintu.devtools.localstack import processes
from satupintu.devtools.localstack.paths import cache_dir, deploy_dir, run_dir, sha256_of

PROCESS_NAME = "kafka"
_POM_NAMESPACE = {"pom": "http://maven.apache.org/POM/4.0.0"}


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding, never starting with ``-`` (the storage
    tool would read such an id as an option and refuse to format: one start in 64 failed so), as Kafka's own
    ``Uuid.randomUuid`` avoids."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


class KafkaStartError(RuntimeError):
    """The local broker could not be fetched or started; the message says why and shows its log."""


def kafka_version() -> str:
    """The Kafka version pinned in the POM."""
    root = ElementTree.parse(deploy_dir() / "kafka" / "pom.xml").getroot()  # noqa: S314 (our own file)
    version = root.findtext("pom:properties/pom:kafka.version", namespaces=_POM_NAMESPACE)
    if not version:
        raise KafkaStartError("deploy/local/kafka/pom.xml does not pin kafka.version")
    return version


def pinned_checksums() -> dict[str, str]:
    """Jar file name → expected SHA-256, from ``jars.sha256``."""
    sums: dict[str, str] = {}
    for line in (deploy_dir() / "kafka" / "jars.sha256").read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.strip().lstrip("*")] = digest
    return sums


def verify_jars(directory: Path) -> list[str]:
    """Problems with the jars in ``directory`` compared with the pinned sums; empty when all match."""
    expected = pinned_checksums()
    present = {path.name for path in directory.glob("*.jar")} if directory.is_dir() else set()
    problems = [f"missing {name}" for name in sorted(expected.keys() - present)]
    problems += [f"unexpected {name}" for name in sorted(present - expected.keys())]
    problems += [
        f"checksum mismatch for {name}"
        for name in sorted(expected.keys() & present)
        if sha256_of(directory / name) != expected[name]
    ]
    return problems


def ensure_jars() -> Path:
    """The directory holding the verified broker jars, downloading them through Maven the first time."""
    libs = cache_dir() / f"kafka-{kafka_version()}" / "libs"
    if not verify_jars(libs):
        return libs
    staging = libs.with_name("libs.partial")
    shutil.rmtree(staging, ignore_errors=True)
    print(f"Fetching Apache Kafka {kafka_version()} from Maven Central into {libs.parent} ...", flush=True)
    command = [
        "mvn",
        "--batch-mode",
        "--strict-checksums",
        "-f",
        str(deploy_dir() / "kafka" / "pom.xml"),
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={staging}",
    ]
    result = subprocess.run(command, check=False, stdout=sys.stdout, stderr=sys.stderr)
    if result.returncode != 0:
        raise KafkaStartError(f"Maven could not fetch the Kafka jars (exit {result.returncode})")
    problems = verify_jars(staging)
    if problems:
        raise KafkaStartError("downloaded Kafka jars do not match jars.sha256: " + "; ".join(problems))
    shutil.rmtree(libs, ignore_errors=True)
    staging.rename(libs)
    print(f"Kafka jars verified ({len(pinned_checksums())} files).", flush=True)
    return libs


async def _broker_answers(bootstrap_servers: str, client_options: Mapping[str, Any] | None = None) -> bool:
    from aiokafka.admin import AIOKafkaAdminClient  # noqa: PLC0415 (keeps the CLI's start-up light)

    aiokafka_logger = logging.getLogger("aiokafka")
    previous_level = aiokafka_logger.level
    aiokafka_logger.setLevel(logging.CRITICAL)  # "connection refused" is the expected answer while starting
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=2000, **(client_options or {}))
    try:
        await admin.start()
        await admin.describe_cluster()
    except Exception:  # any failure means "not answering yet"
        return False
    finally:
        await admin.close()
        aiokafka_logger.setLevel(previous_level)
    return True


def broker_answers(bootstrap_servers: str, client_options: Mapping[str, Any] | None = None) -> bool:
    """Whether a broker at ``bootstrap_servers`` answers a metadata request (of a client with ``client_options``,
    aiokafka's security arguments, where the broker authenticates its clients)."""
    return asyncio.run(_broker_answers(bootstrap_servers, client_options))


@dataclass(frozen=True)
class LocalKafka:
    """The local broker: where it listens, where it keeps its log, and under which name its process runs."""

    host: str = "127.0.0.1"
    port: int = 9092
    controller_port: int = 9093
    heap: str = "768m"
    name: str = PROCESS_NAME
    """The background process's name (its pid and log files) and its directory in the run directory."""

    @property
    def bootstrap_servers(self) -> str:
        """The bootstrap address clients connect to."""
        return f"{self.host}:{self.port}"

    @property
    def config_dir(self) -> Path:
        """The broker's directory in the run directory: its configuration, log directory and logs."""
        return run_dir() / self.name

    @property
    def data_dir(self) -> Path:
        """The KRaft log directory."""
        return self.config_dir / "data"

    def client_options(self) -> dict[str, Any]:
        """The security arguments of the tooling's own aiokafka clients (none: the plaintext broker lets anyone in)."""
        return {}

    def server_properties(self) -> str:
        """The broker's configuration: one combined broker+controller node, replication factor 1."""
        template = (deploy_dir() / "kafka" / "server.properties").read_text()
        return template.format(
            host=self.host,
            port=self.port,
            controller_port=self.controller_port,
            log_dirs=self.data_dir,
            protocol="PLAINTEXT",
            controller_protocol="PLAINTEXT",
        )

    def format_arguments(self) -> list[str]:
        """Arguments ``StorageTool format`` gets besides the cluster id and the configuration."""
        return ["--standalone"]

    def answers(self) -> bool:
        """Whether this broker answers the tooling's metadata request."""
        return broker_answers(self.bootstrap_servers, self.client_options())

    def start(self, timeout: float = 90.0) -> bool:
        """Start the broker unless one already answers; wait until it answers. True if this call started it."""
        if self.answers():
            return False
        libs = ensure_jars()
        self.config_dir.mkdir(parents=True, exist_ok=True)
        properties = self.config_dir / "server.properties"
        properties.touch(mode=0o600)  # the secured broker's holds the administrator's password
        properties.chmod(0o600)
        properties.write_text(self.server_properties())
        java = self.java_command(libs)
        if not (self.data_dir / "meta.properties").is_file():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            cluster_id = new_cluster_id()
            storage_tool = [*java, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(properties)]
            formatting = subprocess.run(
                [*storage_tool, *self.format_arguments()],
                check=False,
                capture_output=True,
                text=True,
            )
            if formatting.returncode != 0:
                raise KafkaStartError(
                    f"formatting the KRaft log directory failed:\n{formatting.stdout}{formatting.stderr}"
                )
        pid = processes.spawn(self.name, [*java, "kafka.Kafka", str(properties)], env=dict(os.environ))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not processes.is_alive(pid):
                raise KafkaStartError(f"the broker exited while starting:\n{processes.log_tail(self.name)}")
            if self.answers():
                return True
            time.sleep(0.5)
        processes.stop(self.name)
        raise KafkaStartError(f"the broker did not answer within {timeout:.0f}s:\n{processes.log_tail(self.name)}")

    def java_command(self, libs: Path, heap: str | None = None) -> list[str]:
        """``java`` with the broker's jars on the class path and its logging set up, before the main class."""
        heap = heap or self.heap
        return [
            "java",
            f"-Xms{heap}",
            f"-Xmx{heap}",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={deploy_dir() / 'kafka' / 'log4j2.yaml'}",
            f"-Dkafka.logs.dir={self.config_dir / 'logs'}",
            "-cp",
            f"{libs}/*",
        ]

    def stop(self) -> bool:
        """Stop the broker this tooling started; True if one was running."""
        return processes.stop(self.name, timeout=30.0)
