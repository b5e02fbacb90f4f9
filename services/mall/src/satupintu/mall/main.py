"""Entry point of the mall service: ``create_app()`` builds the process, ``main()`` serves it."""

from __future__ import annotations

from fastapi import FastAPI

from satupintu.common.http import create_service_app
from satupintu.common.runtime import ServiceRuntime, serve
from satupintu.mall.config import MallSettings

SERVICE_NAME = "mall"


def create_app(settings: MallSettings | None = None) -> FastAPI:
    """Build the mall service's HTTP app around one runtime (engine and broker)."""
    settings = settings or MallSettings()
    runtime = ServiceRuntime(SERVICE_NAME, settings, needs_broker=True)
    return create_service_app(
        runtime, "Satu Pintu mall: queue tickets, satisfaction survey, complaints, performance board"
    )


def main() -> None:
    """Console script ``satupintu-mall``."""
    settings = MallSettings()
    serve(SERVICE_NAME, create_app(settings), settings)
