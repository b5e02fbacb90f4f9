"""What issuing a document takes besides the database (decision 0027): which task's approval issues which service's
document, the content printed from the catalogue's template and the decision's outputs, and the signed PDF, by the
issuing agency's signer (loaded at start: a missing key or certificate stops the desk before it takes any event).

The serial and the row are the desk's transaction's business (:mod:`satupintu.agency.services.issuance`); this
module never touches the database, so it is tested alone.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from satupintu.agency.issuing.certificates import AgencySigner, SigningKeyError, agency_signer, issuing_agencies
from satupintu.agency.issuing.rendering import DocumentContent, PrintedLine, render_pdf
from satupintu.agency.issuing.signing import async_sign_pdf
from satupintu.common.catalogue import Catalogue, DocumentTemplate, DocumentText, ServiceDefinition

NOT_STATED = DocumentText(id="-", en=None)
BUSINESS_NIB = DocumentText(id="Nomor Induk Berusaha (NIB)", en="Business identification number (NIB)")
"""What a printed output reads when the approval did not give it (decision 0027: printed, not refused)."""
_YES_NO = {True: DocumentText(id="Ya", en="Yes"), False: DocumentText(id="Tidak", en="No")}


@dataclass(frozen=True)
class Holder:
    """Whom the document is for, opened: the name printed and the applicant's NIK (only masked leaves the desk). For
    a business: its name and NIB (printed instead of a person's NIK); the NIK is then its representative's."""

    name: str
    nik: str
    nib: str | None = None

    @property
    def initials(self) -> str:
        """``Rina Kusuma`` → ``R. K.``: all of the name a public verification page shows."""
        return " ".join(f"{word[0].upper()}." for word in self.name.split() if word[0].isalnum()) or "-"

    @property
    def masked_nik(self) -> str:
        """The NIK's last four digits behind twelve stars."""
        return "*" * 12 + self.nik[-4:]


@dataclass(frozen=True)
class Issue:
    """One document to issue: the approval that issues it and what the desk knows of its application."""

    service: ServiceDefinition
    template: DocumentTemplate
    agency: str
    application_id: str
    outputs: Mapping[str, Any]
    previous_outputs: Mapping[str, Mapping[str, Any]]
    holder: Holder
    officer: str
    issued_at: datetime
    timezone: str
    officer_name: str | None = None
    """The approving officer's full name from the provider; the user name is printed without it."""

    @property
    def issued_on(self) -> date:
        """The day of issue where the agency is."""
        return self.issued_at.astimezone(ZoneInfo(self.timezone)).date()

    @property
    def valid_until(self) -> date | None:
        """The last day it is valid, when the template says it expires."""
        days = self.template.valid_days
        return None if days is None else self.issued_on + timedelta(days=days)


@dataclass(frozen=True)
class SignedDocument:
    """An issued document's signed PDF and what names it."""

    document_id: str
    number: str
    pdf: bytes

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the signed PDF: its address in the document store."""
        return hashlib.sha256(self.pdf).hexdigest()


def issuing_template(service: ServiceDefinition | None, agency: str, stage_index: int) -> DocumentTemplate | None:
    """The document the approval of ``agency``'s task in stage ``stage_index`` issues: the service's, when that task
    is the issuing agency's last in the service; None for every other task."""
    if service is None or service.issuing_agency() != agency or service.issuing_stage() != stage_index:
        return None
    return service.document


def officer_name(actor: str) -> str:
    """The name printed for the actor of the approval: the officer's user name (``officer:polres:rina`` → ``rina``),
    or the agency's own system."""
    kind, _, rest = actor.partition(":")
    if kind == "officer":
        return rest.partition(":")[2] or rest
    return "Sistem instansi"


def printed_lines(issue: Issue) -> tuple[PrintedLine, ...]:
    """The template's outputs with their values: the issuing approval's own, or an earlier agency's; first, for a
    business, its NIB."""
    lines = [] if issue.holder.nib is None else [PrintedLine(BUSINESS_NIB, DocumentText(id=issue.holder.nib))]
    for printed in issue.template.outputs:
        source = (
            issue.outputs
            if (printed.agency or issue.agency) == issue.agency
            else issue.previous_outputs.get(printed.agency or "", {})
        )
        lines.append(PrintedLine(printed.label, _value(source.get(printed.output))))
    return tuple(lines)


def _value(value: Any) -> DocumentText:
    if value is None or value == "":
        return NOT_STATED
    if isinstance(value, bool):
        return _YES_NO[value]
    return DocumentText(id=str(value))


class DocumentIssuer:
    """Renders and signs the documents of every issuing agency of the catalogue with that agency's signer."""

    def __init__(self, catalogue: Catalogue, signers: Mapping[str, AgencySigner], verification_base_url: str) -> None:
        self._catalogue = catalogue
        self._signers = dict(signers)
        self._verification_base_url = verification_base_url.rstrip("/")

    @classmethod
    def load(
        cls,
        catalogue: Catalogue,
        *,
        signing_keys_dir: Path | None,
        development_keys_dir: Path,
        verification_base_url: str,
    ) -> DocumentIssuer:
        """Every issuing agency's signer, from ``signing_keys_dir`` or the development CA; missing or unfit keys
        raise :class:`~satupintu.agency.issuing.certificates.SigningKeyError` naming every such agency."""
        signers, problems = {}, []
        for agency in issuing_agencies(catalogue):
            try:
                signers[agency.code] = agency_signer(
                    agency, signing_keys_dir=signing_keys_dir, development_keys_dir=development_keys_dir
                )
            except SigningKeyError as unfit:
                problems.append(str(unfit))
        if problems:
            raise SigningKeyError("; ".join(problems))
        return cls(catalogue, signers, verification_base_url)

    def verification_url(self, document_id: str) -> str:
        """The public page that says whether the document is valid: what its QR code holds."""
        return f"{self._verification_base_url}/verify/{document_id}"

    async def sign(self, issue: Issue, number: str, *, document_id: str | None = None) -> SignedDocument:
        """The document numbered ``number``, rendered and signed by its agency."""
        document_id = document_id or str(uuid.uuid4())
        agency = self._catalogue.agency(issue.agency)
        if agency is None or issue.agency not in self._signers:  # pragma: no cover - load() made one for each
            raise LookupError(f"agency {issue.agency} has no signer")
        content = DocumentContent(
            document_id=document_id,
            number=number,
            title=issue.template.title,
            holder_name=issue.holder.name,
            outputs=printed_lines(issue),
            issued_on=issue.issued_on,
            valid_until=issue.valid_until,
            agency_name=DocumentText(id=agency.name.id, en=agency.name.en),
            officer_name=issue.officer_name or officer_name(issue.officer),
            verification_url=self.verification_url(document_id),
        )
        signed = await async_sign_pdf(
            render_pdf(content, compress=False),  # the text stays readable: a changed digit is found (decision 0027)
            self._signers[issue.agency],
            reason=f"{issue.template.title.id} {number}",
            location=agency.name.id,
        )
        return SignedDocument(document_id=document_id, number=number, pdf=signed)
