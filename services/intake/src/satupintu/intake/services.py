"""Intake's use cases: accepting an application, with its events, in one transaction."""

from __future__ import annotations

import hmac
import json
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from satupintu.common.access_log import AccessLog
from satupintu.common.catalogue import Catalogue, ServiceDefinition
from satupintu.common.clock import Clock, utc_now
from satupintu.common.consent import ConsentBook, may_reuse
from satupintu.common.crypto import FieldCipher, KeyedHasher
from satupintu.common.identity import initials, public_nik
from satupintu.common.outbox import Outbox
from satupintu.common.sealing import CitizenKey, seal, seal_fields
from satupintu.contract.applications import Applicant, ApplicationSubmitted, Business
from satupintu.contract.base import DocumentRef
from satupintu.contract.envelope import Event
from satupintu.intake.citizen_keys import CitizenKeys, readers_of
from satupintu.intake.citizens import Identified
from satupintu.intake.domain import SOURCE, FieldError, IdempotencyKeyReused, InvalidApplication, new_tracking_code
from satupintu.intake.forms import form_model, validated_values
from satupintu.intake.profiles import Contact, OneTimeCodeRefused, ProfileService, Reusable
from satupintu.intake.schemas import ApplicantCreate, ApplicationAccepted, ApplicationCreate, DocumentReference
from satupintu.intake.storage.repository import ApplicationRepository, ConsentRepository
from satupintu.intake.storage.tables import IdempotencyRecord


def profile_key(applicant: ApplicantCreate) -> str:
    """Whose once-only profile an application keeps: the person's own (their NIK), or the business's (its NIB, in a
    key space no NIK can reach), never the representative's (decision 0031)."""
    return applicant.nik if applicant.business is None else f"nib:{applicant.business.nib}"


class StoredDocument(Protocol):
    """What intake knows of an uploaded document."""

    media_type: str
    size_bytes: int


class DocumentCatalog(Protocol):
    """Looks up uploaded documents by hash."""

    async def describe(self, sha256s: Sequence[str]) -> dict[str, Any]:
        """The known documents among ``sha256s``."""
        ...

    async def mark_used(self, session: AsyncSession, sha256s: Collection[str], at: datetime) -> set[str]:
        """Note in the caller's transaction that the documents are referred to; the ones still recorded."""
        ...


async def refer_to_documents(
    documents: DocumentCatalog, session: AsyncSession, references: Sequence[DocumentReference], at: datetime
) -> None:
    """Note that an application or an answer refers to its documents, in its transaction; one deleted since it was
    checked (unused for long, by the clean-up) refuses the submission as an unknown document."""
    wanted = {reference.sha256 for reference in references}
    kept = await documents.mark_used(session, wanted, at)
    if wanted - kept:
        raise InvalidApplication(
            [
                FieldError(f"documents/{index}/sha256", "no uploaded document has this hash", "unknown_document")
                for index, reference in enumerate(references)
                if reference.sha256 not in kept
            ]
        )


@dataclass(frozen=True)
class AtTheCounter:
    """A submission by a clerk at a mall's counter for the citizen in front of them (decision 0036): the clerk is
    the actor, the citizen proves the contact given with the code sent to it, and the ticket (if named) is linked."""

    clerk: str
    verification_id: str
    code: str
    ticket_id: str | None = None


@dataclass(frozen=True)
class Submission:
    """The answer to a submission, and whether it replays an earlier one (same Idempotency-Key and body)."""

    accepted: ApplicationAccepted
    replayed: bool


