"""The one Dockerfile as the deployment checks read it: its instructions by stage, what its runtime stage sets (the
environment, the working directory, the `satupintu-service` link the command runs), and its `uv sync` step run
on this host into a scratch virtualenv."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

from tests.deploy.support import DEPLOY, ROOT

DOCKERFILE = DEPLOY / "docker" / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (keyword, arguments), continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def stages() -> list[list[tuple[str, str]]]:
    """The instructions of each stage, its FROM first."""
    result: list[list[tuple[str, str]]] = []
    for keyword, arguments in instructions():
        if keyword == "FROM":
            result.append([])
        if result:
            result[-1].append((keyword, arguments))
    return result


def runtime_stage() -> list[tuple[str, str]]:
    """The stage the image is made of (the last)."""
    return stages()[-1]


def build_stage() -> list[tuple[str, str]]:
    """The stage that makes the virtualenv."""
    [stage] = [stage for stage in stages() if stage[0][1].endswith("AS build")]
    return stage


def environment(stage: list[tuple[str, str]]) -> dict[str, str]:
    """What a stage's ENV instructions set, as written (``$PATH`` unexpanded)."""
    result: dict[str, str] = {}
    for keyword, arguments in stage:
        if keyword == "ENV":
            result |= dict(word.split("=", 1) for word in shlex.split(arguments))
    return result


def runtime_environment() -> dict[str, str]:
    """What the runtime stage's ENV instructions set."""
    return environment(runtime_stage())


def runtime_workdir() -> str:
    """The directory the container's command starts in."""
    return [arguments for keyword, arguments in runtime_stage() if keyword == "WORKDIR"][-1]


def runtime_directories() -> list[str]:
    """The directories the runtime stage makes (``install -d``)."""
    return [
        word
        for keyword, arguments in runtime_stage()
        if keyword == "RUN"
        for step in arguments.split("&&")
        if step.strip().startswith("install -d")
        for word in shlex.split(step)
        if word.startswith("/")
    ]


def command() -> list[str]:
    """The image's CMD."""
    [cmd] = [arguments for keyword, arguments in runtime_stage() if keyword == "CMD"]
    words: list[str] = shlex.split(cmd.strip("[]").replace(",", " "))
    return words


def command_link(service: str) -> tuple[str, str]:
    """The symbolic link that makes the CMD's program the service's console script: (target, link), in the image."""
    links = [
        re.fullmatch(r'ln -s "?([^"\s]+)"? (\S+)', arguments.removeprefix("RUN ").strip())
        for keyword, arguments in runtime_stage()
        if keyword == "RUN" and arguments.startswith("ln -s ")
    ]
    [link] = [match for match in links if match]
    return link.group(1).replace("${SERVICE}", service), link.group(2)


def build_context(destination: Path) -> Path:
    """What the image build sees: the lock, the manifests and the members' sources, without tests."""
    for name in ("uv.lock", "pyproject.toml"):
        shutil.copy2(ROOT / name, destination / name)
    ignore = shutil.ignore_patterns("tests", "__pycache__", "*.pyc", ".mypy_cache", ".pytest_cache", ".ruff_cache")
    for directory in ("libs", "services"):
        shutil.copytree(ROOT / directory, destination / directory, ignore=ignore)
    return destination


def build_venv(context: Path, venv: Path, service: str) -> Path:
    """The build stage's last `uv sync` (locked, no dev tools, nothing editable, one service) with the stage's uv
    settings (bytecode compiled, files copied), into ``venv`` instead of /app/.venv, with the stage's Python as
    found on this host (not at the image's path), offline from this machine's uv cache; returns ``venv``."""
    uv = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    stage = environment(build_stage())
    python = Path(stage["UV_PYTHON"]).name  # python3.11, found on this host
    settings = os.environ | stage | {"UV_PROJECT_ENVIRONMENT": str(venv), "UV_PYTHON": python}
    settings.pop("VIRTUAL_ENV", None)
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
        cwd=context,
        env=settings,
        check=True,
        timeout=300,
    )
    return venv
