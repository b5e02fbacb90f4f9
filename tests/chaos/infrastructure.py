"""A broker and a PostgreSQL server of the chaos tests' own, on free ports with their own run directory, so the
outage drills can stop them without touching the shared local stack (127.0.0.1:9092 and :55432) other sessions use.

Each start and stop runs ``satupintu.devtools.localstack`` in a child Python process whose ``SATUPINTU_RUN_DIR`` is
the dedicated directory: data, logs and pid files (``pids/kafka.pid``) live there and nowhere else.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from satupintu.devtools.testing.browser import free_port

_CONTROL = """
import sys
from satupintu.devtools.localstack.kafka import LocalKafka
from satupintu.devtools.localstack.postgres import LocalPostgres

kind, action, port, controller_port = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if kind == "kafka":
    server = LocalKafka(port=port, controller_port=controller_port, heap="512m")
else:
    server = LocalPostgres(port=port, max_connections=200)
done = server.start() if action == "start" else server.stop()
print("changed" if done else "unchanged")
"""


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    with socket.socket() as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((host, port)) == 0


@dataclass
class DedicatedServer:
    """One server (``kafka`` or ``postgres``) of the chaos tests, started and stopped by process id."""

    kind: str
    run_dir: Path
    port: int
    controller_port: int = 0

    @classmethod
    def create(cls, kind: str, run_dir: Path) -> DedicatedServer:
        """A server on free ports (not started)."""
        return cls(kind, run_dir, free_port(), free_port() if kind == "kafka" else 0)

    @property
    def address(self) -> str:
        """Bootstrap servers (Kafka) or the server URL (PostgreSQL)."""
        if self.kind == "kafka":
            return f"127.0.0.1:{self.port}"
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    async def start(self) -> None:
        """Start the server and wait until it answers."""
        await self._control("start")
        assert port_open(self.port), f"{self.kind} on {self.port} does not accept connections after starting"

    async def stop(self) -> None:
        """Stop the server (TERM, then KILL) and wait until its port refuses connections."""
        await self._control("stop")

    def is_down(self) -> bool:
        """Whether the server's port refuses connections."""
        return not port_open(self.port)

    async def _control(self, action: str) -> None:
        env = {**os.environ, "SATUPINTU_RUN_DIR": str(self.run_dir)}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _CONTROL,
            self.kind,
            action,
            str(self.port),
            str(self.controller_port),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await process.communicate()
        if process.returncode != 0:
            raise AssertionError(f"{action} {self.kind} on {self.port} failed:\n{output.decode(errors='replace')}")


@dataclass
class DedicatedStack:
    """A broker and a database server in ``run_dir``, for drills that stop them."""

    run_dir: Path
    kafka: DedicatedServer
    postgres: DedicatedServer

    @classmethod
    def create(cls, run_dir: Path) -> DedicatedStack:
        """Both servers on free ports in ``run_dir`` (not started)."""
        run_dir.mkdir(parents=True, exist_ok=True)
        return cls(run_dir, DedicatedServer.create("kafka", run_dir), DedicatedServer.create("postgres", run_dir))

    async def start(self) -> None:
        """Start both servers."""
        await asyncio.gather(self.kafka.start(), self.postgres.start())

    async def remove(self) -> None:
        """Stop both servers and delete their data."""
        try:
            await asyncio.gather(self.kafka.stop(), self.postgres.stop())
        finally:
            shutil.rmtree(self.run_dir, ignore_errors=True)
