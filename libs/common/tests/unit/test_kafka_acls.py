"""The broker ACLs: generated from the catalogue and the contract, up to date, each agency limited to its own topics,
and the key topics read only by their readers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from satupintu.common.catalogue import load_catalogue
from satupintu.common.kafka_acls import (
    DESK_PRINCIPAL,
    OPERATOR_PRINCIPAL,
    SERVICES,
    agency_principal,
    all_acls,
    principal,
    principal_acls,
    render_json,
    render_script,
    service_user,
)
from satupintu.contract.contract import PRODUCED_BY
from satupintu.contract.topics import KeyTopic, Topic, all_topic_names, key_topic_names

pytestmark = pytest.mark.unit

ACL_DIR = Path(__file__).resolve().parents[4] / "deploy" / "kafka-acls"
CODES = sorted(load_catalogue().agency_codes())


def granted(who: str, operation: str) -> set[str]:
    """The topics ``who`` may do ``operation`` on."""
    return {
        rule.name
        for rule in principal_acls(CODES)[who]
        if rule.resource_type == "topic" and operation in rule.operations
    }


def test_the_committed_acl_files_match_the_catalogue_and_the_contract() -> None:
    catalogue = load_catalogue()

    assert (ACL_DIR / "acls.json").read_text() == render_json(CODES, catalogue.version)
    assert (ACL_DIR / "apply-acls.sh").read_text() == render_script(CODES, catalogue.version)
    document = json.loads((ACL_DIR / "acls.json").read_text())
    assert set(document["principals"]) == {principal(service_user(name)) for name in SERVICES} | {
        OPERATOR_PRINCIPAL
    } | {agency_principal(code) for code in CODES}
    assert set(document["principals"]) == {rule["principal"] for rule in document["acls"]}


def test_an_agency_may_read_its_tasks_and_keys_dead_letter_them_and_write_its_decisions_and_nothing_else() -> None:
    rules = all_acls(CODES)

    for code in CODES:
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
            ("topic", f"keys.agency.{code}", "literal", ("Read", "Describe")),
            ("topic", f"keys.agency.{code}.dlq", "literal", ("Write", "Describe")),
        }
    assert not [r for r in rules if r.pattern_type == "prefixed" and r.resource_type == "topic"]


def test_every_service_may_write_the_topic_of_each_event_it_publishes() -> None:
    for service, produced in PRODUCED_BY.items():
        who = DESK_PRINCIPAL if service == "agency" else principal(service_user(service))
        for payload in produced:
            names = (
                {payload.topic.name_for(code) for code in CODES}
                if payload.topic.per_agency
                else {payload.topic.name_for()}
            )
            assert names <= granted(who, "Write"), (service, payload.event_type)
    assert Topic.APPLICATIONS.name_for() in granted(DESK_PRINCIPAL, "Write")  # document.issued and .revoked


def test_only_intake_writes_keys_and_only_their_readers_read_them() -> None:
    key_topics = set(key_topic_names(CODES))
    readable = {name for name in key_topics if not name.endswith(".dlq")}
    agency_keys = {KeyTopic.AGENCY.name_for(code) for code in CODES}
    intake, notification = principal(service_user("intake")), principal(service_user("notification"))

    assert granted(intake, "Write") & key_topics == readable
    assert granted(intake, "Read") & key_topics == set()
    assert granted(notification, "Read") & readable == {KeyTopic.NOTIFICATION.name_for()}
    assert granted(notification, "Write") & key_topics == {"keys.notification.dlq"}
    assert granted(DESK_PRINCIPAL, "Read") & readable == agency_keys
    assert granted(DESK_PRINCIPAL, "Write") & key_topics == {f"{name}.dlq" for name in agency_keys}
    for who in (principal(service_user("mall")), principal(service_user("audit")), principal(service_user("routing"))):
        assert {rule.name for rule in principal_acls(CODES)[who]} & key_topics == set(), who
    assert {rule.name for rule in principal_acls(CODES)[OPERATOR_PRINCIPAL]} & key_topics == set()
    writers = {rule.principal for rule in all_acls(CODES) if rule.name in readable and "Write" in rule.operations}
    assert writers == {intake}


def test_audit_reads_every_topic_of_the_contract_and_no_key_topic() -> None:
    audit = principal(service_user("audit"))

    assert granted(audit, "Read") == set(all_topic_names(CODES))
    assert granted(audit, "Write") == {"access"}
