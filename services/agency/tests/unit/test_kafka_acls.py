"""The broker ACLs: generated from the catalogue, up to date, and each agency limited to its own two topics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from satupintu.agency.acls import DESK_PRINCIPAL, agency_principal, all_acls, render_json, render_script
from satupintu.common.catalogue import load_catalogue

pytestmark = pytest.mark.unit

ACL_DIR = Path(__file__).resolve().parents[4] / "deploy" / "kafka-acls"


def test_the_committed_acl_files_match_the_catalogue() -> None:
    catalogue = load_catalogue()
    codes = sorted(catalogue.agency_codes())

    assert (ACL_DIR / "acls.json").read_text() == render_json(codes, catalogue.version)
    assert (ACL_DIR / "apply-acls.sh").read_text() == render_script(codes, catalogue.version)


def test_an_agency_may_read_its_tasks_dead_letter_them_and_write_its_decisions_and_nothing_else() -> None:
    codes = sorted(load_catalogue().agency_codes())
    rules = all_acls(codes)

    for code in codes:
        own = {
            (r.resource_type, r.name, r.pattern_type, r.operations)
            for r in rules
            if r.principal == agency_principal(code)
        }
        assert own == {
            ("topic", f"agency.{code}.tasks", "literal", ("Read", "Describe")),
            ("topic", f"agency.{code}.tasks.dlq", "literal", ("Write", "Describe")),
            ("group", f"satupintu.agency.{code}.", "prefixed", ("Read", "Describe")),
            ("topic", f"agency.{code}.decisions", "literal", ("Write", "Describe")),
        }
    document = json.loads((ACL_DIR / "acls.json").read_text())
    assert set(document["principals"]) == {agency_principal(code) for code in codes} | {DESK_PRINCIPAL}
    assert not [r for r in rules if r.pattern_type == "prefixed" and r.resource_type == "topic"]
