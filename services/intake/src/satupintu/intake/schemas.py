"""Intake's HTTP request and response models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field

from satupintu.common.identity import is_valid_phone, parse_nik
from satupintu.intake.domain import InvalidValue, ValueProblem
from satupintu.intake.forms import CleanText


def _json_scalar(value: object) -> object:
    if value is not None and not isinstance(value, str | int | float | bool):
        raise InvalidValue(
            ValueProblem.NOT_A_SCALAR, "must be text, a number, true/false or null, not a list or an object"
        )
    return value


FormValue = Annotated[Any, AfterValidator(_json_scalar)]
"""A form field's value: a JSON scalar (its type is checked against the catalogue afterwards)."""


def _valid_nik(value: str) -> str:
    parse_nik(value, today=date.today())  # its InvalidNik (a ValueError) says which rule the NIK breaks
    return value


def _valid_phone(value: str) -> str:
    if not is_valid_phone(value):
        raise InvalidValue(
            ValueProblem.NOT_A_PHONE_NUMBER, "a phone number is +62 or 0 followed by 9 to 12 digits, e.g. 081234567890"
        )
    return value


Nik = Annotated[str, AfterValidator(_valid_nik)]
Phone = Annotated[str, AfterValidator(_valid_phone)]


class BusinessCreate(BaseModel):
    """A business applying through a representative; checked by format only (digits, no punctuation)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    nib: str = Field(
        pattern=r"^[0-9]{13}$", description="13-digit NIB (Nomor Induk Berusaha, from OSS).", examples=["8120001234567"]
    )
    npwp: str = Field(
        pattern=r"^[0-9]{15}([0-9])?$",
        description="NPWP: 16 digits, or the legacy 15, digits only.",
        examples=["0012345678901000"],
    )
    name: Annotated[CleanText, Field(max_length=200)] = Field(
        description="The business's registered name, e.g. `PT Maju Jaya`."
    )


class ApplicantCreate(BaseModel):
    """Who applies: a person for themselves, or a business (``kind`` `business`, ``business`` given) through a
    representative, whose NIK, name and contact the person fields then are."""

    model_config = ConfigDict(extra="forbid", strict=True)

    kind: Literal["person", "business"] = Field(
        default="person", description="`person`, or `business` for a business applying through a representative."
    )
    business: BusinessCreate | None = Field(
        default=None, description="The business, when `kind` is `business` (see the service's `applicant_kinds`)."
    )
    nik: Nik = Field(
        description="16-digit NIK (Nomor Induk Kependudukan); a business's representative's.",
        examples=["3171015506900002"],
    )
    name: Annotated[CleanText, Field(max_length=120)] = Field(
        description="Full name as on the KTP; a business's representative's."
    )
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
    data: dict[str, FormValue] = Field(description="The service's form fields (see `GET /services/{code}`).")
    documents: list[DocumentReference] = Field(
        default_factory=list, max_length=20, description="Uploaded documents, by hash."
    )
    consent_reuse: bool = Field(
        description=(
            "Whether data on file may be reused (with `one_time_code`, for the agencies the citizen granted in the "
            "mall's consent ledger), and this data kept for reuse (once its contact is confirmed)."
        )
    )
    one_time_code: str | None = Field(
        default=None,
        pattern=r"^[0-9]{6}$",
        description="The code sent to the contact on file (`POST /profile/verification`); needed to reuse data.",
    )


_UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


class ContactCode(BaseModel):
    """The code the citizen at the counter read out: it proves the contact their application gives."""

    model_config = ConfigDict(extra="forbid", strict=True)

    verification_id: str = Field(pattern=_UUID, description="The verification `POST /counter/contact-codes` answered.")
    code: str = Field(pattern=r"^[0-9]{6}$", description="The 6-digit code sent to the citizen's contact.")


class CounterApplicationCreate(ApplicationCreate):
    """An application a clerk submits at a mall's counter for the citizen in front of them: the citizen's
    application, validated exactly like it, with the code proving the contact and the citizen's queue ticket."""

    contact_code: ContactCode = Field(description="The code sent to the contact the application gives.")
    ticket_id: str | None = Field(
        default=None, pattern=_UUID, description="The citizen's ticket in the mall's queue, linked at once."
    )


class ContactCodeRequest(BaseModel):
    """A clerk asks for a one-time code to the contact the citizen at the counter gives."""

    model_config = ConfigDict(extra="forbid", strict=True)

    nik: Nik = Field(description="The citizen's NIK.")
    email: EmailStr | None = Field(default=None, max_length=254, description="The citizen's e-mail address.")
    phone: Phone | None = Field(default=None, description="The citizen's phone number (used when no e-mail is given).")
    language: Literal["id", "en"] = Field(default="id", description="Language of the message.")


