"""Pydantic models of the catalogue; validation errors name the file and the field."""

from __future__ import annotations

import re
import string
from enum import StrEnum
from typing import Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from satupintu.common.identity import is_valid_phone

_CODE = r"^[a-z][a-z0-9-]{1,31}$"
_OUTPUT_NAME = r"^[a-z][a-z0-9_]{0,63}$"
_NUMBER_FIELDS = frozenset({"agency", "year", "serial"})
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LocalizedText(_Frozen):
    """A text in Indonesian and English."""

    id: str = Field(min_length=1, description="Indonesian.")
    en: str = Field(min_length=1, description="English.")

    def in_language(self, language: str) -> str:
        """The text in ``language`` ("id" or "en"), Indonesian otherwise."""
        return self.en if language == "en" else self.id


class EscalationContact(_Frozen):
    """Where an agency's escalation target (its head or supervisor) is reached: an e-mail address, a phone for the
    SMS gateway, or both."""

    email: str | None = Field(
        default=None, pattern=_EMAIL, max_length=254, description="E-mail address, e.g. `kepala@dlh.example.go.id`."
    )
    phone: str | None = Field(default=None, description="Phone for the SMS gateway, +62 or 0 and 9 to 12 digits.")

    @field_validator("phone")
    @classmethod
    def _valid_phone(cls, value: str | None) -> str | None:
        if value is not None and not is_valid_phone(value):
            raise ValueError(f"{value!r} is not a phone number (+62 or 0 followed by 9 to 12 digits)")
        return value

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if self.email is None and self.phone is None:
            raise ValueError("an escalation contact needs an email, a phone or both")
        return self


