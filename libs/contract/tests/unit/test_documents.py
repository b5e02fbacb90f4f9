"""The issued-document events: on the applications topic under the application's key, the holder only as initials
and a NIK masked to its last four digits (marked personal), and the PDF referenced by its hash, never embedded."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from pydantic import ValidationError

from satupintu.contract.contract import PRODUCED_BY
from satupintu.contract.documents import DocumentIssued, DocumentRevoked
from satupintu.contract.envelope import Event, from_record, to_record
from satupintu.contract.topics import Topic

pytestmark = pytest.mark.unit

SHA = "c" * 64
ISSUED: dict[str, Any] = {
    "document_id": "0b6a3c7e-1d2f-4a5b-9c8d-7e6f5a4b3c2d",
    "application_id": "app-1",
    "agency": "polres",
    "service_code": "skck",
    "number": "SKCK/000001/2026/POLRES",
    "issued_at": "2026-08-14T09:30:00+07:00",
    "sha256": SHA,
    "size_bytes": 1024,
    "pdf": {"name": "skck", "sha256": SHA},
    "holder_initials": "R. K.",
    "holder_nik_masked": "************0001",
    "officer": "officer:polres:rina",
    "collect_at_counter": True,
}


def test_document_events_go_on_the_applications_topic_and_are_published_by_the_agency_service() -> None:
    assert DocumentIssued.topic is DocumentRevoked.topic is Topic.APPLICATIONS
    producers = {
        service: {payload for payload in produced if payload in (DocumentIssued, DocumentRevoked)}
        for service, produced in PRODUCED_BY.items()
    }
    assert {service: found for service, found in producers.items() if found} == {
        "agency": {DocumentIssued, DocumentRevoked}
    }


def test_an_issued_document_is_keyed_by_its_application_and_round_trips_with_its_id_as_text() -> None:
    payload = DocumentIssued.model_validate(ISSUED)
    event = Event(payload=payload, source="/satupintu/agency/desk", subject="app-1", actor="officer:polres:rina")

    record = to_record(event)
    parsed = from_record(record.header_list(), record.value, record.key)

    assert record.key == b"app-1"
    assert parsed.payload == payload
    assert parsed.payload.document_id == UUID(ISSUED["document_id"])
    assert payload.valid_until is None


def test_the_holder_is_only_initials_and_a_masked_nik_and_both_are_marked_personal() -> None:
    assert DocumentIssued.personal_fields() == {"holder_initials", "holder_nik_masked"}
    assert DocumentRevoked.personal_fields() == frozenset()

    with pytest.raises(ValidationError, match="holder_nik_masked"):
        DocumentIssued.model_validate({**ISSUED, "holder_nik_masked": "3273010101900001"})
    with pytest.raises(ValidationError, match="holder_nik_masked"):
        DocumentIssued.model_validate({**ISSUED, "holder_nik_masked": "3273********0001"})


def test_the_pdf_reference_must_be_the_documents_own_hash() -> None:
    with pytest.raises(ValidationError, match=r"pdf\.sha256 must be the document's sha256"):
        DocumentIssued.model_validate({**ISSUED, "pdf": {"name": "skck", "sha256": "d" * 64}})
    with pytest.raises(ValidationError, match="sha256"):
        DocumentIssued.model_validate({**ISSUED, "sha256": "not-a-hash"})


def test_a_revocation_needs_a_reason() -> None:
    revoked = {
        "document_id": ISSUED["document_id"],
        "application_id": "app-1",
        "agency": "polres",
        "revoked_at": datetime(2026, 8, 15, tzinfo=UTC),
    }

    with pytest.raises(ValidationError, match="reason"):
        DocumentRevoked.model_validate({**revoked, "reason": ""})
    assert DocumentRevoked.model_validate({**revoked, "reason": "Data keliru."}).reason == "Data keliru."
