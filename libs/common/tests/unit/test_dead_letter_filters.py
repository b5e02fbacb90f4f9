"""Which dead letters a filter selects: what ``GET /dlq``'s query and ``POST /dlq/replay``'s body accept and refuse
(with the field at fault), how they become a selection, and what a selection matches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from satupintu.common.dead_letters.queues import DeadLetter, DeadLetterPosition, Selection
from satupintu.common.dead_letters.schemas import MAX_LIMIT, DeadLetterQuery, ReplayCreate
from satupintu.devtools.testing.kafka import consumer_record

pytestmark = pytest.mark.unit

WRITTEN = datetime(2026, 8, 14, 3, 0, tzinfo=UTC)


def letter(
    *, consumer: str = "routing", reason: str = "unknown task t-1", ce_type: str = "task.decided", **more: str
) -> DeadLetter:
    """A dead letter of ``t1.agency.polres.decisions`` as a consumer writes it (cluster prefix ``t1.``)."""
    headers = {
        "ce_id": "e-1",
        "ce_type": ce_type,
        "dlq_reason": reason,
        "dlq_consumer": consumer,
        "dlq_topic": "t1.agency.polres.decisions",
        "dlq_partition": "2",
        "dlq_offset": "41",
        **more,
    }
    record = consumer_record(
        "t1.agency.polres.decisions.dlq",
        b'{"task_id": "t-1"}',
        [(name, value.encode()) for name, value in headers.items()],
        partition=1,
        offset=7,
        timestamp=int(WRITTEN.timestamp() * 1000),
    )
    return DeadLetter(record, topic_prefix="t1.")


def refused_fields(model: type[DeadLetterQuery] | type[ReplayCreate], values: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(values)
    return [".".join(str(part) for part in error["loc"]) for error in refused.value.errors()]


def test_an_empty_query_selects_everything_and_shows_a_hundred() -> None:
    query = DeadLetterQuery.model_validate({})

    assert query.selection().is_everything()
    assert query.limit == 100


def test_blank_fields_of_a_page_form_are_no_criterion() -> None:
    query = DeadLetterQuery.model_validate(
        {"consumer": [""], "topic": ["", " applications "], "reason": "  ", "since": "", "until": ""}
    )

    assert query.selection() == Selection(topics=frozenset({"applications"}))


def test_one_value_or_many_may_be_given_for_each_list_criterion() -> None:
    query = DeadLetterQuery.model_validate({"consumer": "routing", "event_type": ["task.decided", "task.claimed"]})

    assert query.selection() == Selection(
        consumers=frozenset({"routing"}), event_types=frozenset({"task.decided", "task.claimed"})
    )


def test_times_without_a_zone_are_utc_and_others_are_converted() -> None:
    query = DeadLetterQuery.model_validate({"since": "2026-08-14T10:00", "until": "2026-08-14T18:00:00+07:00"})

    assert query.since == datetime(2026, 8, 14, 10, 0, tzinfo=UTC)
    assert query.until == datetime(2026, 8, 14, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"since": "2026-08-14T10:00Z", "until": "2026-08-14T10:00Z"}, "until"),
        ({"since": "yesterday"}, "since"),
        ({"limit": 0}, "limit"),
        ({"limit": MAX_LIMIT + 1}, "limit"),
        ({"reason": "x" * 201}, "reason"),
        ({"consumer": ["c"] * 101}, "consumer"),
        ({"consumers": ["routing"]}, "consumers"),
    ],
)
def test_a_query_out_of_bounds_is_refused_naming_its_field(values: dict[str, Any], field: str) -> None:
    assert refused_fields(DeadLetterQuery, values) == [field]


def test_a_replay_needs_a_criterion_or_all_but_not_both() -> None:
    assert refused_fields(ReplayCreate, {}) == ["all"]
    assert refused_fields(ReplayCreate, {"dry_run": True, "limit": 5}) == ["all"]
    assert refused_fields(ReplayCreate, {"all": True, "consumer": ["routing"]}) == ["all"]
    assert ReplayCreate.model_validate({"all": True}).selection().is_everything()


def test_an_invalid_criterion_of_a_replay_is_the_only_error() -> None:
    assert refused_fields(ReplayCreate, {"since": "not a time"}) == ["since"]
    assert refused_fields(ReplayCreate, {"positions": [{"topic": "applications", "partition": 0, "offset": 1}]}) == [
        "positions.0.topic"
    ]


def test_positions_of_a_replay_are_part_of_its_selection() -> None:
    replay = ReplayCreate.model_validate(
        {"positions": [{"topic": "applications.dlq", "partition": 2, "offset": 17}], "consumer": ["routing"]}
    )

    assert replay.selection() == Selection(
        consumers=frozenset({"routing"}), positions=frozenset({DeadLetterPosition("applications.dlq", 2, 17)})
    )


@pytest.mark.parametrize("text", ["applications.dlq:2", "applications:2:17", "applications.dlq:-1:3", "x.dlq:a:b", ""])
def test_a_position_is_written_topic_partition_offset_of_a_dead_letter_topic(text: str) -> None:
    with pytest.raises(ValueError, match="position"):
        DeadLetterPosition.parse(text)
    assert DeadLetterPosition.parse(" applications.dlq:2:17 ") == DeadLetterPosition("applications.dlq", 2, 17)
    assert str(DeadLetterPosition("applications.dlq", 2, 17)) == "applications.dlq:2:17"


def test_a_dead_letter_says_where_it_came_from_without_the_cluster_prefix() -> None:
    found = letter()

    assert (found.topic, found.partition, found.offset) == ("agency.polres.decisions", 2, 41)
    assert found.position == DeadLetterPosition("agency.polres.decisions.dlq", 1, 7)
    assert found.dead_lettered_at == WRITTEN
    assert found.unreplayable() is None
    original = found.original()
    assert (original.topic, original.partition, original.offset) == ("t1.agency.polres.decisions", 2, 41)
    assert [name for name, _ in original.headers] == ["ce_id", "ce_type"]


def test_a_trimmed_dead_letter_or_one_naming_another_topic_cannot_be_replayed() -> None:
    trimmed = letter(dlq_trimmed="true", dlq_value_bytes="2000000", dlq_value_sha256="ab12")
    elsewhere = letter(dlq_topic="t1.applications")

    assert trimmed.value_bytes == 2_000_000
    assert (trimmed.unreplayable() or "").startswith("trimmed: its value (2000000 bytes, SHA-256 ab12)")
    assert "names 't1.applications'" in (elsewhere.unreplayable() or "")


@pytest.mark.parametrize(
    ("selection", "selected"),
    [
        (Selection(), True),
        (Selection(consumers=frozenset({"routing", "audit"})), True),
        (Selection(consumers=frozenset({"notification"})), False),
        (Selection(topics=frozenset({"agency.polres.decisions"})), True),
        (Selection(topics=frozenset({"t1.agency.polres.decisions"})), False),
        (Selection(event_types=frozenset({"task.claimed"})), False),
        (Selection(event_ids=frozenset({"e-1"})), True),
        (Selection(reason_contains="UNKNOWN TASK"), True),
        (Selection(reason_contains="timeout"), False),
        (Selection(since=WRITTEN), True),
        (Selection(since=WRITTEN + timedelta(seconds=1)), False),
        (Selection(until=WRITTEN), False),
        (Selection(until=WRITTEN.astimezone(timezone(timedelta(hours=7))) + timedelta(seconds=1)), True),
        (Selection(positions=frozenset({DeadLetterPosition("agency.polres.decisions.dlq", 1, 7)})), True),
        (Selection(positions=frozenset({DeadLetterPosition("agency.polres.decisions.dlq", 0, 7)})), False),
        (Selection(consumers=frozenset({"routing"}), reason_contains="timeout"), False),
    ],
)
def test_a_selection_matches_when_every_criterion_given_holds(selection: Selection, selected: bool) -> None:
    assert selection.matches(letter()) is selected
