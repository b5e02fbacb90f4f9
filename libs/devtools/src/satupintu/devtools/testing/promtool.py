"""The ``promtool`` fixture: the pinned Prometheus ``promtool``
(:mod:`satupintu.devtools.localstack.promtool`), built in this session if the cache lacks it. A cold build takes
minutes, so when a collected test uses the fixture the build starts in the background as soon as collection ends,
and the fixture waits for it only when its first test runs, by when the tests before it have used the time."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from satupintu.devtools.localstack.promtool import PROMTOOL, ensure_promtool, start_building_promtool

_background_build = pytest.StashKey[subprocess.Popen[bytes] | None]()


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start building ``promtool`` in the background when a collected test needs it and the cache lacks it."""
    if any("promtool" in getattr(item, "fixturenames", ()) for item in session.items):
        session.config.stash[_background_build] = start_building_promtool()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop a background build still running when the session ends (its tests deselected or interrupted)."""
    build = session.config.stash.get(_background_build, None)
    if build is not None and build.poll() is None:
        os.killpg(build.pid, signal.SIGTERM)
        build.wait()


@pytest.fixture(scope="session")
def promtool(pytestconfig: pytest.Config) -> Path:
    """The pinned ``promtool``: the background build waited for, or built here (a failed build fails the test with
    ``go install``'s output)."""
    build = pytestconfig.stash.get(_background_build, None)
    if build is not None:
        build.wait()
        if build.returncode != 0:
            print(f"the background build of promtool failed ({PROMTOOL.build_log}); building it again here")
    return ensure_promtool()