class ContactCodeSent(BaseModel):
    """A code went to the contact given; the citizen reads it out to the clerk."""

    verification_id: str = Field(description="The verification, to submit with the code.")
    expires_at: datetime = Field(description="When the code stops working.")


class ApplicationAccepted(BaseModel):
    """What the citizen gets back: how to follow the application."""

    application_id: str = Field(description="The application's id.")
    tracking_code: str = Field(description="Short, unguessable code to track the application with.")
    status: Literal["submitted"] = Field(description="Always `submitted` on acceptance.")
    submitted_at: datetime = Field(description="When the application was accepted.")
    verification_id: str | None = Field(
        default=None,
        description=(
            "When the application kept data for reuse without a one-time code: the verification whose code was "
            "sent to the contact given. Confirming it (`POST /profile/verification/confirm`) lets that data be "
            "reused, unless the NIK's profile already has a verified contact, which only a counter clerk can change."
        ),
    )


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
    applicant_kinds: list[Literal["person", "business"]] = Field(
        description="Who may apply: `person`, and `business` when a business may apply through a representative."
    )
    business_documents: list[dict[str, Any]] = Field(
        description="Documents a business application gives on top of `documents`: the power of attorney "
        "(`surat_kuasa`) of its representative; empty when businesses may not apply."
    )
    stages: list[dict[str, Any]] = Field(description="Processing stages and the agencies acting in each.")


class TaskStatus(BaseModel):
    """One agency's part, as the citizen sees it (no internal id: the agency and the stage name it)."""

    agency: str = Field(description="Lower-case agency code.")
    agency_name: dict[str, str] = Field(description="The agency's name in id and en.")
    stage_index: int = Field(description="The stage it belongs to.")
    state: str = Field(description="assigned, claimed, information_requested, approved, rejected or withdrawn.")
    due_at: datetime | None = Field(description="When the service standard says it must be done.")
    questions: list[str] = Field(description="What the agency asks, while it waits for an answer.")


class TimelineItem(BaseModel):
    """Something that happened, in order."""

    at: datetime = Field(description="When.")
    kind: str = Field(description="The event type, e.g. application.stage_started.")
    agency: str | None = Field(description="The agency involved, if one.")
    detail: dict[str, Any] = Field(
        description=(
            "What the event said that the citizen may see: `stage_index`, `stage_name`, `agencies`, `state`, "
            "`questions`, `outputs`, `reason`, `due_at`, as the kind has them; never an internal id."
        )
    )


class DocumentCollection(BaseModel):
    """The original of an issued document, collected at the mall's counter."""

    collected_at: datetime = Field(description="When it was handed over.")
    by_holder: bool = Field(description="Whether the holder took it in person (false: a representative).")


BillState = Literal["awaiting_payment", "paid", "expired", "cancelled"]
"""A bill's fate as the citizen sees it: still to pay, paid, run out unpaid, or withdrawn (the application ended)."""


class BillStatus(BaseModel):
    """An application's fee: what to pay, to whom, how (billing code, QRIS) and by when, and what became of it.
    Nothing personal: anyone holding the tracking code may pay it."""

    kind: Literal["pnbp", "retribusi"] = Field(description="`pnbp` (central agency) or `retribusi` (the region).")
    agency: str = Field(description="Lower-case code of the agency the fee is paid to.")
    agency_name: dict[str, str] = Field(description="Its name in id and en.")
    amount: int = Field(description="What to pay, in whole rupiah.")
    currency: Literal["IDR"] = Field(default="IDR", description="Always rupiah.")
    billing_code: str = Field(description="The billing code to pay with at a bank, post office or the counter.")
    qris: str = Field(description="The dynamic QRIS payload (what a banking app scans).")
    qris_png: str | None = Field(
        description="Where the QRIS code's PNG image is, while the bill is still to pay (null afterwards)."
    )
    status: BillState = Field(description="`awaiting_payment`, `paid`, `expired` or `cancelled`.")
    pay_before_stage: int = Field(description="The workflow stage that waits for the payment (0: the first).")
    billed_at: datetime = Field(description="When it was billed.")
    expires_at: datetime = Field(description="When it expires unpaid (and the application is cancelled).")
    paid_at: datetime | None = Field(default=None, description="When it was paid.")
    channel: Literal["gateway", "counter"] | None = Field(default=None, description="Where it was paid.")
    reference: str | None = Field(default=None, description="The gateway's transaction id or the receipt number.")
    ended_at: datetime | None = Field(default=None, description="When it expired or was withdrawn.")


