"""Intake's HTTP request and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from satupintu.common.events.applications import JsonScalar
from satupintu.common.events.base import DocumentRef


class ApplicantCreate(BaseModel):
    """Who applies."""

    model_config = ConfigDict(extra="forbid")

    nik: str = Field(description="16-digit NIK.", pattern=r"^[0-9]{16}$")
    name: str = Field(min_length=1, max_length=120, description="Full name.")
    email: str | None = Field(default=None, max_length=254, description="E-mail address for notifications.")
    phone: str | None = Field(default=None, max_length=20, description="Phone number for SMS/WhatsApp.")
    language: Literal["id", "en"] = Field(default="id", description="Language to be told things in.")


class ApplicationCreate(BaseModel):
    """An application for one service of the catalogue."""

    model_config = ConfigDict(extra="forbid")

    service_code: str = Field(min_length=1, max_length=32, description="The catalogue service applied for.")
    applicant: ApplicantCreate = Field(description="Who applies.")
    data: dict[str, JsonScalar] = Field(default_factory=dict, description="The service's form fields.")
    documents: list[DocumentRef] = Field(default_factory=list, description="Uploaded documents, by hash.")
    consent_reuse: bool = Field(default=False, description="Whether data on file may be reused.")


class ApplicationAccepted(BaseModel):
    """What the citizen gets back: how to follow the application."""

    application_id: str = Field(description="The application's id.")
    tracking_code: str = Field(description="Short, unguessable code to track the application with.")
    status: Literal["submitted"] = Field(description="Always `submitted` on acceptance.")
    submitted_at: datetime = Field(description="When the application was accepted.")