class Agency(_Frozen):
    """An agency serving at the mall."""

    code: str = Field(pattern=_CODE, description="Lower-case code; names its topics `agency.<code>.*`.")
    name: LocalizedText = Field(description="The agency's name.")
    timezone: str = Field(default="Asia/Jakarta", description="IANA time zone its working days are counted in.")
    escalation_target: str = Field(description="Who is told when the agency breaks a service standard.")
    escalation_contact: EscalationContact = Field(
        description="Where the escalation target is reached when a service standard is broken."
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as unknown:
            raise ValueError(f"unknown time zone {value!r}") from unknown
        return value


class FieldType(StrEnum):
    """Types a form field can have."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    ENUM = "enum"


class FieldDefinition(_Frozen):
    """One field of a service's application form."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="Key in the application's `data`.")
    type: FieldType = Field(description="The field's type.")
    label: LocalizedText = Field(description="The label shown on the form.")
    help: LocalizedText | None = Field(default=None, description="Help text shown under the field.")
    required: bool = Field(default=True, description="Whether the field must be given.")
    pattern: str | None = Field(default=None, description="Regular expression a string must match in full.")
    enum: tuple[str, ...] | None = Field(default=None, description="Allowed values of an enum field.")
    max_length: int = Field(default=200, ge=1, le=5000, description="Longest allowed string.")
    minimum: int | float | None = Field(
        default=None, allow_inf_nan=False, description="Smallest allowed number (a whole one for an integer field)."
    )
    maximum: int | float | None = Field(
        default=None, allow_inf_nan=False, description="Largest allowed number (a whole one for an integer field)."
    )
    personal: bool = Field(default=False, description="Whether the value is personal data (masked, encrypted).")
    profile: bool = Field(default=False, description="Whether the value is kept in the citizen's profile for reuse.")

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as invalid:
                raise ValueError(f"pattern does not compile: {invalid}") from invalid
        return value

    @model_validator(mode="after")
    def _enum_has_values(self) -> Self:
        if (self.type is FieldType.ENUM) != bool(self.enum):
            raise ValueError("an enum field needs `enum` values, and only an enum field may have them")
        return self

    @model_validator(mode="after")
    def _limits_fit_type(self) -> Self:
        limits = [limit for limit in (self.minimum, self.maximum) if limit is not None]
        if limits and self.type not in (FieldType.INTEGER, FieldType.NUMBER):
            raise ValueError("only an integer or number field may have `minimum` or `maximum`")
        if self.type is FieldType.INTEGER and any(not float(limit).is_integer() for limit in limits):
            raise ValueError(f"an integer field's limits are whole numbers, not {limits}")
        if len(limits) == 2 and limits[0] > limits[1]:
            raise ValueError(f"minimum {self.minimum} is above maximum {self.maximum}")
        return self


class DocumentRequirement(_Frozen):
    """A document the citizen must (or may) upload."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="Key of the document, e.g. `ktp`.")
    label: LocalizedText = Field(description="What the document is.")
    media_types: tuple[str, ...] = Field(min_length=1, description="Accepted media types, checked by content.")
    max_bytes: int = Field(default=5_000_000, ge=1, description="Largest accepted size.")
    required: bool = Field(default=True, description="Whether the document must be given.")


ApplicantKind = Literal["person", "business"]
"""Who applies: a person for themselves, or a business through a representative (a person holding its power of
attorney)."""

POWER_OF_ATTORNEY = DocumentRequirement(
    name="surat_kuasa",
    label=LocalizedText(id="Surat kuasa", en="Power of attorney"),
    media_types=("application/pdf", "image/jpeg", "image/png"),
)
"""The document every business application carries: the power of attorney its representative applies with. It is
asked for on top of the service's own documents, and every agency acting on the application sees it."""


class TaskDefinition(_Frozen):
    """What one agency does in a stage."""

    agency: str = Field(pattern=_CODE, description="The agency that acts.")
    action: LocalizedText = Field(description="What the agency does, e.g. `Verifikasi dokumen`.")
    visible_fields: tuple[str, ...] = Field(description="Form fields this agency may see.")
    visible_documents: tuple[str, ...] = Field(default=(), description="Documents this agency may see.")
    needs_outputs_from: tuple[str, ...] = Field(
        default=(), description="Agencies of earlier stages whose outputs this task receives."
    )
    sla_working_days: int = Field(ge=1, le=365, description="Working days the agency has for the task.")
    outputs: tuple[str, ...] = Field(
        default=(),
        description="Names of the outputs the agency's approval gives, e.g. `skck_number`; an issued document "
        "may print them.",
    )

    @field_validator("outputs")
    @classmethod
    def _output_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        malformed = [name for name in value if not re.fullmatch(_OUTPUT_NAME, name)]
        if malformed:
            raise ValueError(f"output names are lower-case letters, digits and _: {malformed}")
        if len(set(value)) != len(value):
            raise ValueError("output names must be unique")
        return value


class StageDefinition(_Frozen):
    """A set of tasks run in parallel; stages run in order."""

    name: str = Field(min_length=1, description="The stage's name.")
    tasks: tuple[TaskDefinition, ...] = Field(min_length=1, description="The tasks of the stage.")


class DocumentText(_Frozen):
    """A text printed on an issued document: in Indonesian, and in English where the catalogue gives it."""

    id: str = Field(min_length=1, description="Indonesian.")
    en: str | None = Field(default=None, min_length=1, description="English, printed under the Indonesian.")


class PrintedOutput(_Frozen):
    """One output of an agency's approval, printed on the issued document under its label."""

    output: str = Field(pattern=_OUTPUT_NAME, description="The output's name, one of its task's `outputs`.")
    agency: str | None = Field(
        default=None, pattern=_CODE, description="The agency whose approval gives it; the issuing agency by default."
    )
    label: DocumentText = Field(description="The label printed before the value.")


class DocumentTemplate(_Frozen):
    """The document a service issues: who issues it, what it is called, what it prints, how long it is valid,
    whether its original is collected at the counter, and how it is numbered."""

    agency: str | None = Field(
        default=None, pattern=_CODE, description="The agency that issues it; the agency of the last stage by default."
    )
    title: DocumentText = Field(description="The document's title.")
    outputs: tuple[PrintedOutput, ...] = Field(default=(), description="The decision outputs printed, in order.")
    valid_days: int | None = Field(
        default=None, ge=1, le=36_500, description="Days it is valid from issue; none when it does not expire."
    )
    holder_field: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9_]{0,63}$",
        description="The form field naming whom the document is about when that is not the applicant (the child on "
        "a birth certificate); one of the issuing task's `visible_fields`. The applicant's name by default; the "
        "masked NIK printed is always the applicant's.",
    )
    collect_at_counter: bool = Field(
        default=False, description="Whether the citizen collects the original at the agency's counter."
    )
    number_format: str = Field(
        min_length=1,
        description="The number's format, e.g. `SKCK/{agency}/{year}/{serial:05d}`: `{agency}` is the issuing "
        "agency's code in capitals, `{year}` the year of issue, `{serial}` the agency's gapless count in that year.",
    )

    @field_validator("number_format")
    @classmethod
    def _number_format_fields(cls, value: str) -> str:
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
            unknown = names - _NUMBER_FIELDS
            if unknown:
                raise ValueError(f"unknown fields {sorted(unknown)}; use {sorted(_NUMBER_FIELDS)}")
            if "serial" not in names:
                raise ValueError("needs `{serial}`, or two documents would share a number")
            value.format(agency="X", year=2026, serial=1)
        except (ValueError, IndexError) as invalid:
            raise ValueError(f"number_format {value!r}: {invalid}") from invalid
        return value

    def number(self, *, agency: str, year: int, serial: int) -> str:
        """The number of the ``serial``-th document ``agency`` (its code) issued in ``year``."""
        return self.number_format.format(agency=agency.upper(), year=year, serial=serial)


