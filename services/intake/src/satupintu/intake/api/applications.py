"""``/applications``: submitting an application."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status

from satupintu.intake.domain import UnknownServiceError
from satupintu.intake.schemas import ApplicationAccepted, ApplicationCreate
from satupintu.intake.services import ApplicationService

router = APIRouter(tags=["applications"])


def application_service(request: Request) -> ApplicationService:
    """The process's application service."""
    service: ApplicationService = request.app.state.application_service
    return service


@router.post(
    "/applications",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Submit an application for a service of the catalogue",
)
async def submit_application(
    body: ApplicationCreate, service: Annotated[ApplicationService, Depends(application_service)]
) -> ApplicationAccepted:
    """Validate, store and announce the application; answer how to track it."""
    try:
        return await service.submit(body)
    except UnknownServiceError as unknown:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(unknown)) from unknown
