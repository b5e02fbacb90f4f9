"""Routing run in this process for the end-to-end flows with the agency desk: for the whole test, or started and
stopped by the test. A module using ``routing`` imports ``start_routing`` too (pytest finds a fixture's fixtures
by name)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.devtools.testing.apps import running
from satupintu.devtools.testing.plugin import service_database
from satupintu.routing.config import RoutingSettings
from satupintu.routing.main import create_app as create_routing


@pytest.fixture
async def start_routing(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings
) -> Callable[[], AbstractAsyncContextManager[Any]]:
    """Routing (in-process) as a context the test enters and leaves: stopped, it answers no decision; started
    again, it goes on where it stopped (the same consumer group and database)."""
    await service_database(database_settings, "routing")
    settings = RoutingSettings(kafka=kafka_settings, database=database_settings, sla_check_interval_seconds=3600)
    return lambda: running(create_routing(settings))


@pytest.fixture
async def routing(start_routing: Callable[[], AbstractAsyncContextManager[Any]]) -> AsyncIterator[None]:
    """A running routing service (in-process), for flows that need the next stage or completion."""
    async with start_routing():
        yield
