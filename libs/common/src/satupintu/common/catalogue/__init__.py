"""The service catalogue: which public services exist, what each asks of the citizen, which agencies act on it in
which stages, and its service standard. Data in ``services.yaml``, validated at start-up.
"""

from satupintu.common.catalogue.loader import CatalogueError, load_catalogue
from satupintu.common.catalogue.models import (
    POWER_OF_ATTORNEY,
    Agency,
    ApplicantKind,
    Catalogue,
    ComplaintCategory,
    DocumentRequirement,
    DocumentTemplate,
    DocumentText,
    EscalationContact,
    Fee,
    FieldDefinition,
    FieldType,
    LocalizedText,
    PrintedOutput,
    ServiceDefinition,
    StageDefinition,
    TaskDefinition,
)

__all__ = [
    "POWER_OF_ATTORNEY",
    "Agency",
    "ApplicantKind",
    "Catalogue",
    "CatalogueError",
    "ComplaintCategory",
    "DocumentRequirement",
    "DocumentTemplate",
    "DocumentText",
    "EscalationContact",
    "Fee",
    "FieldDefinition",
    "FieldType",
    "LocalizedText",
    "PrintedOutput",
    "ServiceDefinition",
    "StageDefinition",
    "TaskDefinition",
    "load_catalogue",
]
