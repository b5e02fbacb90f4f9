"""Programs the local tooling builds from a Go module at a pinned version, with the machine's Go through the Go module
proxy (its own ``GOPROXY``), once per version into the per-user cache (``~/.cache/satupintu/<name>-<version>/``) and
reused from there. ``go install <package>@<version>`` writes into a scratch directory beside the target, which is
renamed into place: a build cut short leaves no half-written program, and a file lock makes a second build of the
same version wait for the first and reuse it."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from satupintu.devtools.localstack.paths import cache_dir
from satupintu.devtools.localstack.processes import exclusively


class GoBuildFailed(RuntimeError):
    """``go install`` failed (no Go, the proxy unreachable, a compile error); the message ends with its output."""


@dataclass(frozen=True)
class GoProgram:
    """A ``main`` package of a Go module at a pinned version, built as one static binary."""

    name: str
    package: str
    version: str
    ldflags: str = "-s -w"
    tags: str = ""
    """Build tags (``go build -tags``), e.g. to leave out parts of the module the tooling does not use."""

    @property
    def directory(self) -> Path:
        """Where this version is kept: ``<cache>/<name>-<version>/``."""
        return cache_dir() / f"{self.name}-{self.version}"

    @property
    def path(self) -> Path:
        """The built program."""
        return self.directory / self.name

    @property
    def build_log(self) -> Path:
        """Where a build in the background writes its output."""
        return cache_dir() / f"{self.name}-{self.version}.build.log"


def go_command() -> str:
    """The machine's ``go`` (on ``PATH``, else ``/usr/local/go/bin/go``)."""
    found = shutil.which("go") or ("/usr/local/go/bin/go" if os.access("/usr/local/go/bin/go", os.X_OK) else None)
    if found is None:
        raise GoBuildFailed("Go is needed to build the pinned tools: none on PATH or at /usr/local/go/bin/go")
    return found


def ensure_built(program: GoProgram) -> Path:
    """``program``'s path, building it first if this version is not in the cache yet."""
    if program.path.is_file():
        return program.path
    program.directory.parent.mkdir(parents=True, exist_ok=True)
    with exclusively(program.directory.parent / f"{program.name}-{program.version}.lock"):
        if not program.path.is_file():
            _build(program)
    return program.path


def _build(program: GoProgram) -> None:
    scratch = Path(tempfile.mkdtemp(prefix=f".{program.name}-build-", dir=program.directory.parent))
    try:
        environment = {**os.environ, "GOBIN": str(scratch), "GOFLAGS": "-mod=mod", "CGO_ENABLED": "0"}
        command = [go_command(), "install", "-trimpath", f"-ldflags={program.ldflags}", f"-tags={program.tags}"]
        built = subprocess.run(
            [*command, f"{program.package}@{program.version}"],
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        if built.returncode != 0:
            output = (built.stdout + built.stderr)[-4000:]
            raise GoBuildFailed(f"go install {program.package}@{program.version} failed:\n{output}")
        if not (scratch / program.name).is_file():
            raise GoBuildFailed(f"go install {program.package}@{program.version} built no {program.name}")
        scratch.chmod(0o755)  # mkdtemp made it private to this user
        shutil.rmtree(program.directory, ignore_errors=True)
        scratch.rename(program.directory)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
