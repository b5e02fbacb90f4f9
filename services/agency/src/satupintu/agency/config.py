"""Configuration of the agency service (the officers' desk), read once at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from satupintu.agency.issuing.certificates import issuing_agencies, signing_key_problems
from satupintu.common.catalogue import load_catalogue
from satupintu.common.oidc.settings import OidcSettings
from satupintu.common.production import Secret
from satupintu.common.settings import ServiceSettings


class AgencySettings(ServiceSettings):
    """Agency desk settings; environment variables start with ``AGENCY_``."""

    model_config = SettingsConfigDict(env_prefix="AGENCY_", extra="ignore")

    port: int = Field(default=8003, ge=1, le=65535, description="Port the HTTP server listens on.")
    documents_dir: Path = Field(
        default=Path(".run/documents"),
        description="Where intake keeps uploaded documents (`<dir>/<sha[:2]>/<sha>`); read only, by hash.",
    )
    document_keys: Annotated[str | None, Secret()] = Field(
        default=None,
        description=(
            "The keys intake seals documents with (INTAKE_DOCUMENT_KEYS), `kid:base64key,...`: every key a stored "
            "document may name. Unset: the local development key in the auth keys directory, shared with an intake "
            "on the same machine."
        ),
    )
    claim_ttl_seconds: float = Field(
        default=1800.0, gt=0, description="How long an officer's claim on a task lasts before it returns to the pool."
    )
    due_soon_working_days: int = Field(
        default=1,
        ge=0,
        description="A task is `due_soon` when it is due before the end of this many working days from today.",
    )
    collective_leave: list[str] = Field(
        default_factory=list,
        description="Collective-leave days (cuti bersama) as ISO dates; not working days when judging SLA state.",
    )
    reader_private_keys_dir: Path | None = Field(
        default=None,
        description=(
            "Directory holding `reader-agency.<code>.pem` of every agency the desk serves: the private keys citizens' "
            "keys are wrapped for on `keys.agency.<code>` (decision 0016). Unset: development pairs in the auth keys "
            "directory."
        ),
    )
    signing_keys_dir: Path | None = Field(
        default=None,
        description=(
            "Directory of each issuing agency's document-signing key and certificates (decision 0025): "
            "`<code>.key.pem` (PKCS#8 ECDSA P-256 or RSA private key, unencrypted, mode 0600) and `<code>.chain.pem` "
            "(the agency's certificate first, then its issuers up to the root: BSrE's for Indonesia). `make secrets` "
            "makes an installation CA's (`agency-signing-keys`). Unset: a development CA in the auth keys directory "
            "makes a root and one certificate per agency; production refuses to start so."
        ),
    )
    verification_base_url: str = Field(
        default="http://127.0.0.1:8001",
        pattern=r"^https?://[^\s]+$",
        description="Intake's public address: an issued document's QR code links to `<this>/verify/<document id>`, "
        "the page anyone may open to check it.",
    )
    encryption_keys: Annotated[str | None, Secret()] = Field(
        default=None,
        description=(
            "Keys for the personal data in the task inbox, `kid:base64key,...` (first is current). "
            "Unset: a local development key in the auth keys directory."
        ),
    )
    session_secret: Annotated[str | None, Secret()] = Field(
        default=None,
        description="Secret that signs the desk's page-state cookie (one-time messages; who is signed in is kept "
        "server-side). Unset: a local secret in the auth keys directory.",
    )
    secure_cookies: bool = Field(
        default=False, description="Send the session cookie only over HTTPS; turn on behind TLS in production."
    )
    oidc: OidcSettings = Field(
        default_factory=OidcSettings,
        description="The sign-in provider and the desk's client there (`OIDC_*`); officers sign in there.",
    )

    def production_problems(self) -> list[str]:
        """Without the agencies' reader keys, the desk would open citizens' keys with development pairs made on
        the spot, for which intake wraps nothing; without an issuing agency's signing key and chain, its documents
        would be signed by a development CA no one trusts."""
        problems = super().production_problems()
        if self.reader_private_keys_dir is None:
            problems.append(
                "AGENCY_READER_PRIVATE_KEYS_DIR is not set, so development reader keys would be made up on the spot; "
                "set it to the directory of every reader-agency.<code>.pem from make secrets"
            )
        problems.extend(signing_key_problems(self.signing_keys_dir, issuing_agencies(load_catalogue())))
        return problems