class Fee(_Frozen):
    """What a service costs and when it is paid: the bill the payment service issues on submission (issue 21)."""

    amount: int = Field(ge=1, le=1_000_000_000, description="Whole rupiah, never fractions.")
    kind: Literal["pnbp", "retribusi"] = Field(
        description="`pnbp`: a central agency's non-tax revenue (SIMPONI billing codes); `retribusi`: a region's levy."
    )
    agency: str | None = Field(
        default=None,
        pattern=_CODE,
        description="The agency it is paid to; the agency that owns the service by default.",
    )
    pay_before: Literal["first_stage", "issuing"] = Field(
        default="first_stage",
        description="Where the workflow waits for the payment: before any agency starts, or before the stage of the "
        "agency that issues the service's document.",
    )
    expiry_days: int = Field(default=7, ge=1, le=60, description="Days an unpaid bill lasts before it expires.")


class ServiceDefinition(_Frozen):
    """One public service of the catalogue."""

    code: str = Field(pattern=r"^[a-z][a-z0-9-]{1,31}$", description="The service's code, e.g. `pbg`.")
    name: LocalizedText = Field(description="The service's name.")
    description: LocalizedText = Field(description="What the citizen gets.")
    agency: str = Field(pattern=_CODE, description="The agency that owns the service.")
    fields: tuple[FieldDefinition, ...] = Field(description="The application form's fields.")
    documents: tuple[DocumentRequirement, ...] = Field(default=(), description="Documents asked for.")
    stages: tuple[StageDefinition, ...] = Field(min_length=1, description="The processing stages, in order.")
    sla_working_days: int = Field(ge=1, le=365, description="Total completion time in working days.")
    cost: LocalizedText = Field(description="What the service costs.")
    product: LocalizedText = Field(description="What the citizen receives.")
    document: DocumentTemplate | None = Field(
        default=None, description="The document issued when the agency issuing it approves; none when none is."
    )
    fee: Fee | None = Field(default=None, description="The fee and when it is paid; none for a free service.")
    applicant_kinds: tuple[ApplicantKind, ...] = Field(
        default=("person",),
        min_length=1,
        description="Who may apply: `person` (for themselves), `business` (through a representative with a power of "
        "attorney, `surat_kuasa`), or both.",
    )

    @model_validator(mode="after")
    def _references_resolve(self) -> Self:
        field_names = {f.name for f in self.fields}
        document_names = {d.name for d in self.documents}
        if len(field_names) != len(self.fields):
            raise ValueError("field names must be unique")
        if len(document_names) != len(self.documents):
            raise ValueError("document names must be unique")
        if POWER_OF_ATTORNEY.name in document_names:
            raise ValueError(f"document {POWER_OF_ATTORNEY.name!r} is the power of attorney every business gives")
        if len(set(self.applicant_kinds)) != len(self.applicant_kinds):
            raise ValueError("applicant_kinds must be unique")
        seen_agencies: set[str] = set()
        for index, stage in enumerate(self.stages):
            stage_agencies = [task.agency for task in stage.tasks]
            if len(set(stage_agencies)) != len(stage_agencies):
                raise ValueError(f"stages[{index}]: an agency may have one task per stage")
            for task in stage.tasks:
                unknown = set(task.visible_fields) - field_names
                if unknown:
                    raise ValueError(f"stages[{index}] {task.agency}: unknown visible_fields {sorted(unknown)}")
                unknown = set(task.visible_documents) - document_names
                if unknown:
                    raise ValueError(f"stages[{index}] {task.agency}: unknown visible_documents {sorted(unknown)}")
                early = set(task.needs_outputs_from) - seen_agencies
                if early:
                    raise ValueError(
                        f"stages[{index}] {task.agency}: needs outputs of later or unknown {sorted(early)}"
                    )
            seen_agencies.update(stage_agencies)
        return self

    def accepts(self, kind: str) -> bool:
        """Whether an applicant of ``kind`` (`person` or `business`) may apply."""
        return kind in self.applicant_kinds

    def documents_for(self, kind: str) -> tuple[DocumentRequirement, ...]:
        """The documents an applicant of ``kind`` gives: the service's own, and a business's power of attorney."""
        return (*self.documents, POWER_OF_ATTORNEY) if kind == "business" else self.documents

    def field(self, name: str) -> FieldDefinition | None:
        """The form field called ``name``, if any."""
        return next((f for f in self.fields if f.name == name), None)

    def issuing_agency(self) -> str | None:
        """The agency that issues the service's document (the catalogue checked there is one), if it issues one."""
        if self.document is None:
            return None
        if self.document.agency is not None:
            return self.document.agency
        return self.stages[-1].tasks[0].agency

    def issuing_stage(self) -> int | None:
        """The stage whose issuing agency's task issues the document: the last one that agency has a task in; None
        when the service issues nothing (or, before the catalogue is checked, the issuer has no task)."""
        issuer = self.issuing_agency()
        stages = [index for index, stage in enumerate(self.stages) if issuer in {task.agency for task in stage.tasks}]
        return stages[-1] if issuer is not None and stages else None

    def fee_problems(self, known_agencies: set[str]) -> list[str]:
        """What is wrong with the fee: an unknown payee, or payment before issuing for a service that issues
        nothing."""
        if self.fee is None:
            return []
        problems = []
        if self.fee.agency is not None and self.fee.agency not in known_agencies:
            problems.append(f"fee: unknown agency {self.fee.agency!r}")
        if self.fee.pay_before == "issuing" and self.document is None:
            problems.append("fee: pay_before issuing needs a `document` block saying who issues")
        return problems

    def payment_stage(self) -> int | None:
        """The stage that waits for the fee (0: before any agency starts), when the service has one."""
        if self.fee is None:
            return None
        if self.fee.pay_before == "first_stage":
            return 0
        return self.issuing_stage()

    def document_problems(self, known_agencies: set[str]) -> list[str]:
        """What is wrong with the document block: an unknown or absent issuer, an output no task gives."""
        document = self.document
        if document is None:
            return []
        if document.agency is None and len(self.stages[-1].tasks) > 1:
            last = [task.agency for task in self.stages[-1].tasks]
            return [f"document: the last stage has several agencies {last}; say which one issues it (`agency`)"]
        issuer = self.issuing_agency()
        if issuer not in known_agencies:
            return [f"document: unknown agency {issuer!r}"]
        issuing_stage = self.issuing_stage()
        if issuing_stage is None:
            return [f"document: agency {issuer!r} has no task in the service"]
        issuing_task = next(task for task in self.stages[issuing_stage].tasks if task.agency == issuer)
        if document.holder_field is not None and document.holder_field not in issuing_task.visible_fields:
            return [f"document.holder_field: {document.holder_field!r} is not visible to the issuing agency {issuer}"]
        available: dict[str, set[str]] = {}
        for stage in self.stages[: issuing_stage + 1]:
            for task in stage.tasks:
                available.setdefault(task.agency, set()).update(task.outputs)
        problems: list[str] = []
        seen: set[tuple[str, str]] = set()
        for index, printed in enumerate(document.outputs):
            agency = printed.agency or issuer
            where = f"document.outputs[{index}]"
            if agency not in available:
                problems.append(f"{where}: {agency!r} has no task in or before the issuing stage")
            elif printed.output not in available[agency]:
                given = sorted(available[agency])
                problems.append(f"{where}: unknown output {printed.output!r} of {agency} (its tasks give {given})")
            if (agency, printed.output) in seen:
                problems.append(f"{where}: {agency} {printed.output!r} is printed twice")
            seen.add((agency, printed.output))
        return problems


