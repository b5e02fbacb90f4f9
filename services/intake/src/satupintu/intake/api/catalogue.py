"""``/services``: the catalogue of public services and the form of each."""

from __future__ import annotations

from fastapi import APIRouter, Request

from satupintu.common.catalogue import ServiceDefinition
from satupintu.common.problems import Problem, documented_problems
from satupintu.intake.api import dependencies
from satupintu.intake.forms import form_schema
from satupintu.intake.schemas import ServiceRead, ServiceSummary

router = APIRouter(tags=["catalogue"])


def _summary(service: ServiceDefinition) -> dict[str, object]:
    return {
        "code": service.code,
        "name": service.name.model_dump(),
        "agency": service.agency,
        "sla_working_days": service.sla_working_days,
    }


@router.get("/services", summary="The services the mall offers")
async def list_services(request: Request) -> list[ServiceSummary]:
    """Every service of the catalogue."""
    catalogue = dependencies.context(request).catalogue
    return [ServiceSummary.model_validate(_summary(service)) for service in catalogue.services]


@router.get(
    "/services/{code}",
    summary="One service: its form (JSON Schema), documents and stages",
    responses=documented_problems({404: "No service has this code (problem+json `unknown-service`)."}),
)
async def read_service(code: str, request: Request) -> ServiceRead:
    """What applying for ``code`` takes."""
    catalogue = dependencies.context(request).catalogue
    service = catalogue.service(code)
    if service is None:
        raise Problem(404, "unknown-service", f"no service {code!r} in the catalogue")
    return ServiceRead.model_validate(
        {
            **_summary(service),
            "catalogue_version": catalogue.version,
            "description": service.description.model_dump(),
            "cost": service.cost.model_dump(),
            "product": service.product.model_dump(),
            "form_schema": form_schema(service),
            "documents": [document.model_dump() for document in service.documents],
            "applicant_kinds": list(service.applicant_kinds),
            "business_documents": [
                document.model_dump()
                for document in service.documents_for("business")
                if service.accepts("business") and document not in service.documents
            ],
            "stages": [
                {"name": stage.name, "agencies": [task.agency for task in stage.tasks]} for stage in service.stages
            ],
        }
    )
