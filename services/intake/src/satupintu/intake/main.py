"""Entry point of the intake service: ``create_app()`` builds the process, ``main()`` serves it."""

from __future__ import annotations

import base64
from datetime import timedelta

from fastapi import FastAPI

from satupintu.common.catalogue import Catalogue, load_catalogue
from satupintu.common.commands import service_main
from satupintu.common.crypto import FieldCipher, KeyedHasher, load_or_create_secret
from satupintu.common.document_store import DocumentCipher, LocalDocumentStore
from satupintu.common.events.topics import NOTIFICATION_READER, agency_reader
from satupintu.common.http import create_service_app, trust_proxies
from satupintu.common.limits import Limiter, Quota
from satupintu.common.lockout import Lockout
from satupintu.common.ratelimit import RateLimitMiddleware
from satupintu.common.runtime import ServiceRuntime, run_periodically
from satupintu.common.uploads import UploadGuard, UploadVolume
from satupintu.intake import consents, status, uploads, web
from satupintu.intake.api import applications, catalogue, documents, erasures, profile, tracking
from satupintu.intake.citizen_keys import CitizenKeys, ReaderKeys
from satupintu.intake.config import IntakeSettings
from satupintu.intake.documents import DocumentRetention, DocumentService
from satupintu.intake.erasure import ErasureService
from satupintu.intake.migrations import SCHEMA
from satupintu.intake.profiles import ProfileLimits, ProfileService
from satupintu.intake.services import ApplicationService
from satupintu.intake.tracking import TrackingService

SERVICE_NAME = "intake"
LIMIT_COUNTERS_CLEANUP_SECONDS = 300.0
LIMIT_COUNTERS_CLEANUP_BATCH = 1000
DOCUMENT_CARE_BATCH = 100
ALL = 2**62
"""A periodic job that handles all that is due in one run: never run again at once."""


def _cipher(settings: IntakeSettings) -> FieldCipher:
    if settings.encryption_keys:
        return FieldCipher.from_spec(settings.encryption_keys)
    local_key = load_or_create_secret(settings.auth.keys_dir / "intake-data-key-local1")
    return FieldCipher({"local1": local_key}, "local1")


def _hasher(settings: IntakeSettings) -> KeyedHasher:
    if settings.lookup_hash_key:
        return KeyedHasher(base64.b64decode(settings.lookup_hash_key))
    return KeyedHasher(load_or_create_secret(settings.auth.keys_dir / "intake-lookup-key"))


def _reader_keys(settings: IntakeSettings, catalogue: Catalogue) -> ReaderKeys:
    readers = [NOTIFICATION_READER, *(agency_reader(code) for code in sorted(catalogue.agency_codes()))]
    if settings.reader_public_keys_dir is not None:
        return ReaderKeys.from_directory(settings.reader_public_keys_dir, readers)
    return ReaderKeys.for_development(settings.auth.keys_dir, readers)


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    """Build the intake service: catalogue, documents and applications APIs, and the outbox relay.

    Intake stays ready while Kafka is down: its outbox keeps what it accepts.
    """
    settings = settings or IntakeSettings()
    the_catalogue = load_catalogue()
    runtime = ServiceRuntime(SERVICE_NAME, settings, needs_broker=False, schema=SCHEMA)
    app = create_service_app(runtime, "Satu Pintu intake: the front door for applications")
    store = LocalDocumentStore(
        settings.documents_dir, DocumentCipher.configured(settings.document_keys, settings.auth.keys_dir)
    )
    document_service = DocumentService(runtime.sessions, store, max_bytes=settings.max_document_bytes)
    app.state.document_store = store
    app.state.document_retention = _care_for_documents(runtime, settings, store)
    app.state.settings = settings
    app.state.catalogue = the_catalogue
    app.state.document_service = document_service
    cipher, hasher = _cipher(settings), _hasher(settings)
    keys = CitizenKeys(cipher, _reader_keys(settings, the_catalogue), runtime.outbox)
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
    app.state.profile_service = profiles
    app.state.application_service = ApplicationService(
        runtime.sessions,
        runtime.outbox,
        catalogue=the_catalogue,
        documents=document_service,
        cipher=cipher,
        hasher=hasher,
        profiles=profiles,
        keys=keys,
        submitted=runtime.metrics.counter(
            "satupintu_applications_submitted_total", "Applications accepted, by catalogue service.", ["service_code"]
        ),
    )
    app.state.erasure_service = _erase_on_schedule(runtime, settings, hasher, store)
    app.state.tracking_service = TrackingService(
        runtime.sessions,
        runtime.outbox,
        catalogue=the_catalogue,
        documents=document_service,
        cipher=cipher,
        hasher=hasher,
        keys=keys,
        wrong_niks=Lockout(limiter, Quota("intake.wrong-niks", settings.wrong_niks_per_tracking_code, lock)),
    )
    status.subscribe(runtime, status.StatusProjection())
    consents.subscribe(runtime, consents.ConsentProjection())
    _bound_uploads(app, runtime, settings, uploads.UploadLimits(settings, the_catalogue), limiter)
    _remove_expired(runtime, limiter, profiles)
    app.add_middleware(  # added after the upload guard, so it runs before it: a cheap refusal first
        RateLimitMiddleware, rate_per_minute=settings.rate_limit_per_minute, burst=settings.rate_limit_burst
    )
    app.include_router(catalogue.router)
    app.include_router(documents.router)
    app.include_router(applications.router)
    app.include_router(tracking.router)
    app.include_router(profile.router)
    app.include_router(erasures.router)
    app.include_router(web.router)
    trust_proxies(app, settings)  # last: it must run before the rate limits
    return app


