"""A back-office service lowers its CPU priority at start (docs/decisions/0037-the-front-door-first.md): every
thread it has, and the ones it makes later; it never tries to raise one."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit

_PROGRAM = """
import os, threading
from satupintu.common.runtime import lower_cpu_priority

started, done = threading.Event(), threading.Event()
seen = {}

def early():
    started.set()
    done.wait()
    seen["early"] = os.getpriority(os.PRIO_PROCESS, 0)

thread = threading.Thread(target=early)
thread.start()
started.wait()
lower_cpu_priority(int(os.environ["NICENESS"]))
later = threading.Thread(target=lambda: seen.__setitem__("later", os.getpriority(os.PRIO_PROCESS, 0)))
later.start(); later.join()
done.set(); thread.join()
lower_cpu_priority(0)  # asking for more priority than it has changes nothing (and needs no privilege)
print(os.getpriority(os.PRIO_PROCESS, 0), seen["early"], seen["later"])
"""


def test_every_thread_of_the_process_runs_at_the_niceness_and_a_lower_one_is_never_asked_for() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROGRAM], env={"NICENESS": "7"}, capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.split() == ["7", "7", "7"]
