"""The intake process's context: the runtime, the catalogue, the document store, the keys, the citizens' sign-in,
the use cases (documents, profiles, applications, tracking, a citizen's own applications, erasure, verifying and
downloading an issued document) and their periodic jobs, built once from settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from satupintu.common.auth import Role
from satupintu.common.catalogue import Catalogue, load_catalogue
from satupintu.common.clock import utc_now
from satupintu.common.document_store import DocumentCipher, LocalDocumentStore
from satupintu.common.keys import field_cipher, lookup_hasher
from satupintu.common.limits import Limiter, Quota
from satupintu.common.lockout import Lockout
from satupintu.common.oidc.sessions import SessionStore
from satupintu.common.oidc.web import SignIn
from satupintu.common.runtime import ServiceRuntime, run_periodically
from satupintu.contract.topics import NOTIFICATION_READER, agency_reader
from satupintu.intake.citizen_keys import CitizenKeys, ReaderKeys
from satupintu.intake.citizens import CitizenService
from satupintu.intake.config import IntakeSettings
from satupintu.intake.documents import DocumentRetention, DocumentService
from satupintu.intake.downloads import DownloadService
from satupintu.intake.erasure import ErasureService
from satupintu.intake.issued import VerificationService
from satupintu.intake.migrations import SCHEMA
from satupintu.intake.profiles import ProfileLimits, ProfileService
from satupintu.intake.services import ApplicationService
from satupintu.intake.tracking import TrackingService

SERVICE_NAME = "intake"
SIGN_IN_PAGE = "/sign-in"
MY_APPLICATIONS_PAGE = "/my-applications"
LIMIT_COUNTERS_CLEANUP_SECONDS = 300.0
LIMIT_COUNTERS_CLEANUP_BATCH = 1000
DOCUMENT_CARE_BATCH = 100
ALL = 2**62
"""A periodic job that handles all that is due in one run: never run again at once."""


@dataclass
class IntakeContext:
    """What the intake process works with. Intake needs no broker to be ready: its outbox keeps what it accepts.
    The periodic jobs (document care, erasure on schedule, removing expired counters and codes) run in the runtime's
    background once it starts."""

    runtime: ServiceRuntime
    settings: IntakeSettings
    catalogue: Catalogue
    limiter: Limiter
    document_store: LocalDocumentStore
    documents: DocumentService
    document_retention: DocumentRetention
    profiles: ProfileService
    applications: ApplicationService
    tracking: TrackingService
    erasures: ErasureService
    citizens: CitizenService
    sign_in: SignIn
    verification: VerificationService
    downloads: DownloadService

    @classmethod
    def build(cls, settings: IntakeSettings) -> IntakeContext:
        """Wire the use cases to the runtime's sessions and outbox, the keys and the document store."""
        catalogue = load_catalogue()
        runtime = ServiceRuntime(SERVICE_NAME, settings, needs_broker=False, schema=SCHEMA)
        keys_dir = settings.auth.keys_dir
        store = LocalDocumentStore(settings.documents_dir, DocumentCipher.configured(settings.document_keys, keys_dir))
        documents = DocumentService(runtime.sessions, store, max_bytes=settings.max_document_bytes)
        cipher = field_cipher(settings.encryption_keys, keys_dir, SERVICE_NAME)
        hasher = lookup_hasher(settings.lookup_hash_key, keys_dir)
        keys = CitizenKeys(cipher, _reader_keys(settings, catalogue), runtime.outbox)
        limiter = Limiter(runtime.engine)
        lock = timedelta(hours=settings.lock_hours)
        profiles = ProfileService(
            runtime.sessions,
            runtime.outbox,
            cipher,
            hasher,
            limiter=limiter,
            limits=ProfileLimits.of(settings.codes_per_nik_per_hour, settings.wrong_codes_per_nik, lock),
            keys=keys,
        )
        applications = ApplicationService(
            runtime.sessions,
            runtime.outbox,
            catalogue=catalogue,
            documents=documents,
            cipher=cipher,
            hasher=hasher,
            profiles=profiles,
            keys=keys,
            submitted=runtime.metrics.counter(
                "satupintu_applications_submitted_total",
                "Applications accepted, by catalogue service.",
                ["service_code"],
            ),
        )
        tracking = TrackingService(
            runtime.sessions,
            runtime.outbox,
            catalogue=catalogue,
            documents=documents,
            cipher=cipher,
            hasher=hasher,
            keys=keys,
            wrong_niks=Lockout(limiter, Quota("intake.wrong-niks", settings.wrong_niks_per_tracking_code, lock)),
        )
        erasures = ErasureService(
            runtime.sessions,
            runtime.outbox,
            hasher,
            store,
            issued_retention=timedelta(days=settings.issued_retention_days),
        )
        sign_in = SignIn(
            settings.oidc,
            SessionStore(runtime.sessions, cipher, utc_now),
            client=SERVICE_NAME,
            port=settings.port,
            roles={Role.CITIZEN, Role.OPERATOR},  # operators: the dead-letter page
            cookie="citizen_session",
            landing=SIGN_IN_PAGE,
            home=MY_APPLICATIONS_PAGE,
        )
        citizens = CitizenService(runtime.sessions, runtime.outbox, catalogue=catalogue, hasher=hasher)
        context = cls(
            runtime=runtime,
            settings=settings,
            catalogue=catalogue,
            limiter=limiter,
            document_store=store,
            documents=documents,
            document_retention=_document_retention(runtime, store, settings),
            profiles=profiles,
            applications=applications,
            tracking=tracking,
            erasures=erasures,
            citizens=citizens,
            sign_in=sign_in,
            verification=VerificationService(runtime.sessions, catalogue),
            downloads=DownloadService(runtime.sessions, runtime.outbox, store, tracking=tracking, citizens=citizens),
        )
        runtime.on_start(context._run_periodic_jobs)
        return context

    def _run_periodic_jobs(self) -> None:
        """In each replica (rows are locked, so replicas share the work): every ``document_care_interval_seconds``
        delete documents no application refers to once past their time and seal every document with the current
        documents key; every ``erasure_interval_seconds`` carry out the erasures whose retention duty has ended; now
        and then remove the limits' old counters and the one-time codes expired for a day."""
        runtime, settings, retention = self.runtime, self.settings, self.document_retention
        care = settings.document_care_interval_seconds
        runtime.spawn(
            run_periodically(
                "deleting unreferenced documents", retention.delete_unreferenced, care, DOCUMENT_CARE_BATCH
            )
        )
        runtime.spawn(
            run_periodically("sealing documents with the current key", retention.reseal, care, DOCUMENT_CARE_BATCH)
        )
        runtime.spawn(
            run_periodically(
                "carrying out erasures whose retention ended",
                self.erasures.carry_out_due,
                settings.erasure_interval_seconds,
                ALL,
            )
        )
        runtime.spawn(
            run_periodically(
                "removing expired limit counters and one-time codes",
                self._remove_expired,
                LIMIT_COUNTERS_CLEANUP_SECONDS,
                LIMIT_COUNTERS_CLEANUP_BATCH,
            )
        )

    async def _remove_expired(self) -> int:
        removed = await self.limiter.remove_expired(LIMIT_COUNTERS_CLEANUP_BATCH)
        return removed + await self.profiles.remove_expired_codes(LIMIT_COUNTERS_CLEANUP_BATCH)


