"""The services behind the pages, as ``create_app`` keeps them on the app."""

from __future__ import annotations

from fastapi import Request

from satupintu.common.catalogue import Catalogue
from satupintu.intake.documents import DocumentService
from satupintu.intake.services import ApplicationService
from satupintu.intake.tracking import TrackingService


def loaded_catalogue(request: Request) -> Catalogue:
    """The catalogue the process loaded."""
    loaded: Catalogue = request.app.state.catalogue
    return loaded


def document_service(request: Request) -> DocumentService:
    """The process's document service."""
    service: DocumentService = request.app.state.document_service
    return service


def application_service(request: Request) -> ApplicationService:
    """The process's application service."""
    service: ApplicationService = request.app.state.application_service
    return service


def tracking_service(request: Request) -> TrackingService:
    """The process's tracking service."""
    service: TrackingService = request.app.state.tracking_service
    return service
