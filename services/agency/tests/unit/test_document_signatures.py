"""Agencies' PAdES signatures checked by validators no one here wrote: poppler's ``pdfsig`` and pyHanko's validator,
on a signed PDF and on a copy with one digit of its number changed; and the development CA made once, race-safely."""

from __future__ import annotations

import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]  # pyHanko's ASN.1 library ships no hints
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from fpdf import FPDF
from pydantic import ValidationError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext

from satupintu.agency.config import AgencySettings
from satupintu.agency.issuing.certificates import (
    AgencySigner,
    DevelopmentCA,
    chain_file,
    issuing_agencies,
    key_file,
    signing_key_problems,
)
from satupintu.agency.issuing.signing import sign_pdf
from satupintu.common.catalogue import Agency, load_catalogue

pytestmark = pytest.mark.unit

NUMBER = "SKCK/2026/000123"
FORGED = "SKCK/2026/000124"
PDFSIG_VALID = [
    "  - Signature Field Name: Signature1",
    "  - Signer Certificate Common Name: Kepolisian Resor",
    "  - Signer full Distinguished Name: C=ID,O=polres,CN=Kepolisian Resor",
    "  - Signing Hash Algorithm: SHA-256",
    "  - Signature Type: ETSI.CAdES.detached",
    "  - Total document signed",
    "  - Signature Validation: Signature is Valid.",
]
"""What ``pdfsig`` (poppler 22.12) says of the signed document, line by line (the signing time and byte ranges
vary). It goes on with "Certificate Validation: Certificate issuer isn't Trusted.": the development root is not in
poppler's NSS store, which judges the certificate, not the signature."""


@pytest.fixture
def polres() -> Agency:
    agency = load_catalogue().agency("polres")
    assert agency is not None
    return agency


@pytest.fixture
def ca(tmp_path: Path) -> DevelopmentCA:
    return DevelopmentCA(tmp_path / "document-signing")


@pytest.fixture
def signer(ca: DevelopmentCA, polres: Agency) -> AgencySigner:
    return ca.signer_for(polres)


def certificate_document(number: str) -> bytes:
    """A one-page PDF with ``number`` in an uncompressed content stream."""
    pdf = FPDF()
    pdf.set_compression(False)
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.cell(text=f"Surat Keterangan Catatan Kepolisian Nomor {number}")
    return bytes(pdf.output())


def signed_document(signer: AgencySigner) -> bytes:
    return sign_pdf(certificate_document(NUMBER), signer, reason="Dokumen diterbitkan", location="Mal Pelayanan Publik")


def pdfsig(pdf: bytes, tmp_path: Path) -> list[str]:
    """``pdfsig``'s report on ``pdf``, line by line (offline: no OCSP)."""
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(["pdfsig", "-no-ocsp", str(path)], capture_output=True, text=True, check=True)
    print(result.stdout)  # the report shows pdfsig's own words with -s
    return result.stdout.splitlines()


def pdftotext(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "text.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def pyhanko_status(pdf: bytes, root: x509.Certificate) -> PdfSignatureStatus:
    (signature,) = PdfFileReader(BytesIO(pdf)).embedded_signatures
    trust_root = asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER))
    return validate_pdf_signature(signature, ValidationContext(trust_roots=[trust_root]))


def with_one_digit_changed(signed: bytes) -> bytes:
    """``signed`` with the document number's last digit changed inside the content stream: same length, so every
    offset and the cross-reference table stay right and the file still parses."""
    assert signed.count(NUMBER.encode()) == 1
    return signed.replace(NUMBER.encode(), FORGED.encode())


def test_pdfsig_finds_the_agencys_signature_valid_over_the_whole_document(signer: AgencySigner, tmp_path: Path) -> None:
    report = pdfsig(signed_document(signer), tmp_path)

    assert [line for line in report if line in PDFSIG_VALID] == PDFSIG_VALID
    assert "  - Certificate Validation: Certificate issuer isn't Trusted." in report


def test_pyhanko_finds_the_signature_intact_valid_and_chaining_to_the_development_root(
    ca: DevelopmentCA, signer: AgencySigner
) -> None:
    status = pyhanko_status(signed_document(signer), ca.root_certificate())

    assert (status.intact, status.valid, status.trusted) == (True, True, True)
    assert status.bottom_line
    assert status.coverage is not None
    assert status.coverage.name == "ENTIRE_FILE"
    assert status.signing_cert.subject.native == {
        "country_name": "ID",
        "organization_name": "polres",
        "common_name": "Kepolisian Resor",
    }
    assert status.validation_path is not None
    assert [c.subject.native["common_name"] for c in status.validation_path] == [
        "Satu Pintu Development Root CA",
        "Kepolisian Resor",
    ]


def test_the_signature_is_added_as_an_incremental_update_with_the_chain_embedded(signer: AgencySigner) -> None:
    original = certificate_document(NUMBER)
    signed = sign_pdf(original, signer, reason="Dokumen diterbitkan", location="Mal Pelayanan Publik")

    assert signed.startswith(original)
    (signature,) = PdfFileReader(BytesIO(signed)).embedded_signatures
    embedded = {c.chosen.subject.native["common_name"] for c in signature.signed_data["certificates"]}
    assert embedded == {"Kepolisian Resor", "Satu Pintu Development Root CA"}
    assert signature.sig_object["/Reason"] == "Dokumen diterbitkan"


