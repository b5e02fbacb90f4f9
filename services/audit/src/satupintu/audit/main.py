"""Entry point of the audit service: ``create_app()`` builds the process, ``main()`` serves it."""

from __future__ import annotations

from fastapi import FastAPI

from satupintu.audit import handlers
from satupintu.audit.config import AuditSettings
from satupintu.audit.services import AuditService
from satupintu.audit.storage.tables import AuditEntry
from satupintu.common.catalogue import load_catalogue
from satupintu.common.http import create_service_app
from satupintu.common.runtime import ServiceRuntime, serve

SERVICE_NAME = "audit"


def create_app(settings: AuditSettings | None = None) -> FastAPI:
    """Build the audit service's HTTP app around one runtime (engine and broker)."""
    settings = settings or AuditSettings()
    runtime = ServiceRuntime(SERVICE_NAME, settings, tables=[AuditEntry])
    handlers.subscribe(runtime, AuditService(runtime.sessions, settings.hash_key.encode()), load_catalogue())
    return create_service_app(runtime, "Satu Pintu audit: the tamper-evident trail")


def main() -> None:
    """Console script ``satupintu-audit``."""
    settings = AuditSettings()
    serve(SERVICE_NAME, create_app(settings), settings)
