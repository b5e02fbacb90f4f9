"""End-to-end flows run services in this process (``running``) or as real processes (``tests.processes``), on the
real Kafka broker and PostgreSQL server of the session (fixtures from ``satupintu.devtools.testing.plugin``)."""

from __future__ import annotations

import os

import pytest

from satupintu.devtools.localstack.paths import cache_dir
from satupintu.devtools.testing.apps import running
from tests.deploy.support import DEPLOY, start_installing_tools, stop_installing_tools

__all__ = ["running"]


def pytest_collection_finish(session: pytest.Session) -> None:
    """The deployment checks need the Compose CLI (and kustomize where kubectl is missing): when they are collected,
    install them in the background now, so a cold build overlaps the tests that run before them. (Each worker of a
    split run does; the script lets one build at a time, and the second finds the tools built.)"""
    if any(DEPLOY.parent / "tests" / "deploy" in item.path.parents for item in session.items):
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        start_installing_tools(cache_dir() / (f"install-tools-{worker}.log" if worker else "install-tools.log"))


def pytest_sessionfinish(session: pytest.Session) -> None:
    stop_installing_tools()