def _erase_on_schedule(
    runtime: ServiceRuntime, settings: IntakeSettings, hasher: KeyedHasher, store: LocalDocumentStore
) -> ErasureService:
    """Erasure on request, and the retention schedule: every ``erasure_interval_seconds`` each replica carries out
    the requests whose retention duty has ended (each under its row's lock)."""
    erasures = ErasureService(
        runtime.sessions,
        runtime.outbox,
        hasher,
        store,
        issued_retention=timedelta(days=settings.issued_retention_days),
    )

    def start() -> None:
        runtime.spawn(
            run_periodically(
                "carrying out erasures whose retention ended",
                erasures.carry_out_due,
                settings.erasure_interval_seconds,
                ALL,
            )
        )

    runtime.on_start(start)
    return erasures


def _care_for_documents(
    runtime: ServiceRuntime, settings: IntakeSettings, store: LocalDocumentStore
) -> DocumentRetention:
    """Delete documents no application refers to once past their time, and seal every document with the current
    documents key, every ``document_care_interval_seconds`` in each replica (rows are locked, so replicas share the
    work)."""
    retention = DocumentRetention(
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

    def start() -> None:
        interval = settings.document_care_interval_seconds
        runtime.spawn(
            run_periodically(
                "deleting unreferenced documents", retention.delete_unreferenced, interval, DOCUMENT_CARE_BATCH
            )
        )
        runtime.spawn(
            run_periodically("sealing documents with the current key", retention.reseal, interval, DOCUMENT_CARE_BATCH)
        )

    runtime.on_start(start)
    return retention


def _bound_uploads(
    app: FastAPI, runtime: ServiceRuntime, settings: IntakeSettings, limits: uploads.UploadLimits, limiter: Limiter
) -> None:
    """Put the upload guard in front of the upload routes: bodies bounded as they stream, bytes in flight within
    budget, each client's hourly volume counted in the database."""
    limits.check(settings)
    quota = uploads.upload_volume_quota(settings)
    app.add_middleware(
        UploadGuard,
        body_limit=limits,
        bytes_in_flight=settings.max_upload_bytes_in_flight,
        volume=UploadVolume(limiter, quota) if quota else None,
        respond=uploads.respond,
        refused=runtime.metrics.counter(
            "satupintu_uploads_refused_total",
            "Uploads refused before their body was stored, by reason (too-large, longer-than-declared, volume, "
            "busy, unavailable).",
            ["reason"],
        ),
    )


def _remove_expired(runtime: ServiceRuntime, limiter: Limiter, profiles: ProfileService) -> None:
    """Now and then, remove the limits' old counters and the one-time codes expired for a day."""

    async def remove() -> int:
        return await limiter.remove_expired(LIMIT_COUNTERS_CLEANUP_BATCH) + await profiles.remove_expired_codes(
            LIMIT_COUNTERS_CLEANUP_BATCH
        )

    def start() -> None:
        runtime.spawn(
            run_periodically(
                "removing expired limit counters and one-time codes",
                remove,
                LIMIT_COUNTERS_CLEANUP_SECONDS,
                LIMIT_COUNTERS_CLEANUP_BATCH,
            )
        )

    runtime.on_start(start)


def main() -> None:
    """Console script ``satupintu-intake``: serves the service; ``satupintu-intake migrate`` upgrades its database."""
    service_main(SCHEMA, IntakeSettings, create_app)
