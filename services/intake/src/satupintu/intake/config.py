"""Configuration of the intake service, read once in ``create_app()``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from satupintu.common.oidc.settings import OidcSettings
from satupintu.common.production import Secret
from satupintu.common.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    """Intake settings; environment variables start with ``INTAKE_``."""

    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    cpu_niceness: int = Field(
        default=0,
        ge=0,
        le=19,
        description="The process's CPU niceness: the front door runs at normal priority, ahead of the back office "
        "(docs/decisions/0037-the-front-door-first.md).",
    )

    port: int = Field(default=8001, ge=1, le=65535, description="Port the HTTP server listens on.")
    max_body_bytes: int = Field(default=64_000, ge=1024, description="Largest JSON request body accepted (413 above).")
    max_document_bytes: int = Field(
        default=10_000_000, ge=1024, description="Largest document accepted, in bytes (a catalogue's may be smaller)."
    )
    upload_overhead_bytes: int = Field(
        default=65_536,
        ge=1024,
        description=(
            "Bytes an upload's body may hold besides its documents: multipart boundaries and part headers, and a "
            "page form's typed fields. A body over its documents' sizes plus this is refused with 413 as soon as it "
            "passes that (before it is read when its Content-Length says so)."
        ),
    )
    max_upload_bytes_in_flight: int = Field(
        default=40_000_000,
        ge=1024,
        description=(
            "Upload bytes one process receives at once (each upload reserves its Content-Length, or its route's "
            "limit when chunked); past it, uploads get 503 with Retry-After. The temporary directory (TMPDIR, /tmp) "
            "and the memory limit must hold this much."
        ),
    )
    upload_bytes_per_client_per_hour: int = Field(
        default=500_000_000,
        ge=0,
        description=(
            "Upload bytes one client address may send per hour (sliding), counted in intake's database so the "
            "limit holds across replicas and restarts; past it, 429 with Retry-After. 0 turns the limit off."
        ),
    )
    documents_dir: Path = Field(
        default=Path(".run/documents"), description="Where uploaded documents are kept (content-addressed)."
    )
    document_keys: Annotated[str | None, Secret()] = Field(
        default=None,
        description=(
            "Keys that seal uploaded documents at rest, `kid:base64key,kid:base64key` (first seals; every one still "
            "opens). The agency desk reads the documents with the same keys (AGENCY_DOCUMENT_KEYS). Unset: a local "
            "development key in the auth keys directory, which a desk on the same machine shares."
        ),
    )
    unreferenced_document_days: float = Field(
        default=7,
        gt=0,
        description=(
            "Days a document no application refers to is kept after it was last uploaded or referred to; then it is "
            "deleted (file and row)."
        ),
    )
    issued_retention_days: float = Field(
        default=1825,
        ge=0,
        description=(
            "Days after an application was completed that its applicant's data is kept as the record of the issued "
            "document (UU PDP Art. 15(1)(c)); an erasure asked earlier is carried out when they have passed."
        ),
    )
    erasure_interval_seconds: float = Field(
        default=3600,
        gt=0,
        description="How often each replica carries out the erasures whose retention duty has ended.",
    )
    document_care_interval_seconds: float = Field(
        default=3600,
        gt=0,
        description=(
            "How often each replica deletes unreferenced documents past their time and seals documents not yet "
            "sealed with the current documents key (again at once while a run found a full batch)."
        ),
    )
    encryption_keys: Annotated[str | None, Secret()] = Field(
        default=None,
        description=(
            "Keys for personal data at rest, `kid:base64key,kid:base64key` (first is current; others still decrypt). "
            "Unset: a local development key in the auth keys directory."
        ),
    )
    lookup_hash_key: Annotated[str | None, Secret()] = Field(
        default=None,
        description=(
            "Base64 key of the keyed hashes of NIKs: intake's look-ups, and the citizen's pseudonym in events "
            "(`applicant.citizen`), so the mall's `MALL_LOOKUP_HASH_KEY` must be the same value. Unset: a local key."
        ),
    )
    reader_public_keys_dir: Path | None = Field(
        default=None,
        description=(
            "Directory of the readers' public keys, `<reader>.pub.pem` for `notification` and `agency.<code>` of "
            "every agency: citizens' keys are wrapped for them (decision 0016). Unset: development pairs in the "
            "auth keys directory."
        ),
    )
    rate_limit_per_minute: int = Field(
        default=120, ge=0, description="POST requests per client per minute (0 turns the limit off)."
    )
    rate_limit_burst: int = Field(default=30, ge=1, description="POST requests a client may send at once.")
    counter_agencies: list[str] = Field(
        default_factory=lambda: ["dpmptsp"],
        description=(
            "Agencies whose officers submit applications at a mall's counter for the citizen in front of them "
            "(`/counter/*`, decision 0036): the malls' agencies."
        ),
    )
    counter_requests_per_clerk_per_hour: int = Field(
        default=240,
        ge=1,
        description=(
            "A clerk's requests to `/counter/*` (codes and submissions) per sliding hour, across replicas (429 with "
            "Retry-After past it); those paths are not under the per-address limit, the mall's address being shared "
            "by every clerk."
        ),
    )
    codes_per_nik_per_hour: int = Field(
        default=5,
        ge=1,
        description=(
            "One-time codes issued per NIK per sliding hour, across replicas and restarts (429 with Retry-After "
            "past it; the lock is recorded in the audit log)."
        ),
    )
    wrong_codes_per_nik: int = Field(
        default=5,
        ge=1,
        description="Wrong one-time codes per NIK within `lock_hours`; past it, no code of that NIK is checked (429).",
    )
    wrong_niks_per_tracking_code: int = Field(
        default=5,
        ge=1,
        description=(
            "Wrong NIKs given with one tracking code (answering an agency, downloading a document) within "
            "`lock_hours`; past it, no NIK is checked for that tracking code (429). The mall's consent ledger keeps "
            "the same limit."
        ),
    )
    lock_hours: int = Field(
        default=24, ge=1, le=24 * 30, description="The window of the wrong-code and wrong-NIK limits: a lock's length."
    )
    mall_public_url: str = Field(
        default="http://127.0.0.1:8006", description="Where citizens reach the mall (consent ledger, survey)."
    )
    oidc: OidcSettings = Field(
        default_factory=OidcSettings,
        description="Where citizens with an account sign in (`OIDC_*`; decision 0024); nobody needs to.",
    )

    def production_problems(self) -> list[str]:
        """Without the readers' public keys, citizens' keys would be wrapped for development pairs made on the
        spot, which no reader holds."""
        problems = super().production_problems()
        if self.reader_public_keys_dir is None:
            problems.append(
                "INTAKE_READER_PUBLIC_KEYS_DIR is not set, so citizens' keys would be wrapped for development reader "
                "keys made up on the spot; set it to the readers' public keys from make secrets"
            )
        return problems
