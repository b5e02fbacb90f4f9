"""The desk's rules without I/O: SLA state against working days, what a valid decision is, reading the form."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from satupintu.agency.domain import (
    DecisionInput,
    InvalidDecision,
    SlaState,
    agency_of_topic,
    checked_decision,
    sla_state,
)
from satupintu.agency.web.desk import decision_from_form
from satupintu.common.web.dates import local_time
from satupintu.common.working_days import WorkingCalendar
from satupintu.contract.base import Decision

pytestmark = pytest.mark.unit

WIB = ZoneInfo("Asia/Jakarta")
JAKARTA = WorkingCalendar("Asia/Jakarta")


def wib(day: int, hour: int = 10, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=WIB)


@pytest.mark.parametrize(
    ("now", "due", "expected"),
    [
        (wib(18), wib(20, 23, 59), SlaState.ON_TIME),  # Wednesday; due Friday: two working days left
        (wib(18), wib(19, 23, 59), SlaState.DUE_SOON),  # due tomorrow
        (wib(18), wib(18, 23, 59), SlaState.DUE_SOON),  # due today
        (wib(20, 15), wib(23, 23, 59), SlaState.DUE_SOON),  # Friday afternoon: Monday is the next working day
        (wib(20, 15), wib(24, 23, 59), SlaState.ON_TIME),  # Friday: Tuesday is two working days away
        (wib(18, 10, 1), wib(18, 10, 0), SlaState.BREACHED),  # a minute late
    ],
)
def test_sla_state_counts_working_days_in_the_agencys_time_zone(
    now: datetime, due: datetime, expected: SlaState
) -> None:
    assert sla_state(due, now, JAKARTA) is expected


def test_sla_state_skips_holidays_and_collective_leave_and_trusts_routings_breach() -> None:
    before_christmas = wib(24, 10, month=12)  # Thursday; 25 December is a holiday, 26 a Saturday
    due_monday = wib(28, 23, 59, month=12)
    with_leave = WorkingCalendar("Asia/Jakarta", frozenset({date(2026, 11, 19)}))

    assert sla_state(due_monday, before_christmas, JAKARTA) is SlaState.DUE_SOON
    assert sla_state(wib(20, 23, 59), wib(18), with_leave) is SlaState.DUE_SOON  # Thursday is cuti bersama
    assert sla_state(wib(27, 23, 59), wib(18), JAKARTA, breached=True) is SlaState.BREACHED
    assert sla_state(wib(20, 23, 59), wib(18), JAKARTA, due_soon_working_days=2) is SlaState.DUE_SOON


def test_a_rejection_needs_a_reason_and_a_question_needs_text_with_field_paths() -> None:
    with pytest.raises(InvalidDecision) as rejection:
        checked_decision(DecisionInput(Decision.REJECTED, reason="  "))
    with pytest.raises(InvalidDecision) as question:
        checked_decision(DecisionInput(Decision.NEEDS_INFORMATION, questions=("", "  ")))
    with pytest.raises(InvalidDecision) as outputs:
        checked_decision(DecisionInput(Decision.APPROVED, outputs={"Nomor Akta": "1", "ok": ["nested"]}))
    with pytest.raises(InvalidDecision) as misplaced:
        checked_decision(DecisionInput(Decision.REJECTED, outputs={"number": "1"}, reason="Data tidak cocok"))

    assert [(p.field, p.message) for p in rejection.value.problems] == [
        ("reason", "a rejection needs a reason the citizen will read")
    ]
    assert [p.field for p in question.value.problems] == ["questions"]
    assert [p.field for p in outputs.value.problems] == ["outputs/Nomor Akta", "outputs/ok"]
    assert [p.field for p in misplaced.value.problems] == ["outputs"]


def test_a_valid_decision_is_trimmed_and_keeps_only_what_its_kind_uses() -> None:
    approved = checked_decision(DecisionInput(Decision.APPROVED, outputs={"skck_number": "SKCK/1"}, reason="x"))
    asked = checked_decision(DecisionInput(Decision.NEEDS_INFORMATION, questions=(" Nomor KK? ", "")))

    assert approved == DecisionInput(Decision.APPROVED, outputs={"skck_number": "SKCK/1"})
    assert asked.questions == ("Nomor KK?",)


def test_the_desk_form_reads_outputs_as_name_value_lines() -> None:
    decided = decision_from_form("approved", "birth_certificate_number = 3171-LT-01\n\nvolume=2\n", "", "")
    with pytest.raises(InvalidDecision) as malformed:
        decision_from_form("approved", "just a number", "", "")
    with pytest.raises(InvalidDecision) as unchosen:
        decision_from_form("", "", "", "")

    assert decided.outputs == {"birth_certificate_number": "3171-LT-01", "volume": "2"}
    assert [p.field for p in malformed.value.problems] == ["outputs"]
    assert [p.field for p in unchosen.value.problems] == ["decision"]


def test_agency_of_topic_reads_the_code_behind_any_cluster_prefix() -> None:
    assert agency_of_topic("t1234.agency.bpjs-kes.decisions") == "bpjs-kes"
    assert agency_of_topic("agency.polres.tasks") == "polres"
    assert agency_of_topic("applications") is None


def test_times_are_shown_in_the_agencys_zone_the_indonesian_way() -> None:
    assert local_time(datetime(2026, 11, 20, 16, 59, tzinfo=UTC)) == "Jum, 20 Nov 2026 23:59 WIB"
    assert local_time(datetime(2026, 11, 20, 16, 59, tzinfo=UTC), "Asia/Makassar") == "Sab, 21 Nov 2026 00:59 WITA"
