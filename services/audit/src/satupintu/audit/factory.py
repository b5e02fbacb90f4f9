"""The audit process's context besides the shared runtime: the checkpoint signer, the use cases, the auditors' sign-in
to the pages, and a lifespan that takes checkpoints besides what the runtime runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI

from satupintu.audit.config import AuditSettings
from satupintu.audit.migrations import SCHEMA
from satupintu.audit.recording import EntryReader
from satupintu.audit.services import AuditQueries, AuditService, CheckpointService
from satupintu.audit.signing import CheckpointSigner, KeyRing, load_or_create_signing_key, load_public_keys
from satupintu.common.auth import Role
from satupintu.common.catalogue import Catalogue, load_catalogue
from satupintu.common.clock import Clock, utc_now
from satupintu.common.keys import field_cipher
from satupintu.common.oidc.sessions import SessionStore
from satupintu.common.oidc.web import SignIn
from satupintu.common.runtime import ServiceRuntime

SERVICE_NAME = "audit"
LOCAL_CHECKPOINT_KEY = "audit-checkpoint-ed25519.pem"
PAGES = "/audit/ui"
SIGN_IN_PAGE = f"{PAGES}/login"
SESSION_COOKIE = "audit_session"


@dataclass
class AuditContext:
    """What the audit process works with. Appends, queries and the outbox relay all go through the runtime's engine,
    connected as the service's role, which may only INSERT and SELECT the log's tables (``satupintu-audit migrate``
    grants it so)."""

    runtime: ServiceRuntime
    settings: AuditSettings
    catalogue: Catalogue
    signer: CheckpointSigner
    trail: AuditService
    reader: EntryReader
    checkpoints: CheckpointService
    queries: AuditQueries
    sign_in: SignIn

    @classmethod
    def build(cls, settings: AuditSettings, clock: Clock) -> AuditContext:
        """Wire the use cases to the runtime's sessions, the outbox and the signing key."""
        runtime = ServiceRuntime(SERVICE_NAME, settings, schema=SCHEMA)
        sessions = runtime.sessions
        key_path = settings.checkpoint_key_path or settings.auth.keys_dir / LOCAL_CHECKPOINT_KEY
        signer = CheckpointSigner(load_or_create_signing_key(key_path))
        key_ring = checkpoint_key_ring(signer, settings)
        hash_key = settings.hash_key.encode()
        checkpoints = CheckpointService(sessions, signer, clock)
        measure_checkpoints(runtime, checkpoints)
        cipher = field_cipher(settings.encryption_keys, settings.auth.keys_dir, SERVICE_NAME)
        return cls(
            runtime=runtime,
            settings=settings,
            catalogue=load_catalogue(),
            signer=signer,
            trail=AuditService(sessions),
            reader=EntryReader(hash_key, clock),
            checkpoints=checkpoints,
            queries=AuditQueries(
                sessions,
                runtime.outbox,
                hash_key=hash_key,
                signer=signer,
                key_ring=key_ring,
                checkpoints=checkpoints,
                clock=clock,
                timeline_limit=settings.timeline_limit,
            ),
            sign_in=SignIn(
                settings.oidc,
                SessionStore(sessions, cipher, utc_now),
                client=SERVICE_NAME,
                port=settings.port,
                roles={Role.AUDITOR, Role.OPERATOR},  # operators: the dead-letter page
                cookie=SESSION_COOKIE,
                landing=SIGN_IN_PAGE,
                home=PAGES,
            ),
        )

    @asynccontextmanager
    async def lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        """Run the runtime (the schema check, consumers, relay) and take checkpoints at the configured interval."""
        async with self.runtime.lifespan(app):
            self.runtime.spawn(self.checkpoints.run(self.settings.checkpoint_interval_seconds))
            yield


def measure_checkpoints(runtime: ServiceRuntime, checkpoints: CheckpointService) -> None:
    """Before each scrape, gauge the entries no signed checkpoint covers yet and when the latest was signed: the alert
    on checkpoint signing having stopped reads both (a quiet log takes no new checkpoint, and is not an alarm)."""
    unsigned = runtime.metrics.gauge(
        "satupintu_audit_unsigned_entries", "Audit entries not yet covered by a signed checkpoint.", []
    )
    signed_at = runtime.metrics.gauge(
        "satupintu_audit_last_checkpoint_timestamp_seconds",
        "When the latest checkpoint was signed, as a Unix time (0 before the first).",
        [],
    )

    async def refresh() -> None:
        size, latest = await checkpoints.coverage()
        unsigned.set(size - (latest.tree_size if latest is not None else 0))
        signed_at.set(latest.time.timestamp() if latest is not None else 0)

    runtime.on_metrics(refresh)


def checkpoint_key_ring(signer: CheckpointSigner, settings: AuditSettings) -> KeyRing:
    """The keys checkpoints may be signed with: the signer's and the retired ones of
    ``checkpoint_retired_keys_path``."""
    retired_path = settings.checkpoint_retired_keys_path
    retired = load_public_keys(retired_path.read_bytes()) if retired_path is not None else []
    return KeyRing([signer.public_key, *retired], described_as="the configured key ring (current and retired keys)")
