"""A business applying through a representative: refused with the field named when its NIB, NPWP, service or power
of attorney is wrong (nothing stored), accepted and announced with the business, its sealed NPWP, the
representative's sealed NIK and the surat kuasa; its once-only profile is the business's, not the representative's."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from services.intake.tests.integration.conftest import new_citizen
from services.intake.tests.integration.test_intake_api import Intake, assert_problem, intake

from satupintu.contract.applications import ApplicationSubmitted
from satupintu.contract.envelope import from_record
from satupintu.devtools.testing.kafka import end_offsets
from satupintu.devtools.testing.sealing import opened_submission, reader_keys
from satupintu.intake.storage.tables import ApplicationRecord, CitizenProfile
from tests.support import upload_document

__all__ = ["intake"]  # the module's fixture, shared

pytestmark = pytest.mark.integration

NIB = "8120001234567"
NPWP = "0012345678901000"


async def land_check(
    intake: Intake,
    *,
    business: dict[str, Any] | None = None,
    power_of_attorney: bool = True,
    service_code: str = "cek-sertifikat-tanah",
    nik: str | None = None,
    email: str | None = None,
    consent_reuse: bool = False,
) -> dict[str, Any]:
    """A land certificate check applied for by PT Maju Jaya through its representative."""
    representative_nik, representative_email = new_citizen()
    documents = [{"name": "certificate_scan", "sha256": await upload_document(intake.client, "certificate")}]
    if power_of_attorney:
        documents.append({"name": "surat_kuasa", "sha256": await upload_document(intake.client, "surat-kuasa")})
    return {
        "service_code": service_code,
        "applicant": {
            "kind": "business",
            "business": {"nib": NIB, "npwp": NPWP, "name": "PT Maju Jaya"} if business is None else business,
            "nik": nik or representative_nik,
            "name": "Budi Santoso",
            "email": email or representative_email,
            "language": "id",
        },
        "data": {"certificate_number": "12.01.02.03.1.00123", "certificate_type": "HGB", "village": "Sempaja"},
        "documents": documents,
        "consent_reuse": consent_reuse,
    }


async def refused_naming(intake: Intake, body: dict[str, Any], field: str) -> None:
    stored = await intake.count(ApplicationRecord)

    response = await intake.client.post("/applications", json=body)

    problem = assert_problem(response, 422, "validation-error")
    assert field in [error["field"] for error in problem["errors"]], problem
    assert await intake.count(ApplicationRecord) == stored


@pytest.mark.parametrize("nib", ["812000123456", "81200012345678", "8120-0012-3456", "812000123456A"])
async def test_a_nib_that_is_not_13_digits_is_refused_naming_it(intake: Intake, nib: str) -> None:
    body = await land_check(intake, business={"nib": nib, "npwp": NPWP, "name": "PT Maju Jaya"})

    await refused_naming(intake, body, "applicant/business/nib")


@pytest.mark.parametrize("npwp", ["01234567890123", "01.234.567.8-901.000", "00123456789010000", ""])
async def test_an_npwp_that_is_not_15_or_16_digits_is_refused_naming_it(intake: Intake, npwp: str) -> None:
    body = await land_check(intake, business={"nib": NIB, "npwp": npwp, "name": "PT Maju Jaya"})

    await refused_naming(intake, body, "applicant/business/npwp")


async def test_a_business_without_its_details_is_refused_naming_them(intake: Intake) -> None:
    body = await land_check(intake)
    del body["applicant"]["business"]

    await refused_naming(intake, body, "applicant/business")


async def test_a_business_applying_for_a_service_only_persons_apply_for_is_refused_naming_the_kind(
    intake: Intake,
) -> None:
    body = await land_check(intake)
    body |= {"service_code": "skck", "data": {"purpose": "Melamar pekerjaan", "address": "Jl. Merdeka 1"}}
    body["documents"] = [{"name": "ktp", "sha256": intake.ktp}]

    await refused_naming(intake, body, "applicant/kind")


async def test_a_representative_without_a_power_of_attorney_is_refused_naming_the_documents(intake: Intake) -> None:
    body = await land_check(intake, power_of_attorney=False)

    await refused_naming(intake, body, "documents")


async def test_a_person_cannot_give_a_power_of_attorney(intake: Intake) -> None:
    body = await land_check(intake)
    body["applicant"] = {key: value for key, value in body["applicant"].items() if key not in {"kind", "business"}}

    await refused_naming(intake, body, "documents/1/name")


async def test_a_business_application_is_announced_with_the_business_and_its_representative_sealed(
    intake: Intake,
) -> None:
    offsets = await end_offsets(intake.bootstrap_servers, intake.applications_topic)
    body = await land_check(intake)

    response = await intake.client.post("/applications", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})

    assert response.status_code == 202, response.text
    application_id = response.json()["application_id"]
    published = await intake.published_since(offsets, application_id)
    [record] = [record for record in published if record.key == application_id.encode()]
    assert NPWP not in record.value.decode()
    assert body["applicant"]["nik"] not in record.value.decode()
    sealed = from_record(record.headers, record.value, record.key).payload
    assert isinstance(sealed, ApplicationSubmitted)
    assert sealed.applicant.kind == "business"
    assert sealed.applicant.business is not None
    assert (sealed.applicant.business.nib, sealed.applicant.business.name) == (NIB, "PT Maju Jaya")
    assert sealed.applicant.citizen == intake.hasher.hash(body["applicant"]["nik"])  # the representative
    opened = opened_submission(sealed, await reader_keys(intake.settings.kafka, intake.settings.auth.keys_dir))
    assert opened.applicant.business is not None
    assert opened.applicant.business.npwp == NPWP
    assert (opened.applicant.nik, opened.applicant.name) == (body["applicant"]["nik"], "Budi Santoso")
    assert [document.name for document in opened.documents] == ["certificate_scan", "surat_kuasa"]
    async with intake.app.state.runtime.engine.connect() as connection:
        row = (
            await connection.execute(
                ApplicationRecord.__table__.select().where(ApplicationRecord.__table__.c.id == application_id)  # type: ignore[attr-defined]
            )
        ).one()
    assert (row.applicant_kind, row.business_nib, row.business_name) == ("business", NIB, "PT Maju Jaya")
    assert NPWP not in row.business_npwp_ciphertext
    assert intake.cipher.decrypt(row.business_npwp_ciphertext, "applications.business_npwp") == NPWP


async def test_a_business_keeps_its_own_profile_and_leaves_its_representatives_alone(intake: Intake) -> None:
    nik, email = new_citizen()
    body = await land_check(intake, nik=nik, email=email, consent_reuse=True)
    business_profile = CitizenProfile.nik_hash == intake.hasher.hash(f"nib:{NIB}")  # type: ignore[arg-type]
    own_profile = CitizenProfile.nik_hash == intake.hasher.hash(nik)  # type: ignore[arg-type]

    response = await intake.client.post("/applications", json=body)

    assert response.status_code == 202, response.text
    assert response.json()["verification_id"] is not None  # the business's contact on file is confirmed by code
    assert await intake.count(CitizenProfile, business_profile) == 1
    assert await intake.count(CitizenProfile, own_profile) == 0


async def test_tracking_names_the_business_and_its_masked_representative(intake: Intake) -> None:
    body = await land_check(intake)
    response = await intake.client.post("/applications", json=body)
    assert response.status_code == 202, response.text
    tracking_code = response.json()["tracking_code"]
    masked = "*" * 12 + body["applicant"]["nik"][-4:]

    status = await intake.client.get(f"/applications/{tracking_code}")
    page = await intake.client.get(f"/track/{tracking_code}", headers={"Accept-Language": "id"})

    assert status.status_code == 200, status.text
    assert (status.json()["business_name"], status.json()["applicant_initials"]) == ("PT Maju Jaya", "B. S.")
    assert status.json()["applicant_nik"] == masked
    assert page.status_code == 200, page.text
    assert f"PT Maju Jaya, diwakili oleh B. S. ({masked})" in page.text
    assert body["applicant"]["nik"] not in page.text
