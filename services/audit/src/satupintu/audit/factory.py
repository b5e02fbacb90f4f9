"""The audit process's context besides the shared runtime: the engine of the writer role, the checkpoint signer,
the use cases, and a lifespan that prepares the append-only schema before anything is consumed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from satupintu.audit.config import AuditSettings
from satupintu.audit.services import AuditQueries, AuditService, CheckpointService, Clock
from satupintu.audit.signing import CheckpointSigner, KeyRing, load_or_create_signing_key, load_public_keys
from satupintu.audit.storage.schema import prepare_log
from satupintu.common.database import create_engine, session_factory
from satupintu.common.runtime import ServiceRuntime

SERVICE_NAME = "audit"
LOCAL_CHECKPOINT_KEY = "audit-checkpoint-ed25519.pem"


@dataclass
class AuditContext:
    """What the audit process works with: appends and queries go through ``writer_engine`` (the writer role, when
    configured); the runtime's engine (the database owner) only prepares the schema and relays the outbox."""

    runtime: ServiceRuntime
    settings: AuditSettings
    writer_engine: AsyncEngine
    signer: CheckpointSigner
    trail: AuditService
    checkpoints: CheckpointService
    queries: AuditQueries

    @classmethod
    def build(cls, runtime: ServiceRuntime, settings: AuditSettings, clock: Clock) -> AuditContext:
        """Wire the use cases to the writer's sessions, the outbox and the signing key."""
        writer_engine = _writer_engine(runtime, settings)
        sessions = session_factory(writer_engine)
        key_path = settings.checkpoint_key_path or settings.auth.keys_dir / LOCAL_CHECKPOINT_KEY
        signer = CheckpointSigner(load_or_create_signing_key(key_path))
        key_ring = checkpoint_key_ring(signer, settings)
        hash_key = settings.hash_key.encode()
        checkpoints = CheckpointService(sessions, signer, clock)
        return cls(
            runtime=runtime,
            settings=settings,
            writer_engine=writer_engine,
            signer=signer,
            trail=AuditService(sessions, hash_key, clock),
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
        )

    @asynccontextmanager
    async def lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        """Prepare the append-only schema and the writer role, run the runtime (consumers, relay), take
        checkpoints at the configured interval; dispose of the writer's engine at the end."""
        try:
            await prepare_log(
                self.runtime.engine,
                self.settings.database.database_name(SERVICE_NAME),
                self.settings.writer_role or None,
                self.settings.writer_password,
            )
            async with self.runtime.lifespan(app):
                self.runtime.spawn(self.checkpoints.run(self.settings.checkpoint_interval_seconds))
                yield
        finally:
            if self.writer_engine is not self.runtime.engine:
                await self.writer_engine.dispose()
            await self.runtime.engine.dispose()


def checkpoint_key_ring(signer: CheckpointSigner, settings: AuditSettings) -> KeyRing:
    """The keys checkpoints may be signed with: the signer's and the retired ones of
    ``checkpoint_retired_keys_path``."""
    retired_path = settings.checkpoint_retired_keys_path
    retired = load_public_keys(retired_path.read_bytes()) if retired_path is not None else []
    return KeyRing([signer.public_key, *retired], described_as="the configured key ring (current and retired keys)")


def _writer_engine(runtime: ServiceRuntime, settings: AuditSettings) -> AsyncEngine:
    if not settings.writer_role:
        return runtime.engine
    url = make_url(settings.database.url).set(username=settings.writer_role, password=settings.writer_password)
    writer = settings.database.model_copy(update={"url": url.render_as_string(hide_password=False)})
    return create_engine(writer, SERVICE_NAME)
