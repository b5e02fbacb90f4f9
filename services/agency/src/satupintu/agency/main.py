"""Entry point of the agency service: ``create_app()`` builds the process, ``main()`` serves it."""

from __future__ import annotations

from fastapi import FastAPI

from satupintu.agency.config import AgencySettings
from satupintu.common.http import create_service_app
from satupintu.common.runtime import ServiceRuntime, serve

SERVICE_NAME = "agency"


def create_app(settings: AgencySettings | None = None) -> FastAPI:
    """Build the agency service's HTTP app around one runtime (engine and broker)."""
    settings = settings or AgencySettings()
    runtime = ServiceRuntime(SERVICE_NAME, settings, needs_broker=True)
    return create_service_app(runtime, "Satu Pintu agency desk: officers' tasks and the worker SDK")


def main() -> None:
    """Console script ``satupintu-agency``."""
    settings = AgencySettings()
    serve(SERVICE_NAME, create_app(settings), settings)
