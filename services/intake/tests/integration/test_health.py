"""Every service answers /healthz, and /readyz reports its database and broker."""

from __future__ import annotations

import httpx
import pytest

from satupintu.common.settings import DatabaseSettings, KafkaSettings
from satupintu.devtools.testing.plugin import service_database
from satupintu.intake.config import IntakeSettings
from satupintu.intake.main import create_app

pytestmark = pytest.mark.integration


async def test_intake_is_alive_and_ready_with_its_database(
    kafka_settings: KafkaSettings, database_settings: DatabaseSettings
) -> None:
    await service_database(database_settings, "intake")
    app = create_app(IntakeSettings(kafka=kafka_settings, database=database_settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            alive = await client.get("/healthz")
            ready = await client.get("/readyz")
    assert alive.status_code == 200
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "consumers": "ok"}