class IssuedDocumentStatus(BaseModel):
    """A document issued for the application, as its tracking page shows it (the PDF itself only to the applicant:
    tracking code and NIK, or signed in)."""

    document_id: str = Field(description="The document's id (UUID): its verification page is `/verify/{document_id}`.")
    title: dict[str, str] = Field(description="What the document is, in id (and en where the catalogue gives it).")
    agency: str = Field(description="Lower-case code of the issuing agency.")
    number: str = Field(description="The document's number.")
    issued_at: datetime = Field(description="When it was issued (signed).")
    valid_until: date | None = Field(description="Its last valid day (in Jakarta); null when it does not expire.")
    status: Literal["valid", "revoked", "expired"] = Field(
        description="`revoked` once its issuer revoked it (it can still be downloaded), else `expired` past "
        "`valid_until`, else `valid`."
    )
    collect_at_counter: bool = Field(description="Whether the original is collected at the mall's counter.")
    collected: DocumentCollection | None = Field(description="Its collection at the counter, once it happened.")


class DocumentDownloadRequest(BaseModel):
    """Who asks for an issued document's PDF by tracking code: only the applicant's NIK opens it."""

    model_config = ConfigDict(extra="forbid", strict=True)

    nik: str = Field(
        min_length=1,
        max_length=32,
        description="The applicant's NIK. Anything else, well-formed or not, is answered like an unknown "
        "tracking code.",
    )


class ApplicationStatus(BaseModel):
    """An application's state and timeline: no personal data beyond a masked NIK and the name's initials."""

    tracking_code: str = Field(description="The tracking code.")
    service_code: str = Field(description="The catalogue service.")
    service_name: dict[str, str] = Field(description="Its name in id and en.")
    status: str = Field(
        description="submitted, in_progress, information_requested, completed, rejected or cancelled (its fee was "
        "not paid in time)."
    )
    applicant_nik: str = Field(
        description="The applicant's (a business's: its representative's) NIK: its last 4 digits only "
        "(`************0002`)."
    )
    applicant_initials: str = Field(description="The applicant's initials (a business's: its representative's).")
    business_name: str | None = Field(
        default=None, description="For a business's application: the business, which the person above represents."
    )
    submitted_at: datetime = Field(description="When intake accepted it.")
    updated_at: datetime = Field(description="When it last changed.")
    due_at: datetime | None = Field(description="When the current stage's tasks are due.")
    sla_breached: bool = Field(description="Whether the service standard's time has passed.")
    current_stage: int | None = Field(description="The running stage, from 0.")
    stage_count: int | None = Field(description="How many stages there are.")
    tasks: list[TaskStatus] = Field(description="Every agency's task so far.")
    outputs: dict[str, Any] = Field(description="What the agencies produced, once completed.")
    reason: str | None = Field(description="Why it was rejected, if it was.")
    timeline: list[TimelineItem] = Field(description="What happened, oldest first.")
    documents: list[IssuedDocumentStatus] = Field(
        default_factory=list, description="The documents issued for it, oldest first (none until one is issued)."
    )
    bill: BillStatus | None = Field(default=None, description="Its fee, once billed (null for a service without one).")


class InformationAnswer(BaseModel):
    """The citizen's answer to an agency's question: changed form fields, a message, more documents."""

    model_config = ConfigDict(extra="forbid", strict=True)

    nik: Nik = Field(description="The applicant's NIK: only the applicant may answer.")
    agency: str | None = Field(
        default=None,
        max_length=64,
        description="The code of the agency whose question is answered (optional when only one asks).",
    )
    task_id: str | None = Field(
        default=None,
        max_length=64,
        description="Deprecated, and no longer shown anywhere: name the `agency` instead. Still accepted.",
        json_schema_extra={"deprecated": True},
    )
    answers: dict[str, FormValue] = Field(
        default_factory=dict, description="Form fields to correct or add, validated like the original form."
    )
    message: Annotated[CleanText, Field(max_length=2000)] | None = Field(
        default=None, description="A written answer to the agency's questions."
    )
    documents: list[DocumentReference] = Field(default_factory=list, max_length=20, description="More documents.")


class InformationAccepted(BaseModel):
    """The answer was passed to the agency."""

    tracking_code: str = Field(description="The tracking code.")
    agency: str = Field(description="The code of the agency whose question was answered.")
    status: Literal["information_provided"] = Field(description="Always `information_provided`.")
    provided_at: datetime = Field(description="When the answer was accepted.")


