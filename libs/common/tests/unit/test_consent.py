"""The one consent rule (decision 0018): nothing is reused before an explicit grant; of the decisions covering an
agency and field the latest wins, whether it was for that agency or for every agency; a value is reused on an
application only when every agency it reaches is allowed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from satupintu.common.catalogue import load_catalogue
from satupintu.common.consent import ALL_AGENCIES, ConsentBook, ConsentDecision, may_reuse, receiving_agencies
from satupintu.contract.mall import ConsentGranted, ConsentWithdrawn

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def grant(agency: str, *fields: str) -> ConsentDecision:
    return ConsentDecision(agency, fields, granted=True)


def withdraw(agency: str, *fields: str) -> ConsentDecision:
    return ConsentDecision(agency, fields, granted=False)


def book_after(*decisions: ConsentDecision) -> ConsentBook:
    book = ConsentBook()
    for decision in decisions:
        book.apply(decision)
    return book


def test_nothing_is_allowed_before_an_explicit_grant() -> None:
    book = ConsentBook()

    assert not book.allows("polres", "address")
    assert not book.allows(ALL_AGENCIES, "address")


def test_a_grant_for_one_agency_allows_that_agency_and_field_only() -> None:
    book = book_after(grant("polres", "address"))

    assert book.allows("polres", "address")
    assert not book.allows("djp", "address")
    assert not book.allows("polres", "kk_number")


def test_a_withdrawal_for_one_agency_after_a_grant_for_every_agency_holds_for_that_agency() -> None:
    book = book_after(grant(ALL_AGENCIES, "address"), withdraw("djp", "address"))

    assert book.allows("polres", "address")
    assert book.allows("disdukcapil", "address")  # no line of its own: the grant for every agency
    assert not book.allows("djp", "address")


def test_a_decision_for_every_agency_overrides_earlier_decisions_for_single_agencies() -> None:
    withdrawn = book_after(grant("polres", "address"), withdraw(ALL_AGENCIES, "address"))
    granted = book_after(withdraw("djp", "address"), grant(ALL_AGENCIES, "address"))

    assert not withdrawn.allows("polres", "address")
    assert granted.allows("djp", "address")


def test_apply_returns_only_the_lines_it_changed() -> None:
    book = book_after(grant("polres", "address"))

    assert book.apply(grant("polres", "address")) == {}
    assert book.apply(grant(ALL_AGENCIES, "address", "address")) == {(ALL_AGENCIES, "address"): True}
    assert book.apply(withdraw(ALL_AGENCIES, "address")) == {
        (ALL_AGENCIES, "address"): False,
        ("polres", "address"): False,
    }


def test_a_book_rebuilt_from_stored_lines_answers_as_the_one_that_stored_them() -> None:
    book = book_after(grant(ALL_AGENCIES, "address"), withdraw("djp", "address"), grant("polres", "kk_number"))
    rebuilt = ConsentBook(book.lines)

    for agency in ("polres", "djp", "disdukcapil", ALL_AGENCIES):
        for field in ("address", "kk_number"):
            assert rebuilt.allows(agency, field) == book.allows(agency, field)


def test_a_decision_is_read_from_either_event() -> None:
    granted = ConsentGranted(
        ledger_id="l-1", application_id="a-1", agency="polres", fields=("address",), granted_at=NOW
    )
    withdrawn = ConsentWithdrawn(
        ledger_id="l-1", application_id="a-1", agency="*", fields=("address",), withdrawn_at=NOW
    )

    assert ConsentDecision.of(granted) == grant("polres", "address")
    assert ConsentDecision.of(withdrawn) == withdraw(ALL_AGENCIES, "address")


def test_a_value_is_reused_only_when_every_agency_it_reaches_is_allowed() -> None:
    catalogue = load_catalogue()
    service = next(s for s in catalogue.services if len(receiving_agencies(s, "kk_number")) > 1)
    first, *others = receiving_agencies(service, "kk_number")

    assert not may_reuse(book_after(grant(first, "kk_number")), service, "kk_number")
    assert may_reuse(book_after(*(grant(agency, "kk_number") for agency in [first, *others])), service, "kk_number")
    assert may_reuse(book_after(grant(ALL_AGENCIES, "kk_number")), service, "kk_number")
    assert not may_reuse(
        book_after(grant(ALL_AGENCIES, "kk_number"), withdraw(first, "kk_number")), service, "kk_number"
    )
