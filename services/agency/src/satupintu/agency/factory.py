"""The agency desk's process context: the runtime, the catalogue, the desk's use cases, officers' (and, for the
dead-letter page, operators') sign-in through the provider and the pages' cookie secret, built once from settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from satupintu.agency.config import AgencySettings
from satupintu.agency.issuing.issuer import DocumentIssuer
from satupintu.agency.migrations import SCHEMA
from satupintu.agency.services import DeskService
from satupintu.common.auth import Role
from satupintu.common.catalogue import Catalogue, load_catalogue
from satupintu.common.clock import Clock
from satupintu.common.document_store import DocumentCipher, LocalDocumentStore
from satupintu.common.keys import field_cipher, session_secret
from satupintu.common.oidc.sessions import SessionStore
from satupintu.common.oidc.web import SignIn
from satupintu.common.runtime import ServiceRuntime
from satupintu.common.working_days import parse_dates
from satupintu.contract.topics import agency_reader

SERVICE_NAME = "agency"


@dataclass
class AgencyContext:
    """What the desk process works with."""

    runtime: ServiceRuntime
    settings: AgencySettings
    catalogue: Catalogue
    desk: DeskService
    sign_in: SignIn
    session_secret: str

    @classmethod
    def build(cls, settings: AgencySettings, clock: Clock) -> AgencyContext:
        """Wire the desk to the runtime's sessions, outbox, every agency's reader keys and the document store."""
        catalogue = load_catalogue()
        runtime = ServiceRuntime(SERVICE_NAME, settings, schema=SCHEMA)
        readers = [agency_reader(code) for code in sorted(catalogue.agency_codes())]
        keys = runtime.keep_citizen_keys(readers, private_keys_dir=settings.reader_private_keys_dir)
        keys_dir = settings.auth.keys_dir
        cipher = field_cipher(settings.encryption_keys, keys_dir, SERVICE_NAME)
        issuer = DocumentIssuer.load(  # before any event is taken: a missing key stops the desk, naming the agency
            catalogue,
            signing_keys_dir=settings.signing_keys_dir,
            development_keys_dir=keys_dir,
            verification_base_url=settings.verification_base_url,
        )
        desk = DeskService(
            runtime.sessions,
            runtime.outbox,
            catalogue,
            cipher,
            LocalDocumentStore(settings.documents_dir, DocumentCipher.configured(settings.document_keys, keys_dir)),
            claim_ttl=timedelta(seconds=settings.claim_ttl_seconds),
            due_soon_working_days=settings.due_soon_working_days,
            collective_leave=parse_dates(settings.collective_leave),
            keys=keys,
            issuer=issuer,
            clock=clock,
        )
        sign_in = SignIn(
            settings.oidc,
            SessionStore(runtime.sessions, cipher, clock),
            client="desk",
            port=settings.port,
            roles={Role.OFFICER, Role.SUPERVISOR, Role.OPERATOR},  # operators: the dead-letter page
            cookie="desk_session",
            landing="/login",
            home="/desk",
        )
        return cls(
            runtime=runtime,
            settings=settings,
            catalogue=catalogue,
            desk=desk,
            sign_in=sign_in,
            session_secret=session_secret(settings.session_secret, keys_dir, SERVICE_NAME),
        )