class VerificationRequest(BaseModel):
    """Ask for a one-time code to the contact on file, to reuse data given before (or to confirm that contact)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    nik: Nik = Field(description="The citizen's NIK.")
    language: Literal["id", "en"] = Field(default="id", description="Language of the message.")


class VerificationSent(BaseModel):
    """A code was recorded, and sent to the contact on file if the NIK has a profile; the answer is the same either
    way and never says where the code went."""

    verification_id: str = Field(description="The verification, to confirm its code with.")
    sent_to: None = Field(
        default=None, description="Always null: where a code goes is not told (it would tell who has a profile)."
    )
    channel: None = Field(default=None, description="Always null, for the same reason.")
    expires_at: datetime = Field(description="When the code stops working.")
    message: str = Field(
        default="If this NIK has a profile, a code was sent to its contact on file.", description="What happened."
    )


class VerificationConfirm(BaseModel):
    """The code a citizen received, to prove the contact it was sent to."""

    model_config = ConfigDict(extra="forbid", strict=True)

    verification_id: str = Field(
        pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
        description="The verification the code belongs to (the `verification_id` a code request answered).",
    )
    code: str = Field(pattern=r"^[0-9]{6}$", description="The 6-digit code.")


class VerificationConfirmed(BaseModel):
    """The code was right: the contact it was sent to is proven, if it is the one on file."""

    status: Literal["confirmed"] = Field(description="Always `confirmed`.")
    message: str = Field(
        default=(
            "Confirmed. If this contact is the one on file for the NIK, data kept there can now be reused; a contact "
            "on file that was verified before is changed only by a counter clerk who sees the KTP."
        ),
        description="What it means.",
    )


class ContactResetCreate(BaseModel):
    """A counter clerk resets the contact on file of a citizen's profile, having seen the citizen's KTP."""

    model_config = ConfigDict(extra="forbid", strict=True)

    nik: Nik = Field(description="The citizen's NIK, as on the KTP the clerk saw.")
    ktp_seen: Literal[True] = Field(description="The clerk confirms they saw the citizen's KTP (must be true).")
    email: EmailStr | None = Field(default=None, max_length=254, description="The new e-mail address.")
    phone: Phone | None = Field(default=None, description="The new phone number (used when no e-mail is given).")
    language: Literal["id", "en"] = Field(default="id", description="Language of the notices.")


class ContactResetDone(BaseModel):
    """The contact on file was replaced; the old contact (if any) and the new one are told."""

    reset_id: str = Field(description="The reset's id (the notices' subject, and the audit log's).")
    status: Literal["reset"] = Field(description="Always `reset`.")


class ErasureCreate(BaseModel):
    """An operator enters a citizen's request to erase their personal data (UU PDP Art. 8, 16)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    nik: Nik = Field(description="The citizen's NIK, as on the KTP the request came with.")
    reference: Annotated[CleanText, Field(min_length=1, max_length=100)] = Field(
        description="The reference of the citizen's request (their letter, the counter's ticket), for the audit log."
    )


class ErasureDone(BaseModel):
    """The citizen's personal data was erased: their key destroyed everywhere, intake's copies emptied."""

    erasure_id: str = Field(description="The erasure's id.")
    status: Literal["erased"] = Field(description="Always `erased`.")
    erased_at: datetime = Field(description="When it was carried out.")
    applications: int = Field(description="How many of the citizen's applications were emptied.")
    readers: list[str] = Field(
        description="The readers the citizen's key went to, each now sent its tombstone (`notification`, "
        "`agency.<code>`): they delete their copy and whatever only it opened."
    )
    documents: int = Field(description="How many documents no other application referred to were deleted.")


class DocumentVerification(BaseModel):
    """What anyone holding an issued document may check of it (``GET /verify/{document_id}``): whether its issuer
    stands by it, who issued it, its number, dates and content hash, and of the holder only the initials and the
    NIK's last four digits (enough to catch a QR code copied onto a forged paper, nothing more)."""

    document_id: str = Field(description="The document's id (UUID), as printed in its QR code.")
    status: Literal["valid", "revoked"] = Field(
        description="`valid`: issued and not revoked; `revoked`: its issuer revoked it (see `revoked_at`, "
        "`revocation_reason`). An unknown document is answered 404."
    )
    expired: bool = Field(description="Whether its last valid day (`valid_until`, in Jakarta) has passed.")
    agency: str = Field(description="Lower-case code of the issuing agency.")
    agency_name: dict[str, str] = Field(description="The issuing agency's name in id and en.")
    number: str = Field(description="The document's number.")
    issued_at: datetime = Field(description="When it was issued (signed).")
    valid_until: date | None = Field(description="Its last valid day; null when it does not expire.")
    sha256: str = Field(description="Hex SHA-256 of the signed PDF: a copy whose hash differs is not this document.")
    holder_initials: str = Field(description="The holder's initials (`R. K.`).")
    holder_nik: str = Field(description="The holder's NIK: its last 4 digits only (`************0001`).")
    revoked_at: datetime | None = Field(description="When it was revoked, if it was.")
    revocation_reason: str | None = Field(description="Why it was revoked, if it was.")
