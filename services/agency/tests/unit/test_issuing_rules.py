"""Which approval issues a document, what it prints when an output is missing, and what the public page may show of
the holder: the issuer's rules, without the database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from satupintu.agency.issuing.certificates import SigningKeyError
from satupintu.agency.issuing.issuer import (
    DocumentIssuer,
    Holder,
    Issue,
    issuing_template,
    officer_name,
    printed_lines,
)
from satupintu.common.catalogue import load_catalogue

pytestmark = pytest.mark.unit

CATALOGUE = load_catalogue()


def issue_of(
    service_code: str, agency: str, outputs: dict[str, object], previous: dict[str, dict[str, object]]
) -> Issue:
    service = CATALOGUE.service(service_code)
    assert service is not None
    assert service.document is not None
    return Issue(
        service=service,
        template=service.document,
        agency=agency,
        application_id="app-1",
        outputs=outputs,
        previous_outputs=previous,
        holder=Holder(name="Rina Kusuma", nik="3171015506900001"),
        officer="officer:polres:rina",
        issued_at=datetime(2026, 12, 31, 18, 0, tzinfo=UTC),  # already 1 January 2027 in Jakarta
        timezone="Asia/Jakarta",
    )


def test_only_the_issuing_agencys_last_task_issues_the_document() -> None:
    pbg, birth, passport = CATALOGUE.service("pbg"), CATALOGUE.service("akta-kelahiran"), CATALOGUE.service("paspor")

    assert issuing_template(pbg, "dpmptsp", 1) is not None
    assert issuing_template(pbg, "dinas-pupr", 0) is None
    assert issuing_template(birth, "disdukcapil", 0) is not None  # issued before the BPJS enrolment stage
    assert issuing_template(birth, "bpjs-kes", 1) is None
    assert issuing_template(passport, "imigrasi", 0) is None  # the catalogue gives the passport no document


def test_an_output_the_approval_left_out_prints_as_a_dash_and_earlier_agencies_outputs_come_from_their_stage() -> None:
    issue = issue_of(
        "pbg",
        "dpmptsp",
        {"building_function": "hunian", "levy": 1_250_000},
        {"dinas-pupr": {"review": "KT-7"}, "dlh": {}},
    )

    printed = [(line.label.id, line.value.id) for line in printed_lines(issue)]

    assert printed == [
        ("Fungsi bangunan", "hunian"),
        ("Nomor kajian teknis", "KT-7"),
        ("Nomor persetujuan lingkungan", "-"),
        ("Retribusi", "1250000"),
    ]


def test_a_business_building_approval_names_the_business_and_prints_its_nib_first() -> None:
    issue = issue_of("pbg", "dpmptsp", {"building_function": "usaha", "levy": 1}, {"dinas-pupr": {"review": "KT-8"}})
    issue = replace(issue, holder=Holder(name="PT Maju Jaya", nik="3171015506900001", nib="8120001234567"))

    printed = [(line.label.id, line.value.id) for line in printed_lines(issue)]

    assert printed[0] == ("Nomor Induk Berusaha (NIB)", "8120001234567")
    assert printed[1] == ("Fungsi bangunan", "usaha")
    assert all("3171015506900001" not in value for _, value in printed)


def test_a_yes_or_no_output_prints_in_words() -> None:
    issue = issue_of("skck", "polres", {"criminal_record": False, "purpose": "Melamar kerja"}, {})
    criminal_record = printed_lines(issue)[0]

    assert (criminal_record.value.id, criminal_record.value.en) == ("Tidak", "No")


def test_the_day_of_issue_and_validity_are_the_agencys_days() -> None:
    issue = issue_of("skck", "polres", {}, {})

    assert issue.issued_on.isoformat() == "2027-01-01"
    assert issue.valid_until is not None
    assert issue.valid_until.isoformat() == "2027-06-30"  # 180 days on


def test_the_public_page_gets_initials_and_the_last_four_digits_only() -> None:
    holder = Holder(name="rina  kusuma dewi", nik="3171015506900001")

    assert holder.initials == "R. K. D."
    assert holder.masked_nik == "************0001"


def test_the_document_names_the_officer_by_user_name_or_the_agencys_system() -> None:
    assert officer_name("officer:polres:rina") == "rina"
    assert officer_name("system:polres") == "Sistem instansi"


def test_a_desk_whose_issuing_agency_has_no_signing_key_refuses_to_start_naming_the_agency(tmp_path: Path) -> None:
    empty = tmp_path / "signing-keys"
    empty.mkdir()

    with pytest.raises(SigningKeyError) as refused:
        DocumentIssuer.load(
            CATALOGUE,
            signing_keys_dir=empty,
            development_keys_dir=tmp_path / "keys",
            verification_base_url="http://127.0.0.1:8001",
        )

    for code in ("disdukcapil", "dpmptsp", "polres", "satlantas"):
        assert f"agency {code}: no {code}.key.pem" in str(refused.value)


async def test_the_document_prints_the_approving_officers_full_name_when_the_provider_gave_it(tmp_path: Path) -> None:
    issuer = DocumentIssuer.load(
        CATALOGUE,
        signing_keys_dir=None,
        development_keys_dir=tmp_path,
        verification_base_url="http://127.0.0.1:8001",
    )
    named = replace(issue_of("skck", "polres", {}, {}), officer_name="Rina Kusuma")

    with_name = await issuer.sign(named, "SKCK/POLRES/2027/00001")
    without = await issuer.sign(issue_of("skck", "polres", {}, {}), "SKCK/POLRES/2027/00002")

    assert b"(Rina Kusuma) Tj" in with_name.pdf
    assert b"(rina) Tj" in without.pdf
