"""Shared helpers of the deployment checks: where the repository and its deployment tools are, the Compose CLI,
the secrets an installation generates (once per test session, in a directory of its own), and which environment
variables the services' settings read."""

from __future__ import annotations

import atexit
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from opentelemetry.sdk.environment_variables import OTEL_EXPORTER_OTLP_ENDPOINT
from pydantic_settings import BaseSettings

from satupintu.common import install_secrets
from satupintu.common.oidc.settings import OidcSettings
from satupintu.common.settings import AuthSettings, DatabaseSettings, KafkaSettings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
TOOLS = DEPLOY / "tools"
COMPOSE_FILE = DEPLOY / "docker-compose.yml"
CLUSTER_ENV = DEPLOY / "docker" / "cluster.env"
SERVICES = ("intake", "routing", "agency", "notification", "audit", "mall", "payment")
PORTS = dict(zip(SERVICES, range(8001, 8008), strict=True))


@cache
def generated_secrets() -> Path:
    """The output of ``satupintu-secrets`` (``make secrets``) for this test session: ``compose/``, ``kubernetes/``
    and the token signing key, in a temporary directory removed at exit."""
    directory = Path(tempfile.mkdtemp(prefix="satupintu-secrets-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    install_secrets.generate(directory)
    return directory


def compose_environment() -> dict[str, str]:
    """The environment Compose runs in: this process's, with ``SATUPINTU_SECRETS_DIR`` at the session's secrets."""
    return {**os.environ, "SATUPINTU_SECRETS_DIR": str(generated_secrets() / "compose")}


def tool(name: str) -> ModuleType:
    """A module of deploy/tools/ (they import their siblings by name, as scripts do)."""
    if str(TOOLS) not in sys.path:
        sys.path.insert(0, str(TOOLS))
    return importlib.import_module(name)


# The client security settings the Kubernetes manifests set for Strimzi's TLS + SCRAM listener. The deployment
# tools read them (deploy/tools/kafka_client.py); KafkaSettings does not have them yet, so until it does the
# services ignore them. Remove a name from here once KafkaSettings reads it.
AWAITING_KAFKA_SECURITY_SETTINGS: frozenset[str] = frozenset()  # every Kafka setting the manifests use is read

SIGN_IN_SERVICES = frozenset(install_secrets.OIDC_CLIENTS)


def _names(prefix: str, settings: type[BaseSettings]) -> set[str]:
    return {
        field.validation_alias if isinstance(field.validation_alias, str) else f"{prefix}{name.upper()}"
        for name, field in settings.model_fields.items()
    }


# What the deployments set for OpenTelemetry's exporter, which reads it itself (OTEL_TRACES_EXPORTER is a setting).
EXPORTER_SETTINGS: frozenset[str] = frozenset({OTEL_EXPORTER_OTLP_ENDPOINT})

# The sign-in settings (satupintu.common.oidc) the deployments give the services that sign people in.
OIDC_SETTINGS: frozenset[str] = frozenset(_names("OIDC_", OidcSettings))


def known_environment(service: str) -> set[str]:
    """Every environment variable ``service``'s settings read: its own prefix, Kafka, database and auth, and the
    trace exporter's."""
    module = importlib.import_module(f"satupintu.{service}.config")
    own: type[BaseSettings] = getattr(module, f"{service.capitalize()}Settings")
    nested = {"kafka", "database", "auth"}
    return (
        {
            name
            for name in _names(f"{service.upper()}_", own)
            if name.removeprefix(f"{service.upper()}_").lower() not in nested
        }
        | _names("KAFKA_", KafkaSettings)
        | _names("DATABASE_", DatabaseSettings)
        | _names("AUTH_", AuthSettings)
        | AWAITING_KAFKA_SECURITY_SETTINGS
        | EXPORTER_SETTINGS
        | (OIDC_SETTINGS if service in SIGN_IN_SERVICES else frozenset())
    )


INSTALL_TOOLS = TOOLS / "install-tools.sh"
INSTALL_WAIT = 1800.0
"""How long a check waits for the tools' installation: a cold build of Compose (and kustomize) takes minutes."""
_installing: list[subprocess.Popen[bytes]] = []


def start_installing_tools(log: Path) -> None:
    """Run ``install-tools.sh`` (the Compose plugin; kustomize where kubectl is missing) in the background, at a low
    priority, while the tests before the deployment checks run; it returns at once when they are installed. The
    checks that need them wait for it (:func:`tools_installed`)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as output:
        _installing.append(
            subprocess.Popen(
                ["nice", "-n", "10", "bash", str(INSTALL_TOOLS)],
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )


def stop_installing_tools() -> None:
    """Stop an installation still running when the session ends (its checks deselected or interrupted)."""
    for process in _installing:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait()


def tools_installed() -> None:
    """Wait for the background installation, if this session started one; a failed one fails the check with its
    log's end (run ``make deploy-tools`` to see it all)."""
    for process in _installing:
        try:
            returncode = process.wait(timeout=INSTALL_WAIT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"install-tools.sh did not finish within {INSTALL_WAIT:.0f}s")
        if returncode != 0:
            pytest.fail(f"install-tools.sh failed ({returncode}); run `make deploy-tools` to see why")


def compose_command() -> list[str]:
    """``docker compose`` where the CLI has the plugin, else the plugin binary on its own."""
    if (
        shutil.which("docker")
        and subprocess.run(["docker", "compose", "version"], capture_output=True, check=False).returncode == 0
    ):
        return ["docker", "compose"]
    plugin = Path(os.environ.get("DOCKER_CONFIG", Path.home() / ".docker")) / "cli-plugins" / "docker-compose"
    if plugin.is_file():
        return [str(plugin)]
    pytest.fail("Docker Compose is not installed: run `bash deploy/tools/install-tools.sh` (make test does)")


def compose_config(
    *arguments: str, compose_file: Path = COMPOSE_FILE, environment: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``docker compose config`` as JSON, with the session's generated secrets unless ``environment`` says else."""
    return subprocess.run(
        [*compose_command(), "-f", str(compose_file), *arguments, "config", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
        env=environment if environment is not None else compose_environment(),
    )


@cache
def compose_project(cluster: bool = False) -> dict[str, Any]:
    """The Compose project as Compose resolves it (env files read, anchors merged), one broker or the cluster."""
    result = compose_config(*(["--env-file", str(CLUSTER_ENV)] if cluster else []))
    assert result.returncode == 0, result.stderr
    project: dict[str, Any] = json.loads(result.stdout)
    return project
