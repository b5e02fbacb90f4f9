"""Intake's HTTP request and response models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field

from satupintu.common.events.applications import JsonScalar
from satupintu.common.identity import InvalidNik, is_valid_phone, parse_nik
from satupintu.intake.forms import CleanText


def _valid_nik(value: str) -> str:
    try:
        parse_nik(value, today=date.today())
    except InvalidNik as invalid:
        raise ValueError(str(invalid)) from invalid
    return value


def _valid_phone(value: str) -> str:
    if not is_valid_phone(value):
        raise ValueError("a phone number is +62 or 0 followed by 9 to 12 digits, e.g. 081234567890")
    return value


Nik = Annotated[str, AfterValidator(_valid_nik)]
Phone = Annotated[str, AfterValidator(_valid_phone)]


class ApplicantCreate(BaseModel):
    """Who applies."""

    model_config = ConfigDict(extra="forbid", strict=True)

    nik: Nik = Field(description="16-digit NIK (Nomor Induk Kependudukan).", examples=["3171015506900002"])
    name: Annotated[CleanText, Field(max_length=120)] = Field(description="Full name as on the KTP.")
    email: EmailStr | None = Field(default=None, max_length=254, description="E-mail address for notifications.")
    phone: Phone | None = Field(default=None, description="Mobile number for SMS/WhatsApp notifications.")
    language: Literal["id", "en"] = Field(description="Language the applicant is told things in: id or en.")


class DocumentReference(BaseModel):
    """A document uploaded through ``POST /documents``, by the requirement it satisfies."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: Annotated[CleanText, Field(max_length=64)] = Field(description="The requirement, e.g. `ktp`.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="The hash `POST /documents` answered.")


class ApplicationCreate(BaseModel):
    """An application for one service of the catalogue."""

    model_config = ConfigDict(extra="forbid", strict=True)

    service_code: Annotated[CleanText, Field(max_length=32)] = Field(description="The catalogue service applied for.")
    applicant: ApplicantCreate = Field(description="Who applies.")
    data: dict[str, JsonScalar] = Field(description="The service's form fields (see `GET /services/{code}`).")
    documents: list[DocumentReference] = Field(
        default_factory=list, max_length=20, description="Uploaded documents, by hash."
    )
    consent_reuse: bool = Field(description="Whether data on file may be reused, and this data kept for reuse.")


class ApplicationAccepted(BaseModel):
    """What the citizen gets back: how to follow the application."""

    application_id: str = Field(description="The application's id.")
    tracking_code: str = Field(description="Short, unguessable code to track the application with.")
    status: Literal["submitted"] = Field(description="Always `submitted` on acceptance.")
    submitted_at: datetime = Field(description="When the application was accepted.")


class ServiceSummary(BaseModel):
    """A service in the catalogue listing."""

    code: str = Field(description="The service's code.")
    name: dict[str, str] = Field(description="Its name in Indonesian (`id`) and English (`en`).")
    agency: str = Field(description="The agency that owns it.")
    sla_working_days: int = Field(description="Completion time in working days (service standard).")


class ServiceRead(ServiceSummary):
    """A service with everything needed to apply for it."""

    catalogue_version: str = Field(description="The catalogue version.")
    description: dict[str, str] = Field(description="What the citizen gets.")
    cost: dict[str, str] = Field(description="What it costs.")
    product: dict[str, str] = Field(description="What the citizen receives.")
    form_schema: dict[str, Any] = Field(description="JSON Schema of the `data` object of an application.")
    documents: list[dict[str, Any]] = Field(description="Documents asked for: name, label, media types, max size.")
    stages: list[dict[str, Any]] = Field(description="Processing stages and the agencies acting in each.")
