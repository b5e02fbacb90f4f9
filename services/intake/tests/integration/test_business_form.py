"""A business applying on the HTML form, through the same use case as the API: the form of a service businesses apply
for offers a person or a business (both sets on the page, no script); a person still applies there with the business
fields ignored; a business is accepted and tracked by its name; a business without its power of attorney, or with a
NIB or NPWP not in their format, is refused with the error beside the field and nothing stored."""

from __future__ import annotations

import random
import uuid

import httpx
import pytest
from services.intake.tests.integration.conftest import new_citizen
from services.intake.tests.integration.test_intake_api import Intake, intake
from services.intake.tests.integration.test_pages import Page, pdf, skck_form

from satupintu.intake.storage.tables import ApplicationRecord

__all__ = ["intake"]  # the module's fixture, shared

pytestmark = pytest.mark.integration

LAND_CHECK = "/apply/cek-sertifikat-tanah"


def new_nib() -> str:
    """A NIB no other test uses, so its applications can be counted."""
    return f"81{random.randint(0, 10**11 - 1):011d}"  # noqa: S311 (test data)


def land_check_form(nib: str, **changes: str) -> dict[str, str]:
    """A land certificate check applied for by PT Maju Jaya through its representative Budi Santoso."""
    nik, email = new_citizen()
    return {
        "applicant-kind": "business",
        "business-name": "PT Maju Jaya",
        "business-nib": nib,
        "business-npwp": "01.234.567.8-901.000",
        "applicant-nik": nik,
        "applicant-name": "Budi Santoso",
        "applicant-email": email,
        "applicant-language": "id",
        "data-certificate_number": "12.01.02.03.1.00123",
        "data-certificate_type": "HGB",
        "data-village": "Sempaja",
        **changes,
    }


async def applications_of(intake: Intake, nib: str) -> int:
    return await intake.count(ApplicationRecord, ApplicationRecord.business_nib == nib)  # type: ignore[arg-type]


async def tracked(client: httpx.AsyncClient, sent: httpx.Response) -> dict[str, object]:
    assert sent.status_code == 303, sent.text
    code = sent.headers["location"].removeprefix("/track/").removesuffix("/confirmation")
    status = await client.get(f"/applications/{code}")
    assert status.status_code == 200, status.text
    answer: dict[str, object] = status.json()
    return answer


async def test_a_form_for_a_service_businesses_apply_for_offers_a_person_or_a_business(intake: Intake) -> None:
    indonesian = await intake.client.get(f"{LAND_CHECK}?lang=id")
    english = await intake.client.get(f"{LAND_CHECK}?lang=en")
    persons_only = await intake.client.get("/apply/skck?lang=id")

    assert indonesian.status_code == 200, indonesian.text
    page = Page.of(indonesian)
    choice = page.all("input", name="applicant-kind")
    assert [(radio.attributes["value"], "checked" in radio.attributes) for radio in choice] == [
        ("person", True),
        ("business", False),
    ]
    assert [page.all("label", **{"for": radio.attributes["id"]})[0].text for radio in choice] == [
        "Perorangan",
        "Badan usaha",
    ]
    for element_id in ("field-business-name", "field-business-nib", "field-business-npwp"):
        assert page.labelled(element_id), element_id
    assert page.by_id("field-document-surat_kuasa").attributes["type"] == "file"
    assert "Surat kuasa" in page.all("label", **{"for": "field-document-surat_kuasa"})[0].text
    assert "Data kuasa / wakil" in page.by_id("applicant-person-heading").text
    assert "<script" not in indonesian.text
    assert "script-src" not in indonesian.headers["content-security-policy"]
    assert "default-src 'none'" in indonesian.headers["content-security-policy"]
    english_page = Page.of(english)
    assert "A business" in english_page.all("label", **{"for": "field-applicant-kind-2"})[0].text
    assert "The representative" in english_page.by_id("applicant-person-heading").text
    assert "Power of attorney" in english_page.all("label", **{"for": "field-document-surat_kuasa"})[0].text
    skck = Page.of(persons_only)
    assert skck.all("input", name="applicant-kind") == []
    assert skck.all("input", name="document-surat_kuasa") == []