def test_one_changed_digit_of_the_number_is_a_digest_mismatch_to_pdfsig_and_not_intact_to_pyhanko(
    ca: DevelopmentCA, signer: AgencySigner, tmp_path: Path
) -> None:
    tampered = with_one_digit_changed(signed_document(signer))

    assert FORGED in pdftotext(tampered, tmp_path)  # the file still parses and shows the forged number
    report = pdfsig(tampered, tmp_path)
    assert "  - Signature Validation: Digest Mismatch." in report
    assert "  - Signature Validation: Signature is Valid." not in report
    status = pyhanko_status(tampered, ca.root_certificate())
    assert not status.intact
    assert not status.bottom_line


def fingerprint(certificate: x509.Certificate) -> bytes:
    return certificate.fingerprint(hashes.SHA256())


def test_the_development_ca_is_made_once_with_private_keys_readable_by_the_owner_only(
    ca: DevelopmentCA, polres: Agency
) -> None:
    first = ca.signer_for(polres)
    again = DevelopmentCA(ca.directory).signer_for(polres)

    assert [fingerprint(c) for c in again.chain] == [fingerprint(c) for c in first.chain]
    for key in (key_file(ca.directory, "development-root"), key_file(ca.directory, "polres")):
        assert key.stat().st_mode & 0o777 == 0o600, key
    assert first.certificate.issuer == ca.root_certificate().subject


def test_the_agency_certificate_names_the_agency_and_serves_for_signatures_only(signer: AgencySigner) -> None:
    certificate = signer.certificate
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value

    assert certificate.subject.rfc4514_string() == "C=ID,O=polres,CN=Kepolisian Resor"
    assert (usage.digital_signature, usage.content_commitment, usage.key_cert_sign) == (True, True, False)
    assert not constraints.ca
    assert (certificate.not_valid_after_utc - certificate.not_valid_before_utc).days == 1096


CREATE_CA = """
import sys
from pathlib import Path
from cryptography.hazmat.primitives import hashes
from satupintu.agency.issuing.certificates import DevelopmentCA
from satupintu.common.catalogue import load_catalogue
signer = DevelopmentCA(Path(sys.argv[1])).signer_for(load_catalogue().agency("polres"))
print(",".join(c.fingerprint(hashes.SHA256()).hex() for c in signer.chain))
"""


def test_processes_creating_the_development_ca_together_end_with_one_ca(tmp_path: Path) -> None:
    directory = tmp_path / "document-signing"
    processes = [
        subprocess.Popen([sys.executable, "-c", CREATE_CA, str(directory)], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    chains = {process.communicate(timeout=60)[0].strip() for process in processes}

    assert all(process.returncode == 0 for process in processes)
    assert len(chains) == 1
    assert sorted(path.name for path in directory.iterdir()) == [
        "development-root.cert.pem",
        "development-root.key.pem",
        "polres.chain.pem",
        "polres.key.pem",
    ]


def test_production_refuses_to_start_while_an_issuing_agency_has_no_signing_key_naming_the_agency(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "signing-keys"
    development = DevelopmentCA(tmp_path / "development")
    for agency in issuing_agencies(load_catalogue()):
        if agency.code != "polres":
            development.signer_for(agency)
    directory.mkdir()
    for path in development.directory.glob("*.pem"):
        if not path.name.startswith("development-root"):
            (directory / path.name).write_bytes(path.read_bytes())
    monkeypatch.setenv("SATUPINTU_ENVIRONMENT", "production")

    with pytest.raises(ValidationError) as refused:
        AgencySettings(signing_keys_dir=directory)

    message = str(refused.value)
    assert (
        "agency polres (Kepolisian Resor) issues documents but cannot sign them: agency polres: no polres.key.pem"
        in (message)
    )
    assert "agency satlantas" not in message


def test_production_refuses_to_start_without_a_signing_keys_directory_naming_every_issuing_agency(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SATUPINTU_ENVIRONMENT", "production")
    monkeypatch.delenv("AGENCY_SIGNING_KEYS_DIR", raising=False)

    with pytest.raises(ValidationError) as refused:
        AgencySettings()

    message = str(refused.value)
    assert "AGENCY_SIGNING_KEYS_DIR is not set" in message
    assert "disdukcapil, dpmptsp, polres, satlantas" in message


def test_the_development_ca_makes_its_root_under_its_own_name_and_file(ca: DevelopmentCA, polres: Agency) -> None:
    signer = ca.signer_for(polres)

    assert ca.root_certificate_file.name == "development-root.cert.pem"
    assert signer.chain[-1].subject.rfc4514_string() == "O=Satu Pintu,CN=Satu Pintu Development Root CA"


def test_a_chain_that_is_not_for_the_agencys_key_is_refused_naming_the_agency(
    ca: DevelopmentCA, polres: Agency, tmp_path: Path
) -> None:
    ca.signer_for(polres)
    other = DevelopmentCA(tmp_path / "other")
    djp = load_catalogue().agency("djp")
    assert djp is not None
    other.signer_for(djp)
    chain_file(ca.directory, "polres").write_bytes(chain_file(other.directory, "djp").read_bytes())

    (problem,) = signing_key_problems(ca.directory, [polres])

    assert problem.startswith("agency polres (Kepolisian Resor) issues documents but cannot sign them")
    assert "not for the signing key" in problem


def test_without_a_signing_keys_directory_every_issuing_agency_is_named() -> None:
    (problem,) = signing_key_problems(None, issuing_agencies(load_catalogue()))

    assert problem.startswith(
        "AGENCY_SIGNING_KEYS_DIR is not set, so the documents of disdukcapil, dpmptsp, polres, satlantas would"
    )
