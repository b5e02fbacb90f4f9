"""Choosing a service: every service the mall offers, with its service standard."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from satupintu.intake.api.dependencies import context
from satupintu.intake.web.rendering import agency_name, page, sla, translator

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/")
async def choose_service(request: Request) -> HTMLResponse:
    """Every service the mall offers, with its service standard, each linking to its form."""
    t = translator(request)
    catalogue = context(request).catalogue
    services = [
        {
            "code": service.code,
            "name": service.name.in_language(t.language),
            "description": service.description.in_language(t.language),
            "agency": agency_name(catalogue, service.agency, t.language),
            "sla": sla(t, service.sla_working_days),
            "cost": service.cost.in_language(t.language),
        }
        for service in catalogue.services
    ]
    return page(request, "services.html", title=t("services_title"), services=services)
