"""The service catalogue: the shipped file is sound, and a broken file is refused naming the file and the field."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from satupintu.common.catalogue import POWER_OF_ATTORNEY, Catalogue, CatalogueError, FieldType
from satupintu.common.catalogue.loader import DEFAULT_PATH, parse_catalogue

pytestmark = pytest.mark.unit


def _text(words: str) -> dict[str, str]:
    return {"id": words, "en": words}


VALID: dict[str, Any] = {
    "version": "test.1",
    "agencies": [
        {
            "code": "polres",
            "name": _text("Polres"),
            "escalation_target": "kasat-intelkam",
            "escalation_contact": {"email": "kasat.intelkam@polres.example.go.id", "phone": "081200000104"},
        },
        {
            "code": "dlh",
            "name": _text("DLH"),
            "timezone": "Asia/Makassar",
            "escalation_target": "kepala-dlh",
            "escalation_contact": {"phone": "+6281200000109"},
        },
    ],
    "services": [
        {
            "code": "skck",
            "name": _text("SKCK"),
            "description": _text("Police clearance"),
            "agency": "polres",
            "fields": [
                {"name": "purpose", "type": "string", "label": _text("Purpose")},
                {"name": "scale", "type": "enum", "enum": ["mikro", "kecil"], "label": _text("Scale")},
            ],
            "documents": [{"name": "ktp", "label": _text("KTP"), "media_types": ["application/pdf"]}],
            "stages": [
                {
                    "name": "check",
                    "tasks": [
                        {
                            "agency": "polres",
                            "action": _text("Check records"),
                            "visible_fields": ["purpose"],
                            "visible_documents": ["ktp"],
                            "sla_working_days": 3,
                        }
                    ],
                },
                {
                    "name": "review",
                    "tasks": [
                        {
                            "agency": "dlh",
                            "action": _text("Review"),
                            "visible_fields": ["scale"],
                            "needs_outputs_from": ["polres"],
                            "sla_working_days": 2,
                        }
                    ],
                },
            ],
            "sla_working_days": 5,
            "cost": _text("Free"),
            "product": _text("SKCK"),
        }
    ],
}


@pytest.fixture(scope="module")
def shipped() -> Catalogue:
    return parse_catalogue(DEFAULT_PATH)


def _write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "services.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def _refusal(path: Path) -> str:
    with pytest.raises(CatalogueError) as refused:
        parse_catalogue(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: ")
    return message


def _valid() -> dict[str, Any]:
    return copy.deepcopy(VALID)


def test_shipped_catalogue_loads_with_a_version_and_enough_services_and_agencies(shipped: Catalogue) -> None:
    assert shipped.version == "2026.11.1"
    assert len(shipped.services) >= 8
    assert len(shipped.agencies) >= 8


def test_shipped_catalogue_codes_are_unique(shipped: Catalogue) -> None:
    service_codes = [service.code for service in shipped.services]
    agency_codes = [agency.code for agency in shipped.agencies]

    assert len(set(service_codes)) == len(service_codes)
    assert len(set(agency_codes)) == len(agency_codes)


def test_pbg_runs_technical_and_environmental_review_in_parallel_before_issuing(shipped: Catalogue) -> None:
    pbg = shipped.service("pbg")

    assert pbg is not None
    assert len(pbg.stages) == 2
    assert [task.agency for task in pbg.stages[0].tasks] == ["dinas-pupr", "dlh"]
    assert [task.agency for task in pbg.stages[1].tasks] == ["dpmptsp"]
    assert set(pbg.stages[1].tasks[0].needs_outputs_from) == {"dinas-pupr", "dlh"}


def test_every_shipped_task_sees_only_fields_and_documents_of_its_service(shipped: Catalogue) -> None:
    for service in shipped.services:
        field_names = {field.name for field in service.fields}
        document_names = {document.name for document in service.documents}
        for stage in service.stages:
            for task in stage.tasks:
                assert task.visible_fields, (service.code, task.agency)
                assert set(task.visible_fields) <= field_names, (service.code, task.agency)
                assert set(task.visible_documents) <= document_names, (service.code, task.agency)
                assert all(service.field(name) is not None for name in task.visible_fields)


def test_every_agency_acting_in_the_shipped_catalogue_is_listed(shipped: Catalogue) -> None:
    known = shipped.agency_codes()

    for service in shipped.services:
        assert service.agency in known
        assert {task.agency for stage in service.stages for task in stage.tasks} <= known


def test_shipped_enum_fields_have_values(shipped: Catalogue) -> None:
    nib = shipped.service("nib")

    assert nib is not None
    scale = nib.field("business_scale")
    assert scale is not None
    assert scale.type is FieldType.ENUM
    assert scale.enum == ("mikro", "kecil")


def test_minimal_valid_catalogue_parses(tmp_path: Path) -> None:
    catalogue = parse_catalogue(_write(tmp_path, _valid()))

    assert catalogue.version == "test.1"
    assert catalogue.agency_codes() == {"polres", "dlh"}
    dlh = catalogue.agency("dlh")
    assert dlh is not None
    assert dlh.timezone == "Asia/Makassar"
    polres = catalogue.agency("polres")
    assert polres is not None
    assert polres.timezone == "Asia/Jakarta"
    assert catalogue.service("skck") is not None
    assert catalogue.service("paspor") is None


def test_task_naming_an_unknown_visible_field_is_refused_naming_service_stage_and_field(tmp_path: Path) -> None:
    document = _valid()
    document["services"][0]["stages"][0]["tasks"][0]["visible_fields"].append("monthly_income")

    message = _refusal(_write(tmp_path, document))

    assert "services.0" in message
    assert "stages[0] polres" in message
    assert "unknown visible_fields ['monthly_income']" in message


def test_task_naming_an_unknown_visible_document_is_refused_naming_it(tmp_path: Path) -> None:
    document = _valid()
    document["services"][0]["stages"][1]["tasks"][0]["visible_documents"] = ["kk"]

    message = _refusal(_write(tmp_path, document))

    assert "stages[1] dlh" in message
    assert "unknown visible_documents ['kk']" in message


def test_task_of_an_unknown_agency_is_refused_naming_service_and_agency(tmp_path: Path) -> None:
    document = _valid()
    document["services"][0]["stages"][1]["tasks"][0]["agency"] = "bpn"

    message = _refusal(_write(tmp_path, document))

    assert "service skck: unknown agencies ['bpn']" in message


def test_service_owned_by_an_unknown_agency_is_refused_naming_it(tmp_path: Path) -> None:
    document = _valid()
    document["services"][0]["agency"] = "imigrasi"

    message = _refusal(_write(tmp_path, document))

    assert "service skck: unknown agencies ['imigrasi']" in message


def test_enum_field_without_values_is_refused_naming_the_field_location(tmp_path: Path) -> None:
    document = _valid()
    del document["services"][0]["fields"][1]["enum"]

    message = _refusal(_write(tmp_path, document))

    assert "services.0.fields.1" in message
    assert "an enum field needs `enum` values" in message


def test_string_field_with_enum_values_is_refused_naming_the_field_location(tmp_path: Path) -> None:
    document = _valid()
    document["services"][0]["fields"][0]["enum"] = ["a", "b"]

    message = _refusal(_write(tmp_path, document))

    assert "services.0.fields.0" in message
    assert "only an enum field may have them" in message


@pytest.mark.parametrize(
    ("field", "refusal"),
    [
        ({"type": "integer", "minimum": 0.5}, "an integer field's limits are whole numbers"),
        ({"type": "number", "minimum": 10, "maximum": 1}, "minimum 10 is above maximum 1"),
        ({"type": "string", "maximum": 10}, "only an integer or number field may have `minimum` or `maximum`"),
    ],
)
def test_number_limits_that_do_not_fit_the_field_are_refused_naming_the_field_location(
    tmp_path: Path, field: dict[str, Any], refusal: str
) -> None:
    document = _valid()
    document["services"][0]["fields"][0].update(field)

    message = _refusal(_write(tmp_path, document))

    assert "services.0.fields.0" in message
    assert refusal in message


def test_whole_limits_of_an_integer_field_stay_integers(tmp_path: Path) -> None:
    document = _valid()
    document["services"][0]["fields"][0].update({"type": "integer", "minimum": 1, "maximum": 100})

    [purpose, _] = parse_catalogue(_write(tmp_path, document)).services[0].fields

    assert (purpose.minimum, purpose.maximum) == (1, 100)
    assert type(purpose.minimum) is int


def test_duplicate_service_codes_are_refused(tmp_path: Path) -> None:
    document = _valid()
    document["services"].append(copy.deepcopy(document["services"][0]))

    message = _refusal(_write(tmp_path, document))

    assert "service codes must be unique" in message


def test_duplicate_field_names_in_a_service_are_refused(tmp_path: Path) -> None:
    document = _valid()
    document["services"][0]["fields"].append({"name": "purpose", "type": "integer", "label": _text("Again")})

    message = _refusal(_write(tmp_path, document))

    assert "services.0" in message
    assert "field names must be unique" in message


def test_agency_with_two_tasks_in_one_stage_is_refused_naming_the_stage(tmp_path: Path) -> None:
    document = _valid()
    tasks = document["services"][0]["stages"][0]["tasks"]
    tasks.append(copy.deepcopy(tasks[0]))

    message = _refusal(_write(tmp_path, document))

    assert "stages[0]: an agency may have one task per stage" in message


def test_task_needing_outputs_of_a_later_stage_is_refused_naming_the_agency(tmp_path: Path) -> None:
    document = _valid()
    document["services"][0]["stages"][0]["tasks"][0]["needs_outputs_from"] = ["dlh"]

    message = _refusal(_write(tmp_path, document))

    assert "stages[0] polres: needs outputs of later or unknown ['dlh']" in message


def test_unknown_key_is_refused_naming_its_full_path(tmp_path: Path) -> None:
    document = _valid()
    document["services"][0]["fields"][0]["placeholder"] = "e.g. melamar kerja"

    message = _refusal(_write(tmp_path, document))

    assert "services.0.fields.0.placeholder: Extra inputs are not permitted" in message


def test_invalid_agency_code_is_refused_naming_the_field(tmp_path: Path) -> None:
    document = _valid()
    document["agencies"][0]["code"] = "POLRES"

    message = _refusal(_write(tmp_path, document))

    assert "agencies.0.code" in message


def test_every_shipped_agency_says_where_its_escalation_target_is_reached(shipped: Catalogue) -> None:
    for agency in shipped.agencies:
        contact = agency.escalation_contact
        assert contact.email or contact.phone, agency.code
    assert shipped.escalated_agency("kasat-intelkam") == shipped.agency("polres")
    assert shipped.escalated_agency("nobody") is None


def test_agency_without_escalation_contact_is_refused_naming_the_field(tmp_path: Path) -> None:
    document = _valid()
    del document["agencies"][0]["escalation_contact"]

    message = _refusal(_write(tmp_path, document))

    assert "agencies.0.escalation_contact" in message


def test_escalation_contact_with_neither_email_nor_phone_is_refused(tmp_path: Path) -> None:
    document = _valid()
    document["agencies"][1]["escalation_contact"] = {}

    message = _refusal(_write(tmp_path, document))

    assert "agencies.1.escalation_contact" in message
    assert "needs an email, a phone or both" in message


@pytest.mark.parametrize(
    ("contact", "field"),
    [({"email": "kepala at dlh"}, "email"), ({"phone": "12345"}, "phone")],
)
def test_escalation_contact_with_a_malformed_address_is_refused_naming_it(
    tmp_path: Path, contact: dict[str, str], field: str
) -> None:
    document = _valid()
    document["agencies"][1]["escalation_contact"] = contact

    message = _refusal(_write(tmp_path, document))

    assert f"agencies.1.escalation_contact.{field}" in message


def test_catalogue_without_version_is_refused_naming_the_field(tmp_path: Path) -> None:
    document = _valid()
    del document["version"]

    message = _refusal(_write(tmp_path, document))

    assert "version: Field required" in message


def test_yaml_syntax_error_is_refused_naming_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "services.yaml"
    path.write_text('version: "1"\nagencies: [unclosed\n', encoding="utf-8")

    message = _refusal(path)

    assert "line 2" in message


def test_empty_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "services.yaml"
    path.write_text("", encoding="utf-8")

    message = _refusal(path)

    assert "(root)" in message


def test_missing_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"

    message = _refusal(path)

    assert "No such file" in message


def _issuing(document_block: dict[str, Any]) -> dict[str, Any]:
    """The valid catalogue whose SKCK gives outputs at both stages and issues ``document_block``."""
    document = _valid()
    service = document["services"][0]
    service["stages"][0]["tasks"][0]["outputs"] = ["skck_number", "criminal_record"]
    service["stages"][1]["tasks"][0]["outputs"] = ["clearance"]
    service["document"] = document_block
    return document


def _document_block(**changes: Any) -> dict[str, Any]:
    block: dict[str, Any] = {
        "title": {"id": "Surat Keterangan Catatan Kepolisian", "en": "Police Clearance Certificate"},
        "number_format": "SKCK/{agency}/{year}/{serial:05d}",
        "valid_days": 180,
        "collect_at_counter": True,
        "outputs": [
            {"output": "criminal_record", "agency": "polres", "label": {"id": "Catatan kepolisian", "en": "Record"}},
            {"output": "clearance", "label": {"id": "Izin"}},
        ],
    }
    return {**block, **changes}


def test_shipped_services_that_issue_documents_name_their_issuer_validity_and_pickup(shipped: Catalogue) -> None:
    issuing = {service.code: service for service in shipped.services if service.document is not None}

    assert {"skck", "nib", "pbg", "akta-kelahiran", "sim-perpanjangan"} <= set(issuing)
    assert {code: service.issuing_agency() for code, service in issuing.items()} == {
        "skck": "polres",
        "nib": "dpmptsp",
        "pbg": "dpmptsp",
        "akta-kelahiran": "disdukcapil",
        "sim-perpanjangan": "satlantas",
    }
    skck = issuing["skck"].document
    assert skck is not None
    assert (skck.valid_days, skck.collect_at_counter) == (180, True)
    assert skck.title.en == "Police Clearance Certificate"
    assert [printed.output for printed in skck.outputs] == ["criminal_record", "purpose"]
    nib = issuing["nib"].document
    assert nib is not None
    assert (nib.valid_days, nib.collect_at_counter, nib.title.en) == (None, False, None)


def test_shipped_pbg_document_prints_the_reviews_of_the_earlier_stage(shipped: Catalogue) -> None:
    pbg = shipped.service("pbg")

    assert pbg is not None
    assert pbg.document is not None
    assert [(printed.agency, printed.output) for printed in pbg.document.outputs] == [
        (None, "building_function"),
        ("dinas-pupr", "review"),
        ("dlh", "approval"),
        (None, "levy"),
    ]


def test_shipped_services_without_a_document_block_issue_none(shipped: Catalogue) -> None:
    passport = shipped.service("paspor")

    assert passport is not None
    assert passport.document is None
    assert passport.issuing_agency() is None


def test_document_number_fills_agency_code_in_capitals_year_and_serial(shipped: Catalogue) -> None:
    skck = shipped.service("skck")

    assert skck is not None
    assert skck.document is not None
    assert skck.document.number(agency="polres", year=2026, serial=42) == "SKCK/POLRES/2026/00042"


def test_document_is_issued_by_the_last_stage_by_default_and_may_print_earlier_outputs(tmp_path: Path) -> None:
    catalogue = parse_catalogue(_write(tmp_path, _issuing(_document_block())))

    service = catalogue.service("skck")
    assert service is not None
    assert service.document is not None
    assert service.issuing_agency() == "dlh"
    assert service.document.outputs[1].label.en is None


def test_document_printing_an_output_no_task_gives_is_refused_naming_service_and_output(tmp_path: Path) -> None:
    block = _document_block(outputs=[{"output": "fingerprints", "label": {"id": "Sidik jari"}}])

    message = _refusal(_write(tmp_path, _issuing(block)))

    assert "service skck: document.outputs[0]: unknown output 'fingerprints' of dlh" in message
    assert "['clearance']" in message


def test_document_issued_by_an_unknown_agency_is_refused_naming_service_and_agency(tmp_path: Path) -> None:
    message = _refusal(_write(tmp_path, _issuing(_document_block(agency="bpn"))))

    assert "service skck: document: unknown agency 'bpn'" in message


def test_document_issued_by_an_agency_without_a_task_in_the_service_is_refused(tmp_path: Path) -> None:
    document = _issuing(_document_block(agency="imigrasi"))
    document["agencies"].append(
        {
            "code": "imigrasi",
            "name": _text("Imigrasi"),
            "escalation_target": "kepala",
            "escalation_contact": {"email": "kakanim@imigrasi.example.go.id"},
        }
    )

    message = _refusal(_write(tmp_path, document))

    assert "service skck: document: agency 'imigrasi' has no task in the service" in message


def test_document_issued_early_cannot_print_outputs_of_a_later_stage(tmp_path: Path) -> None:
    block = _document_block(agency="polres", outputs=[{"output": "clearance", "agency": "dlh", "label": {"id": "I"}}])

    message = _refusal(_write(tmp_path, _issuing(block)))

    assert "service skck: document.outputs[0]: 'dlh' has no task in or before the issuing stage" in message


def test_document_after_a_parallel_last_stage_must_name_its_issuer(tmp_path: Path) -> None:
    document = _issuing(_document_block(outputs=[]))
    last_stage = document["services"][0]["stages"][1]
    last_stage["tasks"].append({**copy.deepcopy(document["services"][0]["stages"][0]["tasks"][0])})

    message = _refusal(_write(tmp_path, document))

    assert "service skck: document: the last stage has several agencies ['dlh', 'polres']" in message


def test_document_about_someone_else_names_a_field_the_issuing_agency_sees(shipped: Catalogue) -> None:
    birth = shipped.service("akta-kelahiran")

    assert birth is not None
    assert birth.document is not None
    assert birth.document.holder_field == "child_name"


def test_document_holder_field_the_issuing_agency_cannot_see_is_refused(tmp_path: Path) -> None:
    document = _issuing(_document_block(holder_field="address"))
    document["services"][0]["stages"][1]["tasks"][0]["visible_fields"] = []

    message = _refusal(_write(tmp_path, document))

    assert "document.holder_field: 'address' is not visible to the issuing agency dlh" in message


def test_document_printing_an_output_twice_is_refused(tmp_path: Path) -> None:
    twice = {"output": "clearance", "label": {"id": "Izin"}}

    message = _refusal(_write(tmp_path, _issuing(_document_block(outputs=[twice, twice]))))

    assert "document.outputs[1]: dlh 'clearance' is printed twice" in message


@pytest.mark.parametrize(
    ("number_format", "why"),
    [
        ("SKCK/{agency}/{year}", "needs `{serial}`"),
        ("SKCK/{office}/{serial}", "unknown fields ['office']"),
        ("SKCK/{serial:05q}", "Unknown format code"),
        ("SKCK/{serial", "expected '}'"),
    ],
)
def test_document_number_format_that_cannot_number_documents_is_refused_naming_the_field(
    tmp_path: Path, number_format: str, why: str
) -> None:
    message = _refusal(_write(tmp_path, _issuing(_document_block(number_format=number_format))))

    assert "services.0.document.number_format" in message
    assert why in message


def test_task_output_names_follow_the_decision_output_rule(tmp_path: Path) -> None:
    document = _issuing(_document_block())
    document["services"][0]["stages"][0]["tasks"][0]["outputs"] = ["Nomor SKCK"]

    message = _refusal(_write(tmp_path, document))

    assert "services.0.stages.0.tasks.0.outputs" in message
    assert "['Nomor SKCK']" in message


def test_shipped_complaint_categories_keep_the_mall_codes_each_with_its_own_standard(shipped: Catalogue) -> None:
    codes = [category.code for category in shipped.complaint_categories]
    assert codes == ["slow", "behaviour", "fees", "requirements", "facilities", "information", "other"]
    fees = shipped.complaint_category("fees")
    assert fees is not None
    assert (fees.label.in_language("en"), fees.sla_working_days) == ("Fees or charges", 1)


def test_duplicate_complaint_category_codes_are_refused_naming_them(tmp_path: Path) -> None:
    document = _valid()
    category = {"code": "slow", "label": _text("Lambat"), "sla_working_days": 5}
    document["complaint_categories"] = [category, category]
    assert "complaint category codes must be unique" in _refusal(_write(tmp_path, document))


def test_complaint_category_without_a_standard_of_working_days_is_refused_naming_the_field(tmp_path: Path) -> None:
    document = _valid()
    document["complaint_categories"] = [{"code": "slow", "label": _text("Lambat"), "sla_working_days": 0}]
    assert "complaint_categories.0.sla_working_days" in _refusal(_write(tmp_path, document))


def test_shipped_fees_are_whole_rupiah_with_where_the_workflow_waits(shipped: Catalogue) -> None:
    fees = {service.code: service.fee for service in shipped.services if service.fee is not None}

    assert {code: (fee.amount, fee.kind) for code, fee in fees.items()} == {
        "pbg": (1_500_000, "retribusi"),
        "paspor": (350_000, "pnbp"),
        "skck": (30_000, "pnbp"),
        "sim-perpanjangan": (80_000, "pnbp"),
        "cek-sertifikat-tanah": (50_000, "pnbp"),
    }
    pbg, passport, npwp = shipped.service("pbg"), shipped.service("paspor"), shipped.service("npwp")
    assert pbg is not None
    assert passport is not None
    assert npwp is not None
    assert (pbg.payment_stage(), passport.payment_stage(), npwp.payment_stage()) == (1, 0, None)
    assert fees["paspor"].expiry_days == 7


@pytest.mark.parametrize(
    ("fee", "why"),
    [
        ({"amount": 30000.5, "kind": "pnbp"}, "fee.amount"),
        ({"amount": 0, "kind": "pnbp"}, "fee.amount"),
        ({"amount": 30000, "kind": "pajak"}, "fee.kind"),
        ({"amount": 30000, "kind": "pnbp", "agency": "bpn"}, "fee: unknown agency 'bpn'"),
    ],
)
def test_a_fee_that_is_no_whole_rupiah_amount_or_names_no_payee_is_refused(
    tmp_path: Path, fee: dict[str, Any], why: str
) -> None:
    document = _valid()
    document["services"][0]["fee"] = fee

    assert why in _refusal(_write(tmp_path, document))


def test_paying_before_issuing_needs_a_service_that_issues(tmp_path: Path) -> None:
    document = _valid()
    document["services"][0]["fee"] = {"amount": 30000, "kind": "pnbp", "pay_before": "issuing"}

    assert "fee: pay_before issuing needs a `document` block" in _refusal(_write(tmp_path, document))


def test_shipped_building_approval_and_land_check_accept_businesses_and_other_services_only_persons(
    shipped: Catalogue,
) -> None:
    kinds = {service.code: service.applicant_kinds for service in shipped.services}

    assert kinds["pbg"] == kinds["cek-sertifikat-tanah"] == ("person", "business")
    assert kinds["skck"] == ("person",)


def test_a_business_gives_the_power_of_attorney_on_top_of_the_services_documents(shipped: Catalogue) -> None:
    service = shipped.service("cek-sertifikat-tanah")
    assert service is not None

    person = [document.name for document in service.documents_for("person")]
    business = service.documents_for("business")

    assert POWER_OF_ATTORNEY.name not in person
    assert [document.name for document in business] == [*person, "surat_kuasa"]
    assert business[-1].required
    assert business[-1].label.in_language("en") == "Power of attorney"


def test_unknown_applicant_kind_is_refused_naming_the_field(tmp_path: Path) -> None:
    document = _valid()
    document["services"][0]["applicant_kinds"] = ["person", "cooperative"]

    message = _refusal(_write(tmp_path, document))

    assert "applicant_kinds" in message


def test_a_service_document_named_like_the_power_of_attorney_is_refused(tmp_path: Path) -> None:
    document = _valid()
    document["services"][0]["documents"].append(
        {"name": "surat_kuasa", "label": _text("Kuasa"), "media_types": ["application/pdf"]}
    )

    message = _refusal(_write(tmp_path, document))

    assert "'surat_kuasa' is the power of attorney" in message
