"""What intake's routers read of the process: its context (``app.state.intake``), and the use cases taken from it
(async, so FastAPI runs them without a worker thread)."""

from __future__ import annotations

from fastapi import Request

from satupintu.intake.documents import DocumentService
from satupintu.intake.downloads import DownloadService
from satupintu.intake.erasure import ErasureService
from satupintu.intake.factory import IntakeContext
from satupintu.intake.profiles import ProfileService
from satupintu.intake.services import ApplicationService
from satupintu.intake.tracking import TrackingService


def context(request: Request) -> IntakeContext:
    """The process's context, for code that holds the request."""
    found: IntakeContext = request.app.state.intake
    return found


def max_body_bytes(request: Request) -> int:
    """The largest JSON body the process reads."""
    return context(request).settings.max_body_bytes


async def application_service(request: Request) -> ApplicationService:
    """The process's application service."""
    return context(request).applications


async def document_service(request: Request) -> DocumentService:
    """The process's document service."""
    return context(request).documents


async def tracking_service(request: Request) -> TrackingService:
    """The process's tracking service."""
    return context(request).tracking


async def download_service(request: Request) -> DownloadService:
    """The process's downloads of issued documents."""
    return context(request).downloads


def profiles(request: Request) -> ProfileService:
    """The process's profile service (called directly, and by the staff routes to record a refusal)."""
    return context(request).profiles


def erasures(request: Request) -> ErasureService:
    """The process's erasure service (called directly, and by the operator's route to record a refusal)."""
    return context(request).erasures