async def test_a_person_still_applies_on_a_form_that_offers_businesses_the_business_fields_ignored(
    intake: Intake,
) -> None:
    nib = new_nib()
    form = land_check_form(nib, **{"applicant-kind": "person", "business-npwp": "not a number"})

    sent = await intake.client.post(
        LAND_CHECK,
        data=form,
        files={"document-certificate_scan": pdf("certificate"), "document-surat_kuasa": pdf("surat-kuasa")},
    )

    status = await tracked(intake.client, sent)
    assert status["business_name"] is None
    assert status["applicant_initials"] == "B. S."
    assert await applications_of(intake, nib) == 0


async def test_a_business_applies_through_its_representative_on_the_form(intake: Intake) -> None:
    nib = new_nib()

    sent = await intake.client.post(
        f"{LAND_CHECK}?lang=en",
        data=land_check_form(nib, **{"business-nib": f"{nib[:4]} {nib[4:]}"}),
        files={"document-certificate_scan": pdf("certificate"), "document-surat_kuasa": pdf("surat-kuasa")},
    )

    status = await tracked(intake.client, sent)
    assert (status["business_name"], status["applicant_initials"]) == ("PT Maju Jaya", "B. S.")
    assert await applications_of(intake, nib) == 1


async def test_a_business_without_its_power_of_attorney_is_refused_beside_the_field_and_nothing_stored(
    intake: Intake,
) -> None:
    nib = new_nib()

    refused = await intake.client.post(
        f"{LAND_CHECK}?lang=id", data=land_check_form(nib), files={"document-certificate_scan": pdf("certificate")}
    )

    assert refused.status_code == 422, refused.text
    page = Page.of(refused)
    assert page.summary_links() == ["#field-document-surat_kuasa"]
    assert "Unggah surat kuasa" in page.by_id("field-document-surat_kuasa-error").text
    assert page.by_id("field-document-surat_kuasa").attributes.get("aria-invalid") == "true"
    assert page.by_id("field-business-name").attributes["value"] == "PT Maju Jaya"
    assert "checked" in page.by_id("field-applicant-kind-2").attributes  # still a business
    assert await applications_of(intake, nib) == 0


async def test_a_nib_or_npwp_not_in_their_format_is_refused_beside_its_field(intake: Intake) -> None:
    nib = new_nib()

    refused = await intake.client.post(
        f"{LAND_CHECK}?lang=en",
        data=land_check_form(nib[:12], **{"business-npwp": "01234567890123", "business-name": ""}),
        files={"document-certificate_scan": pdf("certificate"), "document-surat_kuasa": pdf("surat-kuasa")},
    )

    assert refused.status_code == 422, refused.text
    page = Page.of(refused)
    assert page.summary_links() == ["#field-business-name", "#field-business-nib", "#field-business-npwp"]
    assert "Enter business name" in page.by_id("field-business-name-error").text
    assert "Enter a NIB of 13 digits" in page.by_id("field-business-nib-error").text
    assert "Enter an NPWP of 16 digits, or 15 for an older NPWP" in page.by_id("field-business-npwp-error").text
    assert "Uploaded: surat-kuasa.pdf" in refused.text  # kept for the next try
    assert await applications_of(intake, nib[:12]) == 0


async def test_a_business_on_a_form_for_persons_only_is_refused_by_the_use_case(intake: Intake) -> None:
    nib = new_nib()
    form = skck_form(**{"applicant-kind": "business", "business-name": "PT Maju Jaya", "business-nib": nib})

    refused = await intake.client.post(
        "/apply/skck?lang=en",
        data={**form, "business-npwp": "0012345678901000"},
        files={"document-ktp": pdf(f"ktp-{uuid.uuid4()}")},
    )

    assert refused.status_code == 422, refused.text
    assert "skck is applied for by: person" in Page.of(refused).error_summary().text
    assert await applications_of(intake, nib) == 0
