"""Jaeger, for an operator who wants to browse the services' traces on one machine: Jaeger v2 (``cmd/jaeger``)
built from its Go module, pinned with every dependency's checksum by ``deploy/local/jaeger/go.mod`` and ``go.sum``,
fetched through the Go module proxy and built once per version into the user's cache. It runs with
``deploy/local/jaeger/config.yaml``: OTLP in on 4317 (gRPC) and 4318 (HTTP), spans in memory, the query API on
16686. A module build embeds no web UI (Jaeger's release build adds it); the query API is what works.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from satupintu.devtools.localstack import processes
from satupintu.devtools.localstack.paths import cache_dir, deploy_dir

PROCESS_NAME = "jaeger"
MODULE = "github.com/jaegertracing/jaeger"
PACKAGE = f"{MODULE}/cmd/jaeger"


class JaegerStartError(RuntimeError):
    """Jaeger could not be built or started; the message says why."""


def module_dir() -> Path:
    """``deploy/local/jaeger``: the Go module that pins Jaeger, and its configuration."""
    return deploy_dir() / "jaeger"


def jaeger_version() -> str:
    """The Jaeger version ``go.mod`` requires."""
    go_mod = (module_dir() / "go.mod").read_text()
    required = re.search(rf"^\s*(?:require\s+)?{re.escape(MODULE)}\s+(v\S+)", go_mod, re.MULTILINE)
    if required is None:
        raise JaegerStartError(f"deploy/local/jaeger/go.mod does not require {MODULE}")
    return required.group(1)


def binary_path() -> Path:
    """Where the built binary of the pinned version is cached."""
    return cache_dir() / f"jaeger-{jaeger_version()}" / "jaeger"


def ensure_binary() -> Path:
    """The cached Jaeger binary, built from the pinned module the first time (a few minutes on two cores)."""
    binary = binary_path()
    if binary.is_file() and os.access(binary, os.X_OK):
        return binary
    if shutil.which("go") is None:
        raise JaegerStartError("building Jaeger needs Go (1.24 or newer) on PATH: `apt-get install golang-go`")
    binary.parent.mkdir(parents=True, exist_ok=True)
    staging = binary.with_name("jaeger.partial")
    print(f"Building Jaeger {jaeger_version()} from its Go module into {binary.parent} (once) ...", flush=True)
    began = time.monotonic()
    result = subprocess.run(
        ["go", "build", "-trimpath", "-o", str(staging), PACKAGE],
        cwd=module_dir(),
        env={**os.environ, "GOFLAGS": "-mod=readonly", "GOTOOLCHAIN": "local"},
        check=False,
        stdout=sys.stdout,
        stderr=sys.stderr,
    )
    if result.returncode != 0:
        staging.unlink(missing_ok=True)
        raise JaegerStartError(f"`go build {PACKAGE}` failed (exit {result.returncode}); its output is above")
    staging.rename(binary)
    print(f"Jaeger built in {time.monotonic() - began:.0f}s.", flush=True)
    return binary


@dataclass(frozen=True)
class LocalJaeger:
    """The local Jaeger: where it listens for spans and answers queries."""

    host: str = "127.0.0.1"
    otlp_grpc_port: int = 4317
    otlp_http_port: int = 4318
    query_port: int = 16686
    name: str = PROCESS_NAME

    @property
    def otlp_endpoint(self) -> str:
        """What the services' ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set to (OTLP over HTTP)."""
        return f"http://{self.host}:{self.otlp_http_port}"

    @property
    def query_url(self) -> str:
        """The query API's base URL."""
        return f"http://{self.host}:{self.query_port}"

    def answers(self) -> bool:
        """Whether the query API answers."""
        try:
            with urllib.request.urlopen(f"{self.query_url}/api/services", timeout=2) as answer:  # noqa: S310 (ours)
                return bool(answer.status == 200)
        except OSError:
            return False

    def start(self, timeout: float = 60.0) -> bool:
        """Start Jaeger unless its query API already answers; wait until it does. True if this call started it."""
        if self.answers():
            return False
        binary = ensure_binary()
        command = [str(binary), "--config", str(module_dir() / "config.yaml")]
        pid = processes.spawn(self.name, command, env={**os.environ, "JAEGER_LISTEN_HOST": self.host})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not processes.is_alive(pid):
                raise JaegerStartError(f"Jaeger exited while starting:\n{processes.log_tail(self.name)}")
            if self.answers():
                return True
            time.sleep(0.3)
        processes.stop(self.name)
        raise JaegerStartError(f"Jaeger did not answer within {timeout:.0f}s:\n{processes.log_tail(self.name)}")

    def stop(self) -> bool:
        """Stop the Jaeger this tooling started; True if one was running."""
        return processes.stop(self.name)

    def how_to_use(self) -> str:
        """What to tell an operator: how to send the services' spans here and how to read them back."""
        return "\n".join(
            [
                f"Jaeger       OTLP in at {self.otlp_endpoint} (HTTP) and {self.host}:{self.otlp_grpc_port} (gRPC); "
                "spans kept in memory until it stops",
                f"Send spans   OTEL_TRACES_EXPORTER=otlp OTEL_EXPORTER_OTLP_ENDPOINT={self.otlp_endpoint} "
                "(then `make up`, or `make down && make up` if the services already run)",
                f"Query        curl '{self.query_url}/api/services'; "
                f"curl '{self.query_url}/api/traces?service=satupintu-intake&limit=20'; "
                f"curl '{self.query_url}/api/traces/<trace id>'",
                "No web UI    a build from the Go module has none (its page is a placeholder); the query API answers",
            ]
        )
