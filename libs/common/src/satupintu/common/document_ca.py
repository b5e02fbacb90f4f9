"""A certificate authority for the agencies' document-signing keys (decision 0025): one root, and one ECDSA P-256 key
and certificate per agency, kept as PEM files in one directory in the layout the agency desk reads
(``AGENCY_SIGNING_KEYS_DIR``): ``<code>.key.pem`` (PKCS#8, unencrypted, mode 0600) and ``<code>.chain.pem`` (the
agency's certificate, then the root's).

The desk makes a development CA with it on first use; ``make secrets`` an installation's (its root in a directory of
its own, only the agencies' files given to the desk). Neither is what a production installation signs with in the
end: there the keys and certificates come from the national CA (BSrE) or an HSM. Every file is written once,
race-safely (the first process to link it wins; the others read its file), so processes starting together end with
one CA.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from satupintu.common.catalogue import Agency, Catalogue

ROOT_FILE = "root"
"""The root's files in a CA's directory: ``<this>.key.pem`` and ``<this>.cert.pem``."""
ROOT_VALIDITY = timedelta(days=3652)
AGENCY_VALIDITY = timedelta(days=1096)
BACKDATING = timedelta(hours=1)
"""Certificates start an hour early, so a reader whose clock is a little behind still finds them valid."""

SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


class CertificateAuthorityError(Exception):
    """A CA's files do not belong together (a root certificate that is not for the root's key)."""


def key_file(directory: Path, code: str) -> Path:
    """Where agency ``code``'s private signing key is kept in ``directory``."""
    return directory / f"{code}.key.pem"


def chain_file(directory: Path, code: str) -> Path:
    """Where agency ``code``'s certificate chain (its own first, then up to the root) is kept in ``directory``."""
    return directory / f"{code}.chain.pem"


def issuing_agencies(catalogue: Catalogue) -> list[Agency]:
    """The agencies that issue documents: those the catalogue's `document` blocks name (or imply: the last stage's)."""
    issuers = {service.issuing_agency() for service in catalogue.services if service.document is not None}
    return [agency for agency in catalogue.agencies if agency.code in issuers]


def certifies(certificate: x509.Certificate, key: SigningKey) -> bool:
    """Whether ``certificate`` is for ``key``'s public half."""
    der, info = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return certificate.public_key().public_bytes(der, info) == key.public_key().public_bytes(der, info)


class DocumentCA:
    """A root named ``root_name`` and one certificate per agency, kept in ``directory`` (the root as
    ``<root_file>.key.pem`` and ``<root_file>.cert.pem``, each agency as :func:`key_file` and :func:`chain_file`)."""

    def __init__(self, directory: Path, root_name: str, root_file: str = ROOT_FILE) -> None:
        self.directory = directory
        self.root_name = root_name
        self.root_file = root_file

    @property
    def root_key_file(self) -> Path:
        """The root's private key: never given to a service."""
        return key_file(self.directory, self.root_file)

    @property
    def root_certificate_file(self) -> Path:
        """The root's certificate: what a validator is told to trust."""
        return self.directory / f"{self.root_file}.cert.pem"

    def root(self, now: datetime | None = None) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        """The root's key and certificate, made the first time."""
        key = _load_ec_key(_write_once(self.root_key_file, _new_key_pem, private=True))
        pem = _write_once(
            self.root_certificate_file, lambda: _root_certificate_pem(self.root_name, key, now or datetime.now(UTC))
        )
        certificate = x509.load_pem_x509_certificate(pem)
        if not certifies(certificate, key):
            raise CertificateAuthorityError(
                f"{self.root_certificate_file} is not the certificate of {self.root_key_file.name}"
            )
        return key, certificate

    def root_certificate(self) -> x509.Certificate:
        """The root's certificate, made the first time."""
        return self.root()[1]

    def issue(self, agency: Agency, now: datetime | None = None) -> tuple[Path, Path]:
        """``agency``'s key and certificate chain, made (and certified by the root) the first time: their files."""
        moment = now or datetime.now(UTC)
        root_key, root_certificate = self.root(moment)
        key = _load_ec_key(_write_once(key_file(self.directory, agency.code), _new_key_pem, private=True))

        def chain() -> bytes:
            certificate = _agency_certificate(agency, key, root_key, root_certificate, moment)
            encoding = serialization.Encoding.PEM
            return certificate.public_bytes(encoding) + root_certificate.public_bytes(encoding)

        _write_once(chain_file(self.directory, agency.code), chain)
        return key_file(self.directory, agency.code), chain_file(self.directory, agency.code)


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


def _new_key_pem() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _load_ec_key(pem: bytes) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CertificateAuthorityError("a key this CA made must be an ECDSA key")
    return key


def _root_certificate_pem(root_name: str, key: ec.EllipticCurvePrivateKey, now: datetime) -> bytes:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, root_name),
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