class ComplaintCategory(_Frozen):
    """What a complaint may be about, and how many working days the agency's complaint desk has to answer it."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,31}$", description="The category's code, e.g. `slow`.")
    label: LocalizedText = Field(description="What the complainant picks on the form.")
    sla_working_days: int = Field(
        ge=1, le=60, description="Working days the complaint desk has to answer; the complaint's due date."
    )


class Catalogue(_Frozen):
    """The whole catalogue, versioned; each application records the version it was submitted under."""

    version: str = Field(min_length=1, description="The catalogue's version, e.g. `2026.11.1`.")
    agencies: tuple[Agency, ...] = Field(min_length=1, description="Agencies serving at the mall.")
    services: tuple[ServiceDefinition, ...] = Field(min_length=1, description="The services offered.")
    complaint_categories: tuple[ComplaintCategory, ...] = Field(
        default=(), description="What a complaint may be about, each with its own service standard."
    )

    @model_validator(mode="after")
    def _agencies_known(self) -> Self:
        known = {agency.code for agency in self.agencies}
        if len(known) != len(self.agencies):
            raise ValueError("agency codes must be unique")
        codes = [service.code for service in self.services]
        if len(set(codes)) != len(codes):
            raise ValueError("service codes must be unique")
        for service in self.services:
            used = {service.agency} | {task.agency for stage in service.stages for task in stage.tasks}
            unknown = used - known
            if unknown:
                raise ValueError(f"service {service.code}: unknown agencies {sorted(unknown)}")
            problems = service.document_problems(known) + service.fee_problems(known)
            if problems:
                raise ValueError(f"service {service.code}: {'; '.join(problems)}")
        categories = [category.code for category in self.complaint_categories]
        if len(set(categories)) != len(categories):
            raise ValueError(f"complaint category codes must be unique: {categories}")
        return self

    def agency_codes(self) -> set[str]:
        """Every agency's code."""
        return {agency.code for agency in self.agencies}

    def agency(self, code: str) -> Agency | None:
        """The agency with ``code``, if any."""
        return next((a for a in self.agencies if a.code == code), None)

    def escalated_agency(self, escalation_target: str) -> Agency | None:
        """The agency whose escalation target is ``escalation_target`` (as a breach event names it), if any."""
        return next((a for a in self.agencies if a.escalation_target == escalation_target), None)

    def service(self, code: str) -> ServiceDefinition | None:
        """The service with ``code``, if any."""
        return next((s for s in self.services if s.code == code), None)

    def complaint_category(self, code: str) -> ComplaintCategory | None:
        """The complaint category with ``code``, if any."""
        return next((c for c in self.complaint_categories if c.code == code), None)
