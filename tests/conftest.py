"""Fixtures for end-to-end flows: services run in this process, each with its own database and broker clients,
against the real Kafka broker and PostgreSQL server of the session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import FastAPI

from satupintu.common.settings import DatabaseSettings, KafkaSettings, ServiceSettings
from satupintu.common.testing.plugin import service_database

S = TypeVar("S", bound=ServiceSettings)


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run ``app``'s lifespan (broker, consumers, relay) and give an HTTP client to it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            yield client


@pytest.fixture
def make_settings(kafka_settings: KafkaSettings, database_settings: DatabaseSettings) -> Callable[..., Any]:
    """Build a service's settings on this session's broker and database server."""

    async def build(settings_class: type[S], service: str, **overrides: Any) -> S:
        await service_database(database_settings, service)
        return settings_class(kafka=kafka_settings, database=database_settings, **overrides)

    return build
