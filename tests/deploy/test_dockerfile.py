"""The one Dockerfile builds any service: what it copies and runs is checked here without a Docker engine, and
its `uv sync` step is run for each service into a scratch virtualenv that must import the service's app."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.support import DEPLOY, ROOT, SERVICES

pytestmark = pytest.mark.unit

DOCKERFILE = DEPLOY / "docker" / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (keyword, arguments), continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for keyword, arguments in instructions():
        if keyword == "FROM":
            result.append([])
        if result:
            result[-1].append((keyword, arguments))
    return result


def test_the_runtime_stage_is_slim_python_311_run_by_an_unprivileged_user() -> None:
    runtime = stages()[-1]
    assert runtime[0] == ("FROM", "${PYTHON_IMAGE} AS runtime")
    assert ("ARG", "PYTHON_IMAGE=python:3.11-slim-bookworm") in instructions()
    users = [arguments for keyword, arguments in runtime if keyword == "USER"]
    assert users
    assert users[-1].split(":")[0] not in {"0", "root"}
    copies = [arguments for keyword, arguments in runtime if keyword == "COPY"]
    assert copies == ["--from=build /app/.venv /app/.venv"], "the runtime gets the virtualenv and nothing else"
    assert runtime[-1] == ("CMD", '["satupintu-service"]')


def test_the_build_installs_only_the_chosen_service_from_the_lock_without_dev_tools() -> None:
    build = next(stage for stage in stages() if stage[0][1].endswith("AS build"))
    syncs = [arguments for keyword, arguments in build if keyword == "RUN" and "uv sync" in arguments]
    assert len(syncs) == 2
    for sync in syncs:
        assert "--frozen" in sync
        assert "--no-dev" in sync
        assert '--package "satupintu-${SERVICE}"' in sync
    assert "--no-editable" in syncs[-1]
    assert any(keyword == "COPY" and arguments.startswith("--from=uv /uv ") for keyword, arguments in build)


def test_every_workspace_member_manifest_is_copied_before_the_dependency_layer() -> None:
    members = sorted(path.parent.relative_to(ROOT) for path in ROOT.glob("*/*/pyproject.toml"))
    members = [m for m in members if m.parts[0] in {"libs", "services"}]
    copies = [arguments for keyword, arguments in instructions() if keyword == "COPY"]
    for member in members:
        assert f"{member}/pyproject.toml {member}/" in copies, f"Dockerfile must COPY {member}/pyproject.toml"
    assert {m.name for m in members if m.parts[0] == "services"} == set(SERVICES)


@pytest.fixture(scope="module")
def build_context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the image build sees: the lock, the manifests and the members' sources, without tests."""
    context = tmp_path_factory.mktemp("context")
    for name in ("uv.lock", "pyproject.toml"):
        shutil.copy2(ROOT / name, context / name)
    ignore = shutil.ignore_patterns("tests", "__pycache__", "*.pyc", ".mypy_cache", ".pytest_cache", ".ruff_cache")
    for directory in ("libs", "services"):
        shutil.copytree(ROOT / directory, context / directory, ignore=ignore)
    return context


@pytest.mark.parametrize("service", SERVICES)
def test_the_image_build_step_gives_each_service_its_console_script_and_importable_app(
    service: str, build_context: Path, tmp_path: Path
) -> None:
    uv = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    environment = os.environ | {"UV_PROJECT_ENVIRONMENT": str(tmp_path / "venv"), "UV_PYTHON_DOWNLOADS": "never"}
    environment.pop("VIRTUAL_ENV", None)
    subprocess.run(
        [
            uv,
            "sync",
            "--frozen",
            "--offline",
            "--no-dev",
            "--no-editable",
            "--quiet",
            "--package",
            f"satupintu-{service}",
        ],
        cwd=build_context,
        env=environment,
        check=True,
        timeout=300,
    )
    bin_dir = tmp_path / "venv" / "bin"
    assert (bin_dir / f"satupintu-{service}").is_file()
    others = [other for other in SERVICES if other != service and (bin_dir / f"satupintu-{other}").exists()]
    assert others == [], "an image carries one service"
    subprocess.run(
        [str(bin_dir / "python"), "-c", f"import satupintu.{service}.main as m; assert callable(m.create_app)"],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
        check=True,
        timeout=120,
    )
