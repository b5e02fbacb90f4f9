"""Prometheus's ``promtool``, which checks and unit-tests the alert rules in ``deploy/observability/``
(``make alerts-check``; ``tests/deploy/test_alert_rules.py``): built once from ``github.com/prometheus/prometheus``
at the version pinned here and kept in ``~/.cache/satupintu/promtool-<version>/``.

``python -m satupintu.devtools.localstack.promtool [ARGS...]`` builds it if missing, then runs it with ARGS (with
none, prints its path)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from satupintu.devtools.localstack.go_programs import GoProgram, ensure_built

PROMTOOL = GoProgram(
    name="promtool",
    package="github.com/prometheus/prometheus/cmd/promtool",
    version="v0.316.0",
    ldflags="-s -w -X github.com/prometheus/common/version.Version=0.316.0",
    tags="remove_all_sd",
)
"""The one place the version is pinned (the Go module's v0.316.0 is Prometheus 3.16). Prometheus's ``remove_all_sd``
build tag leaves out the cloud service discoveries (AWS, Azure, GCE and twenty more SDKs, about two thirds of a
cold build) that only ``promtool check service-discovery`` would use; checking and testing rules needs none."""


def ensure_promtool() -> Path:
    """The path of the pinned ``promtool``, built first if it is not in the cache yet (a cold build downloads the
    module's dependencies and compiles them: minutes; see docs/operations.md)."""
    return ensure_built(PROMTOOL)


def start_building_promtool() -> subprocess.Popen[bytes] | None:
    """Build ``promtool`` in a background process, at low CPU priority, unless it is in the cache already: the
    process (in a session of its own, so its ``go`` children stop with it), or None. Its output goes to
    ``PROMTOOL.build_log``; whoever waits for it calls :func:`ensure_promtool` afterwards, which reports a failure."""
    if PROMTOOL.path.is_file():
        return None
    PROMTOOL.build_log.parent.mkdir(parents=True, exist_ok=True)
    with PROMTOOL.build_log.open("wb") as log:
        nice = shutil.which("nice")
        return subprocess.Popen(
            [*([nice, "-n", "10"] if nice else []), sys.executable, "-m", __name__],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def main() -> None:
    """Build ``promtool`` if missing; run it with the arguments given, or print its path."""
    promtool = ensure_promtool()
    if len(sys.argv) == 1:
        print(promtool)
        return
    os.execv(promtool, [str(promtool), *sys.argv[1:]])  # noqa: S606 (the pinned promtool, the caller's arguments)


if __name__ == "__main__":
    main()