def _reader_keys(settings: IntakeSettings, catalogue: Catalogue) -> ReaderKeys:
    """The public keys of the readers of personal values: notification and every agency."""
    readers = [NOTIFICATION_READER, *(agency_reader(code) for code in sorted(catalogue.agency_codes()))]
    if settings.reader_public_keys_dir is not None:
        return ReaderKeys.from_directory(settings.reader_public_keys_dir, readers)
    return ReaderKeys.for_development(settings.auth.keys_dir, readers)


def _document_retention(
    runtime: ServiceRuntime, store: LocalDocumentStore, settings: IntakeSettings
) -> DocumentRetention:
    """The care of stored documents: deleting the unreferenced, resealing with the current key."""
    return DocumentRetention(
        runtime.sessions,
        store,
        current_key_id=store.cipher.current_key_id,
        keep_unreferenced=timedelta(days=settings.unreferenced_document_days),
        batch_size=DOCUMENT_CARE_BATCH,
        deleted=runtime.metrics.counter(
            "satupintu_documents_deleted_total", "Documents deleted because no application referred to them.", []
        ),
        resealed=runtime.metrics.counter(
            "satupintu_documents_resealed_total",
            "Documents sealed with the current documents key (stored before sealing, or under an older key).",
            [],
        ),
    )