class ApplicationService:
    """Accepting applications: validate against the catalogue, store encrypted, announce through the outbox."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        *,
        catalogue: Catalogue,
        documents: DocumentCatalog,
        cipher: FieldCipher,
        hasher: KeyedHasher,
        profiles: ProfileService,
        keys: CitizenKeys,
        submitted: Counter | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._catalogue = catalogue
        self._documents = documents
        self._cipher = cipher
        self._hasher = hasher
        self._profiles = profiles
        self._keys = keys
        self._submitted = submitted
        self._access = AccessLog(outbox, SOURCE, clock)
        self._clock = clock

    async def submit(
        self,
        request: ApplicationCreate,
        *,
        idempotency_key: str | None = None,
        fingerprint: str = "",
        actor: str = "citizen",
        identified: Identified | None = None,
        counter: AtTheCounter | None = None,
    ) -> Submission:
        """Validate, then store the application and its ``application.submitted`` event together. ``identified``:
        the citizen signed in with an account; applying with their own verified NIK, they reuse their profile
        without a one-time code (decision 0024). ``counter``: a clerk submits it for the citizen in front of them,
        validated the same way, once the code sent to the contact given is proven (decision 0036)."""
        service = self._catalogue.service(request.service_code)
        if service is None:
            raise InvalidApplication(
                [FieldError("service_code", f"no service {request.service_code!r} in the catalogue", "unknown_service")]
            )
        self._check_applicant(service, request)
        business = request.applicant.business
        # A business's profile is its own (keyed by its NIB): its representative neither reuses nor overwrites
        # their personal profile with it (decision 0031).
        own = (
            business is None
            and identified is not None
            and hmac.compare_digest(identified.nik.encode(), request.applicant.nik.encode())
        )
        reusable, reused = await self._reusable(service, request, identified=own)
        data = validated_values(form_model(service), {**request.data, **reused}, under="data")
        await self._check_documents(service, request.documents, kind=request.applicant.kind)
        contact_code = await self._proven_contact(request, counter) if counter is not None else None
        application_id = str(uuid.uuid4())
        now = self._clock()
        accepted = ApplicationAccepted(
            application_id=application_id, tracking_code=new_tracking_code(), status="submitted", submitted_at=now
        )
        async with self._sessions() as session, session.begin():
            repository = ApplicationRepository(session)
            if idempotency_key is not None:
                owned = await repository.claim_idempotency_key(
                    IdempotencyRecord(
                        key=idempotency_key,
                        request_hash=fingerprint,
                        application_id=application_id,
                        response=accepted.model_dump(mode="json"),
                        created_at=now,
                    )
                )
                if not owned:
                    earlier = await repository.idempotency_record(idempotency_key)
                    if earlier is None or earlier.request_hash != fingerprint:
                        raise IdempotencyKeyReused(idempotency_key)
                    return Submission(ApplicationAccepted.model_validate(earlier.response), replayed=True)
            await self._spend_codes(session, contact_code, reusable)
            if request.consent_reuse:
                applicant = request.applicant
                verification_id = await self._profiles.keep(
                    session,
                    profile_key(applicant),
                    email=applicant.email,
                    phone=applicant.phone,
                    language=applicant.language,
                    fields={
                        field.name: data[field.name] for field in service.fields if field.profile and field.name in data
                    },
                    proven=reusable is not None,
                    identified=own,
                )
                if verification_id is not None:
                    accepted = accepted.model_copy(update={"verification_id": verification_id})
                    if idempotency_key is not None:
                        await repository.answer_idempotently(idempotency_key, accepted.model_dump(mode="json"))
            await refer_to_documents(self._documents, session, request.documents, now)
            row = self._row(accepted, service, request, data, now)
            row["reused_fields"] = sorted(reused)
            if own and reused and identified is not None:
                await self._access.record(
                    session,
                    identified.actor,
                    subject_id=application_id,
                    resource=f"profile:{row['nik_hash']}",
                    action="reuse-profile",
                    outcome="granted",
                    reason="signed in with an account whose verified NIK is the applicant's",
                )
            key = await self._keys.shared_key(session, row["nik_hash"], readers_of(service), now)
            await repository.insert(row)
            event = self._event(
                accepted,
                service,
                request,
                data,
                key,
                actor=counter.clerk if counter else actor,
                reused_fields=tuple(sorted(reused)),
                counter=counter,
            )
            await self._outbox.add(session, event)
        if self._submitted is not None:
            self._submitted.labels(service.code).inc()
        return Submission(accepted, replayed=False)

    async def _spend_codes(self, session: AsyncSession, contact_code: str | None, reusable: Reusable | None) -> None:
        """Use up, in the submission's transaction, the code proving the contact at the counter and the one proving
        the profile reused; one used concurrently refuses the submission."""
        if contact_code is not None:
            try:
                await self._profiles.spend_contact_code(session, contact_code)
            except OneTimeCodeRefused as refused:
                raise InvalidApplication([FieldError("contact_code/code", str(refused), "invalid_code")]) from refused
        if reusable is not None:
            try:
                await self._profiles.spend(session, reusable)
            except OneTimeCodeRefused as refused:
                raise InvalidApplication([FieldError("one_time_code", str(refused), "invalid_code")]) from refused

    async def _proven_contact(self, request: ApplicationCreate, counter: AtTheCounter) -> str:
        """The code proving the contact the application gives, sent to it at the clerk's request; refused as an
        invalid field (``contact_code/code``) when wrong, or when the application gives no contact."""
        applicant = request.applicant
        contact = Contact.given(applicant.email, applicant.phone)
        if contact is None:
            raise InvalidApplication(
                [FieldError("applicant/email", "give the citizen's e-mail address or phone number", "missing")]
            )
        try:
            return await self._profiles.proven_contact(applicant.nik, contact, counter.verification_id, counter.code)
        except OneTimeCodeRefused as refused:
            raise InvalidApplication([FieldError("contact_code/code", str(refused), "invalid_code")]) from refused

    async def _reusable(
        self, service: ServiceDefinition, request: ApplicationCreate, *, identified: bool
    ) -> tuple[Reusable | None, dict[str, Any]]:
        """Profile values the citizen may leave out: only with consent, proof (a valid one-time code sent to the
        contact on file, or being signed in as the NIK's holder: ``identified``), and the citizen's grant for every
        agency the value reaches (``satupintu.common.consent``)."""
        reusable: Reusable | None = None
        if not request.consent_reuse or request.applicant.business is not None:
            return None, {}  # a business's profile is reused by no one yet: see decision 0031
        if identified:
            values = await self._profiles.own_values(request.applicant.nik)
        elif request.one_time_code:
            try:
                reusable = await self._profiles.reusable(request.applicant.nik, request.one_time_code)
            except OneTimeCodeRefused as refused:
                raise InvalidApplication([FieldError("one_time_code", str(refused), "invalid_code")]) from refused
            values = reusable.values
        else:
            return None, {}
        profile_fields = {field.name for field in service.fields if field.profile}
        async with self._sessions() as session:
            book = ConsentBook(await ConsentRepository(session).lines(self._hasher.hash(request.applicant.nik)))
        reused = {
            name: value
            for name, value in values.items()
            if name in profile_fields and name not in request.data and may_reuse(book, service, name)
        }
        return reusable, reused

    @staticmethod
    def _check_applicant(service: ServiceDefinition, request: ApplicationCreate) -> None:
        """A business only where the service takes businesses, and its details exactly when it is one."""
        applicant = request.applicant
        if not service.accepts(applicant.kind):
            kinds = ", ".join(service.applicant_kinds)
            raise InvalidApplication(
                [FieldError("applicant/kind", f"{service.code} is applied for by: {kinds}", "kind_not_accepted")]
            )
        if applicant.kind == "business" and applicant.business is None:
            raise InvalidApplication(
                [FieldError("applicant/business", "a business applicant gives its NIB, NPWP and name", "missing")]
            )
        if applicant.kind == "person" and applicant.business is not None:
            raise InvalidApplication(
                [FieldError("applicant/business", "only a business applicant (kind business) gives a business")]
            )

    async def _check_documents(
        self, service: ServiceDefinition, documents: list[DocumentReference], *, kind: str = "person"
    ) -> None:
        requirements = {requirement.name: requirement for requirement in service.documents_for(kind)}
        stored = await self._documents.describe([document.sha256 for document in documents]) if documents else {}
        errors: list[FieldError] = []
        seen: set[str] = set()
        for index, document in enumerate(documents):
            path = f"documents/{index}"
            requirement = requirements.get(document.name)
            if requirement is None:
                errors.append(FieldError(f"{path}/name", f"{service.code} asks for no document {document.name!r}"))
                continue
            if document.name in seen:
                errors.append(FieldError(f"{path}/name", f"document {document.name!r} given twice", "duplicate"))
            seen.add(document.name)
            found = stored.get(document.sha256)
            if found is None:
                errors.append(FieldError(f"{path}/sha256", "no uploaded document has this hash", "unknown_document"))
            elif found.media_type not in requirement.media_types:
                allowed = ", ".join(requirement.media_types)
                errors.append(FieldError(f"{path}/sha256", f"{found.media_type} is not accepted; use {allowed}"))
            elif found.size_bytes > requirement.max_bytes:
                errors.append(FieldError(f"{path}/sha256", f"larger than {requirement.max_bytes} bytes", "too_large"))
        errors += [
            FieldError("documents", f"the required document {name!r} is missing", "missing")
            for name, requirement in requirements.items()
            if requirement.required and name not in seen
        ]
        if errors:
            raise InvalidApplication(errors)

    def _row(
        self,
        accepted: ApplicationAccepted,
        service: ServiceDefinition,
        request: ApplicationCreate,
        data: dict[str, Any],
        now: datetime,
    ) -> dict[str, Any]:
        """The new application's row (every column of ``applications``): written by a plain INSERT, the one write
        of every submission, without building an ORM object to flush (docs/performance.md)."""
        applicant = request.applicant
        personal_names = {field.name for field in service.fields if field.personal}
        personal = {name: value for name, value in data.items() if name in personal_names}
        encrypt = self._cipher.encrypt
        return {
            "id": accepted.application_id,
            "tracking_code": accepted.tracking_code,
            "service_code": service.code,
            "catalogue_version": self._catalogue.version,
            "status": "submitted",
            "nik_hash": self._hasher.hash(applicant.nik),
            "nik_ciphertext": encrypt(applicant.nik, "applications.nik"),
            "name_ciphertext": encrypt(applicant.name, "applications.name"),
            "email_ciphertext": encrypt(applicant.email, "applications.email") if applicant.email else None,
            "phone_ciphertext": encrypt(applicant.phone, "applications.phone") if applicant.phone else None,
            "name_initials": initials(applicant.name),
            "nik_masked": public_nik(applicant.nik),
            "language": applicant.language,
            "applicant_kind": applicant.kind,
            "business_nib": applicant.business.nib if applicant.business else None,
            "business_name": applicant.business.name if applicant.business else None,
            "business_npwp_ciphertext": (
                encrypt(applicant.business.npwp, "applications.business_npwp") if applicant.business else None
            ),
            "data": {name: value for name, value in data.items() if name not in personal_names},
            "personal_data_ciphertext": (
                encrypt(json.dumps(personal, ensure_ascii=False), "applications.personal_data") if personal else None
            ),
            "documents": [document.model_dump() for document in request.documents],
            "consent_reuse": request.consent_reuse,
            "reused_fields": [],
            "current_stage": None,
            "stage_count": None,
            "due_at": None,
            "outputs": {},
            "outcome_reason": None,
            "sla_breached": False,
            "submitted_at": now,
            "updated_at": now,
        }

    def _event(
        self,
        accepted: ApplicationAccepted,
        service: ServiceDefinition,
        request: ApplicationCreate,
        data: dict[str, Any],
        key: CitizenKey,
        *,
        actor: str,
        reused_fields: tuple[str, ...],
        counter: AtTheCounter | None = None,
    ) -> Event[ApplicationSubmitted]:
        """The event, with every personal value sealed with the citizen's key (decision 0016)."""
        subject = accepted.application_id
        given = request.applicant

        def sealed(name: str, value: str | None) -> str | None:
            return None if value is None else seal(value, key, subject=subject, field=f"applicant/{name}")

        business = given.business
        applicant = Applicant(
            kind=given.kind,
            business=(
                None
                if business is None
                else Business(
                    nib=business.nib,
                    npwp=seal(business.npwp, key, subject=subject, field="applicant/business/npwp"),
                    name=business.name,
                )
            ),
            nik=seal(given.nik, key, subject=subject, field="applicant/nik"),
            name=seal(given.name, key, subject=subject, field="applicant/name"),
            email=sealed("email", given.email),
            phone=sealed("phone", given.phone),
            language=given.language,
            citizen=self._hasher.hash(given.nik),
        )
        personal = {field.name for field in service.fields if field.personal}
        return Event(
            payload=ApplicationSubmitted(
                application_id=accepted.application_id,
                tracking_code=accepted.tracking_code,
                service_code=service.code,
                catalogue_version=self._catalogue.version,
                applicant=applicant,
                data=seal_fields(data, personal, key, subject=subject),
                documents=tuple(DocumentRef(name=d.name, sha256=d.sha256) for d in request.documents),
                reused_fields=reused_fields,
                submitted_at=accepted.submitted_at,
                channel="online" if counter is None else "counter",
                ticket_id=counter.ticket_id if counter else None,
            ),
            source=SOURCE,
            subject=accepted.application_id,
            actor=actor,
        )
