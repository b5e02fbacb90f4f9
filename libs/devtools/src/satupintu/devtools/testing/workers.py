"""A test run split across pytest-xdist workers (``make test`` runs two, each taking whole test modules): which
process this is, and the servers the workers share.

Kafka and PostgreSQL are left running after any session (``make down`` stops them). Keycloak and the secured
broker are stopped at the end by whoever started them; in a split run that is the controller, at the end of the
whole run, never the worker that happened to start one, whose sibling may still be using it.
"""

from __future__ import annotations

import os

import pytest

from satupintu.devtools.localstack import processes
from satupintu.devtools.localstack.keycloak import PROCESS_NAME as KEYCLOAK
from satupintu.devtools.localstack.secure_kafka import PROCESS_NAME as SECURE_KAFKA

SHARED_SERVERS = (KEYCLOAK, SECURE_KAFKA)

_running_before = pytest.StashKey[frozenset[str]]()


def in_a_worker() -> bool:
    """Whether this process is one pytest-xdist worker of a split run."""
    return "PYTEST_XDIST_WORKER" in os.environ


def _controls_workers(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput") and getattr(config.option, "dist", "no") != "no"


def pytest_configure(config: pytest.Config) -> None:
    """In the controller of a split run: note which shared servers already run (those are left running)."""
    if _controls_workers(config):
        config.stash[_running_before] = frozenset(
            name for name in SHARED_SERVERS if processes.running_pid(name) is not None
        )


def pytest_unconfigure(config: pytest.Config) -> None:
    """In the controller of a split run, after every worker has ended: stop the shared servers a worker started."""
    before = config.stash.get(_running_before, None)
    if before is None:
        return
    for name in SHARED_SERVERS:
        if name not in before:
            processes.stop(name, timeout=30.0)


def stop_if_ours(started: bool) -> bool:
    """Whether a session fixture that ``started`` a shared server should stop it at its end: yes in a whole run,
    never in a worker (the controller does, once every worker is done)."""
    return started and not in_a_worker()
