"""The documents an agency issues (the permit, certificate or letter an application ends with) and their revocation,
on the ``applications`` topic (key: application id, so one application's issue and revocation keep their order after
its lifecycle events). The signed PDF itself never travels on Kafka: it is in the document store intake and the
desk share (``satupintu.common.document_store``, sealed under the documents keys), at the address the event names."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar
from uuid import UUID

from pydantic import Field, model_validator

from satupintu.contract.base import DocumentRef, EventPayload, pii_field
from satupintu.contract.topics import Topic

MASKED_NIK_PATTERN = r"^\*{12}[0-9]{4}$"
"""A NIK as a public page may show it: its last four digits only (``************0001``)."""


class _DocumentEvent(EventPayload):
    topic: ClassVar[Topic] = Topic.APPLICATIONS

    document_id: UUID = Field(
        description="The document's id: printed in its QR code, the address of its public verification page on "
        "intake (`/verify/{document_id}`)."
    )
    application_id: str = Field(description="The application the document was issued for; also the Kafka key.")
    agency: str = Field(description="Lower-case code of the issuing agency.")


class DocumentIssued(_DocumentEvent):
    """An agency issued a signed document (PDF, PAdES) for an application: what its public verification page shows,
    and where the PDF is kept."""

    event_type: ClassVar[str] = "document.issued"

    service_code: str = Field(description="The catalogue service the document was issued for.")
    number: str = Field(
        min_length=1, max_length=100, description="The document's number, unique per agency and year, no gaps."
    )
    issued_at: datetime = Field(description="When the agency issued (signed) it.")
    valid_until: date | None = Field(
        default=None, description="The last day it is valid (in Jakarta), when it expires; none: valid indefinitely."
    )
    sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="Hex SHA-256 of the signed PDF: what a verifier compares a copy with."
    )
    size_bytes: int = Field(ge=1, description="The signed PDF's size in bytes.")
    pdf: DocumentRef = Field(
        description="Where the signed PDF is: its address in the shared document store (its `sha256`, the same as "
        "above) and what it is (`name`, e.g. `skck`)."
    )
    holder_initials: str = pii_field(
        "The holder's initials (`R. K.`): all of the name the public verification page shows.", max_length=64
    )
    holder_nik_masked: str = pii_field(
        "The holder's NIK, its last four digits only (`************0001`), as the verification page shows it.",
        pattern=MASKED_NIK_PATTERN,
    )
    officer: str = Field(description="Who issued it: the officer's actor string, e.g. `officer:polres:rina`.")
    collect_at_counter: bool = Field(
        description="Whether the catalogue says the original is collected at the mall's counter."
    )

    @model_validator(mode="after")
    def _pdf_is_at_its_hash(self) -> DocumentIssued:
        if self.pdf.sha256 != self.sha256:
            raise ValueError("pdf.sha256 must be the document's sha256: the store is addressed by content")
        return self


class DocumentCollected(_DocumentEvent):
    """The holder (or someone on their behalf) collected the original at the mall's counter: who handed it over, to
    whom, when. Published by the mall on its own topic, keyed by the application like the issue."""

    event_type: ClassVar[str] = "document.collected"
    topic: ClassVar[Topic] = Topic.MALL

    number: str = Field(min_length=1, max_length=100, description="The collected document's number.")
    handed_over_by: str = Field(description="The clerk who handed it over, as an actor (`officer:dpmptsp:sari`).")
    collected_by: str = pii_field(
        "The name of the person who took it, as the clerk read it from their identity card.", max_length=120
    )
    collected_by_holder: bool = Field(
        description="Whether the holder took it in person (false: someone on their behalf, with a power of attorney)."
    )
    collected_at: datetime = Field(description="When it was handed over.")


class DocumentRevoked(_DocumentEvent):
    """The issuing agency revoked a document: its verification page says so, with the reason, from now on."""

    event_type: ClassVar[str] = "document.revoked"

    reason: str = Field(min_length=1, max_length=1000, description="Why it was revoked, shown on the public page.")
    revoked_at: datetime = Field(description="When the agency revoked it.")
