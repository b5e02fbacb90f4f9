"""Running services as real processes in tests, so a crash is a real crash (``kill -9`` or a fault point that
ends the process)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.devtools.testing.browser import free_port
from satupintu.devtools.testing.waiting import eventually


class ManagedProcess:
    """A process a test starts and may kill: what every kind shares."""

    process: subprocess.Popen[bytes] | None
    log_path: Path

    def kill(self) -> None:
        """``kill -9``: no goodbye, no offsets committed, no leave-group."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def terminate(self) -> None:
        """Ask the process to stop (SIGTERM; SIGCONT first, should a drill have frozen it) without waiting, so
        several processes can shut down at once."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()

    def stop(self) -> None:
        """Ask the process to stop and wait."""
        self.terminate()
        self.wait_stopped()

    def wait_stopped(self) -> None:
        """Wait for a process asked to stop; kill it after 30 seconds."""
        if self.process is not None:
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    async def exited(self, timeout: float = 60.0) -> int:
        """Wait for the process to end by itself and return its exit code."""

        async def code() -> int | None:
            assert self.process is not None
            return self.process.poll()

        what = f"{self.log_path.stem} exit"
        result = await eventually(code, lambda value: value is not None, timeout=timeout, what=what)
        assert result is not None
        return result

    def log_tail(self, lines: int = 30) -> str:
        """The last lines the process wrote."""
        if not self.log_path.is_file():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class ServiceProcess(ManagedProcess):
    """One service process on this session's broker and database."""

    def __init__(
        self,
        service: str,
        kafka: KafkaSettings,
        database: DatabaseSettings,
        log_dir: Path,
        *,
        faults: str = "",
        extra_env: dict[str, str] | None = None,
        label: str = "",
    ) -> None:
        self.service = service
        self.port = free_port()
        self.log_path = log_dir / f"{service}{label}-{self.port}.log"
        self._env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
            "KAFKA_TOPIC_PREFIX": kafka.topic_prefix,
            "KAFKA_PARTITIONS": str(kafka.partitions),
            "DATABASE_URL": database.url,
            "DATABASE_NAME_PREFIX": database.name_prefix,
            f"{service.upper()}_PORT": str(self.port),
            "SATUPINTU_FAULTS": faults,
            **(extra_env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ServiceProcess:
        """Start the process (its console script from this virtual environment)."""
        script = Path(sys.executable).parent / f"satupintu-{self.service}"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen([str(script)], env=self._env, stdout=log, stderr=subprocess.STDOUT)
        return self

    async def ready(self, timeout: float = 60.0) -> None:
        """Wait until ``/readyz`` answers 200."""

        async def answers() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"{self.service} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                return (await client.get(f"http://127.0.0.1:{self.port}/readyz", timeout=2)).status_code == 200
            except httpx.HTTPError:
                return False

        # One client for the whole wait: a new one per poll builds a TLS context each time, CPU the starting
        # service needs.
        async with httpx.AsyncClient() as client:
            await eventually(answers, timeout=timeout, what=f"{self.service} ready")
