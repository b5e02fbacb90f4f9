"""The keys and X.509 certificates agencies sign their issued documents with (decision 0025).

Each agency signs with an ECDSA P-256 key and a certificate chain kept as two PEM files in one directory:
``<code>.key.pem`` (PKCS#8, unencrypted, mode 0600) and ``<code>.chain.pem`` (the agency's certificate first, then
the certificates above it up to the root). In production the installation gives the directory
(``AGENCY_SIGNING_KEYS_DIR``: certificates from the national CA, BSrE); unset, a development CA in the auth keys
directory makes them on first use: one root, "Satu Pintu Development Root CA", and one certificate per agency.
Every file is written once, race-safely (the first process to link it wins; the others read its file), so
processes starting together end with one CA.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped]  # pyHanko's ASN.1 library ships no hints
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from pyhanko.sign.signers import Signer, SimpleSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore

from satupintu.common.catalogue import Agency, Catalogue

DEVELOPMENT_DIRECTORY = "document-signing"
"""Where, inside the auth keys directory, the development CA keeps its files."""
ROOT_NAME = "Satu Pintu Development Root CA"
ROOT_FILE = "development-root"
ROOT_VALIDITY = timedelta(days=3652)
AGENCY_VALIDITY = timedelta(days=1096)
BACKDATING = timedelta(hours=1)
"""Certificates start an hour early, so a reader whose clock is a little behind still finds them valid."""

SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


class SigningKeyError(Exception):
    """An agency's signing key or certificate chain is missing or unfit; the message names the agency and file."""


def key_file(directory: Path, code: str) -> Path:
    """Where agency ``code``'s private signing key is kept in ``directory``."""
    return directory / f"{code}.key.pem"


def chain_file(directory: Path, code: str) -> Path:
    """Where agency ``code``'s certificate chain (its own first, then up to the root) is kept in ``directory``."""
    return directory / f"{code}.chain.pem"


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
        if not _certifies(certificates[0], key):
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


def issuing_agencies(catalogue: Catalogue) -> list[Agency]:
    """The agencies that issue documents: those the catalogue's `document` blocks name (or imply: the last stage's)."""
    issuers = {service.issuing_agency() for service in catalogue.services if service.document is not None}
    return [agency for agency in catalogue.agencies if agency.code in issuers]


def agency_signer(agency: Agency, *, signing_keys_dir: Path | None, development_keys_dir: Path) -> AgencySigner:
    """The signer of ``agency``: from ``signing_keys_dir`` when the installation gives one, else the development
    CA's in ``development_keys_dir`` (made on first use; production refuses to start without the directory)."""
    if signing_keys_dir is not None:
        return load_agency_signer(signing_keys_dir, agency.code)
    return DevelopmentCA(development_keys_dir / DEVELOPMENT_DIRECTORY).signer_for(agency)


class DevelopmentCA:
    """The local CA: a root and one certificate per agency, kept in ``directory`` in the production layout."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @property
    def root_certificate_file(self) -> Path:
        """The root's certificate: what a validator is told to trust."""
        return self.directory / f"{ROOT_FILE}.cert.pem"

    def root(self, now: datetime | None = None) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        """The root's key and certificate, made the first time."""
        key = _load_ec_key(_write_once(key_file(self.directory, ROOT_FILE), _new_key_pem, private=True))
        pem = _write_once(self.root_certificate_file, lambda: _root_certificate_pem(key, now or datetime.now(UTC)))
        certificate = x509.load_pem_x509_certificate(pem)
        if not _certifies(certificate, key):
            raise SigningKeyError(f"{self.root_certificate_file} is not the certificate of {ROOT_FILE}.key.pem")
        return key, certificate

    def root_certificate(self) -> x509.Certificate:
        """The root's certificate, made the first time."""
        return self.root()[1]

    def signer_for(self, agency: Agency, now: datetime | None = None) -> AgencySigner:
        """``agency``'s signer, its key and certificate made (and issued by the root) the first time."""
        moment = now or datetime.now(UTC)
        root_key, root_certificate = self.root(moment)
        key = _load_ec_key(_write_once(key_file(self.directory, agency.code), _new_key_pem, private=True))

        def issue() -> bytes:
            certificate = _agency_certificate(agency, key, root_key, root_certificate, moment)
            encoding = serialization.Encoding.PEM
            return certificate.public_bytes(encoding) + root_certificate.public_bytes(encoding)

        _write_once(chain_file(self.directory, agency.code), issue)
        return load_agency_signer(self.directory, agency.code)


def _write_once(path: Path, make: Callable[[], bytes], *, private: bool = False) -> bytes:
    """The content of ``path``, made by ``make`` and linked into place the first time (mode 0600 when
    ``private``); when another process links it first, its content."""
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        temporary.write_bytes(make())
        if private:
            temporary.chmod(0o600)
        try:
            os.link(temporary, path)  # the first process to get here wins; the others read its file
        except FileExistsError:
            pass
        finally:
            temporary.unlink(missing_ok=True)
    return path.read_bytes()


def _certifies(certificate: x509.Certificate, key: SigningKey) -> bool:
    """Whether ``certificate`` is for ``key``'s public half."""
    der, info = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return certificate.public_key().public_bytes(der, info) == key.public_key().public_bytes(der, info)


def _certificate_store(certificates: Iterable[asn1_x509.Certificate]) -> SimpleCertificateStore:
    store = SimpleCertificateStore()  # type: ignore[no-untyped-call]  # pyhanko-certvalidator leaves __init__ unannotated
    for certificate in certificates:
        store.register(certificate)
    return store


def _new_key_pem() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _load_ec_key(pem: bytes) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise SigningKeyError("a development signing key must be an ECDSA key")
    return key


def _root_certificate_pem(key: ec.EllipticCurvePrivateKey, now: datetime) -> bytes:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, ROOT_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Satu Pintu"),
        ]
    )
    public_key = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATING)
        .not_valid_after(now + ROOT_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


def _agency_certificate(
    agency: Agency,
    key: ec.EllipticCurvePrivateKey,
    root_key: ec.EllipticCurvePrivateKey,
    root: x509.Certificate,
    now: datetime,
) -> x509.Certificate:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, agency.name.id),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, agency.code),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "ID"),
        ]
    )
    public_key = key.public_key()
    root_identifier = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(root.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATING)
        .not_valid_after(min(now + AGENCY_VALIDITY, root.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True, content_commitment=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_identifier), critical=False)
        .sign(root_key, hashes.SHA256())
    )


def _key_usage(
    *, digital_signature: bool = False, content_commitment: bool = False, key_cert_sign: bool = False
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,  # nonRepudiation
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=key_cert_sign,
        encipher_only=False,
        decipher_only=False,
    )
