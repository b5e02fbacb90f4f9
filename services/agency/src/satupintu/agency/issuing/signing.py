"""PAdES signatures on issued documents (decision 0025): PAdES baseline B-B by pyHanko, added to the PDF as an
incremental update, with the agency's certificate chain embedded so any validator can follow it to its root."""

from __future__ import annotations

from io import BytesIO

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner

from satupintu.agency.issuing.certificates import AgencySigner

SIGNATURE_FIELD = "Signature1"
"""The (invisible) signature field the agency's signature goes in."""
DIGEST_ALGORITHM = "sha256"


def _pdf_signer(signer: AgencySigner, reason: str, location: str) -> PdfSigner:
    metadata = PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        md_algorithm=DIGEST_ALGORITHM,
        subfilter=SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        name=signer.certificate.subject.rfc4514_string(),
    )
    return PdfSigner(metadata, signer=signer.signer)


def sign_pdf(pdf: bytes, signer: AgencySigner, *, reason: str, location: str) -> bytes:
    """``pdf`` with the agency's PAdES signature appended; outside a running event loop (pyHanko runs its own)."""
    output = BytesIO()
    _pdf_signer(signer, reason, location).sign_pdf(IncrementalPdfFileWriter(BytesIO(pdf)), output=output)
    return output.getvalue()


async def async_sign_pdf(pdf: bytes, signer: AgencySigner, *, reason: str, location: str) -> bytes:
    """:func:`sign_pdf` for code running in an event loop (a Kafka handler)."""
    output = BytesIO()
    pdf_signer = _pdf_signer(signer, reason, location)
    await pdf_signer.async_sign_pdf(IncrementalPdfFileWriter(BytesIO(pdf)), output=output)
    return output.getvalue()
