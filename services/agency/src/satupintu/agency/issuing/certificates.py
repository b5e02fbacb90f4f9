"""The keys and X.509 certificates agencies sign their issued documents with (decision 0025).

Each agency signs with an ECDSA P-256 key and a certificate chain kept as two PEM files in one directory:
``<code>.key.pem`` (PKCS#8, unencrypted, mode 0600) and ``<code>.chain.pem`` (the agency's certificate first, then
the certificates above it up to the root). In production the installation gives the directory
(``AGENCY_SIGNING_KEYS_DIR``: certificates from the national CA, BSrE); unset, a development CA in the auth keys
directory makes them on first use: one root, "Satu Pintu Development Root CA", and one certificate per agency
(:class:`satupintu.common.document_ca.DocumentCA`, which ``make secrets`` makes an installation's CA with too).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped]  # pyHanko's ASN.1 library ships no hints
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pyhanko.sign.signers import Signer, SimpleSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore

from satupintu.common.catalogue import Agency
from satupintu.common.document_ca import (
    DocumentCA,
    SigningKey,
    certifies,
    chain_file,
    issuing_agencies,
    key_file,
)

__all__ = [
    "DEVELOPMENT_DIRECTORY",
    "ROOT_FILE",
    "ROOT_NAME",
    "AgencySigner",
    "DevelopmentCA",
    "SigningKey",
    "SigningKeyError",
    "agency_signer",
    "chain_file",
    "issuing_agencies",
    "key_file",
    "load_agency_signer",
    "signing_key_problems",
]

DEVELOPMENT_DIRECTORY = "document-signing"
"""Where, inside the auth keys directory, the development CA keeps its files."""
ROOT_NAME = "Satu Pintu Development Root CA"
ROOT_FILE = "development-root"


class SigningKeyError(Exception):
    """An agency's signing key or certificate chain is missing or unfit; the message names the agency and file."""


@dataclass(frozen=True)
class AgencySigner:
    """What signs an agency's documents: a pyHanko signer (a key in memory here; a PKCS#11 token would fit as well)
    and the certificate chain embedded in every signature, the agency's certificate first."""

    agency: str
    chain: tuple[x509.Certificate, ...]
    signer: Signer

    @property
    def certificate(self) -> x509.Certificate:
        """The agency's own certificate."""
        return self.chain[0]

    @classmethod
    def from_key(cls, agency: str, key: SigningKey, chain: Iterable[x509.Certificate]) -> AgencySigner:
        """A signer holding ``key`` in memory, for the certificate that starts ``chain``."""
        certificates = tuple(chain)
        if not certificates:
            raise SigningKeyError(f"agency {agency}: the certificate chain is empty")
        if not certifies(certificates[0], key):
            raise SigningKeyError(f"agency {agency}: the first certificate of the chain is not for the signing key")
        der = serialization.Encoding.DER
        pkcs8 = key.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        as_asn1 = [asn1_x509.Certificate.load(certificate.public_bytes(der)) for certificate in certificates]
        signer = SimpleSigner(
            signing_cert=as_asn1[0],
            signing_key=asn1_keys.PrivateKeyInfo.load(pkcs8),
            cert_registry=_certificate_store(as_asn1),
        )
        return cls(agency=agency, chain=certificates, signer=signer)


def load_agency_signer(directory: Path, code: str) -> AgencySigner:
    """Agency ``code``'s signer from ``<code>.key.pem`` and ``<code>.chain.pem`` in ``directory``."""
    key_path, chain_path = key_file(directory, code), chain_file(directory, code)
    for path in (key_path, chain_path):
        if not path.is_file():
            raise SigningKeyError(f"agency {code}: no {path.name} in {directory}")
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        chain = x509.load_pem_x509_certificates(chain_path.read_bytes())
    except ValueError as unreadable:
        raise SigningKeyError(f"agency {code}: {key_path.name} or {chain_path.name} is not PEM: {unreadable}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise SigningKeyError(f"agency {code}: {key_path.name} must hold an ECDSA or RSA key")
    return AgencySigner.from_key(code, key, chain)


def signing_key_problems(directory: Path | None, agencies: Iterable[Agency]) -> list[str]:
    """Why the agencies that issue documents could not sign them in production: the directory unset, or an agency's
    key or chain missing or unfit there; each problem names the agency. Empty when every agency can sign."""
    issuing = sorted(agencies, key=lambda agency: agency.code)
    if not issuing:
        return []
    if directory is None:
        names = ", ".join(agency.code for agency in issuing)
        return [
            f"AGENCY_SIGNING_KEYS_DIR is not set, so the documents of {names} would be signed by a development CA "
            "made up on the spot; set it to the directory of each agency's <code>.key.pem and <code>.chain.pem"
        ]
    problems = []
    for agency in issuing:
        try:
            load_agency_signer(directory, agency.code)
        except SigningKeyError as unfit:
            problems.append(f"agency {agency.code} ({agency.name.id}) issues documents but cannot sign them: {unfit}")
    return problems


def agency_signer(agency: Agency, *, signing_keys_dir: Path | None, development_keys_dir: Path) -> AgencySigner:
    """The signer of ``agency``: from ``signing_keys_dir`` when the installation gives one, else the development
    CA's in ``development_keys_dir`` (made on first use; production refuses to start without the directory)."""
    if signing_keys_dir is not None:
        return load_agency_signer(signing_keys_dir, agency.code)
    return DevelopmentCA(development_keys_dir / DEVELOPMENT_DIRECTORY).signer_for(agency)


class DevelopmentCA(DocumentCA):
    """The local CA: a root, "Satu Pintu Development Root CA", and one certificate per agency, kept in ``directory``
    in the production layout."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory, ROOT_NAME, ROOT_FILE)

    def signer_for(self, agency: Agency, now: datetime | None = None) -> AgencySigner:
        """``agency``'s signer, its key and certificate made (and issued by the root) the first time."""
        self.issue(agency, now)
        return load_agency_signer(self.directory, agency.code)


def _certificate_store(certificates: Iterable[asn1_x509.Certificate]) -> SimpleCertificateStore:
    store = SimpleCertificateStore()  # type: ignore[no-untyped-call]  # pyhanko-certvalidator leaves __init__ unannotated
    for certificate in certificates:
        store.register(certificate)
    return store
