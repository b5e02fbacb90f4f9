"""Starting, finding and stopping the local stack's background processes by process id."""

from __future__ import annotations

import fcntl
import os
import resource
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from satupintu.devtools.localstack.paths import run_dir


def pid_file(name: str) -> Path:
    """Where the process id of the background process ``name`` is kept."""
    directory = run_dir() / "pids"
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"{name}.pid"


@contextmanager
def exclusively(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive file lock on ``lock_file`` (made if missing) until the block ends; another process taking
    the same lock waits. Not reentrant: a second take in the same process waits for ever."""
    with lock_file.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def one_starter(name: str) -> AbstractContextManager[None]:
    """The start lock of the background process ``name``, in the run directory: two test workers that ask for the
    same server at once start it once, the second finding it answering when it gets the lock. Take it once around a
    whole start."""
    return exclusively(pid_file(name).with_suffix(".lock"))


def log_file(name: str) -> Path:
    """Where the output of the background process ``name`` goes."""
    directory = run_dir() / "logs"
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"{name}.log"


def is_alive(pid: int) -> bool:
    """Whether a process with this id exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def running_pid(name: str) -> int | None:
    """The id of the recorded process ``name`` if it still runs."""
    path = pid_file(name)
    if not path.is_file():
        return None
    try:
        pid = int(path.read_text().strip())
    except ValueError:
        return None
    return pid if is_alive(pid) else None


def _raise_open_file_limit() -> None:
    """Let the child open as many files as the system allows (a broker keeps files open per partition)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for wanted in (1_048_576, hard):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, max(wanted, hard)))
        except (ValueError, OSError):
            continue
        return


def spawn(name: str, command: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None) -> int:
    """Start ``command`` detached from this session, log to its log file, and record its process id."""
    log = log_file(name)
    with log.open("ab") as output:
        process = subprocess.Popen(
            list(command),
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_raise_open_file_limit,  # noqa: PLW1509 (no threads are started before exec)
        )
    pid_file(name).write_text(str(process.pid))
    return process.pid


def stop(name: str, timeout: float = 20.0) -> bool:
    """Stop the recorded process ``name`` (TERM, then KILL after ``timeout``); True if one was running."""
    pid = running_pid(name)
    pid_file(name).unlink(missing_ok=True)
    if pid is None:
        return False
    terminate(pid, timeout)
    return True


def terminate(pid: int, timeout: float = 20.0) -> None:
    """Send TERM to the process group of ``pid``, then KILL if it is still alive after ``timeout`` seconds."""
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_alive(pid):
            return
        time.sleep(0.1)
    _signal_group(pid, signal.SIGKILL)


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            return


def log_tail(name: str, lines: int = 40) -> str:
    """The last lines a background process wrote, for error messages."""
    path = log_file(name)
    if not path.is_file():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
