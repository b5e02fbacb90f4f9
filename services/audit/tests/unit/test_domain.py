"""The log's rules without I/O: canonical JSON, the hash chain and what breaks it, redaction of personal data, the
order of an application's timeline, cursors and filters."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import pytest

from satupintu.audit.domain import (
    GENESIS_HASH,
    AuditRuleError,
    ChainCheck,
    EntryDraft,
    EventFilters,
    SealedEntry,
    canonical_json,
    decode_cursor,
    encode_cursor,
    entry_document,
    happened_before_order,
    keyed_hash,
    redact,
    seal,
    seal_drafts,
    utc_text,
)

pytestmark = pytest.mark.unit

KEY = b"test-key"


def document(seq: int, **changes: object) -> dict[str, object]:
    values: dict[str, object] = {
        "seq": seq,
        "ce_id": f"event-{seq}",
        "topic": "applications",
        "type": "application.submitted",
        "source": "/satupintu/intake",
        "actor": "citizen",
        "agency": None,
        "application_id": "app-1",
        "subject": "app-1",
        "correlation_id": None,
        "causation_id": None,
        "time": datetime(2026, 11, 3, 2, 15, tzinfo=UTC),
        "recorded_at": datetime(2026, 11, 3, 2, 15, 1, 5, tzinfo=UTC),
        "payload": {"service_code": "skck", "luas": 120.5},
    }
    return entry_document(values | changes)


def chain(count: int) -> list[SealedEntry]:
    entries, previous = [], GENESIS_HASH
    for seq in range(1, count + 1):
        entry = seal(document(seq), previous)
        entries.append(entry)
        previous = entry.entry_hash
    return entries


def draft(number: int) -> EntryDraft:
    return EntryDraft(
        ce_id=f"event-{number}",
        topic="applications",
        type="application.submitted",
        source="/satupintu/intake",
        actor="citizen",
        application_id="app-1",
        subject="app-1",
        time=datetime(2026, 11, 3, 2, 15, tzinfo=UTC),
        recorded_at=datetime(2026, 11, 3, 2, 15, 1, 5, tzinfo=UTC),
        payload={"service_code": "skck", "number": number},
        personal_hashes=(keyed_hash(KEY, f"nik-{number}"),),
    )


def test_drafts_appended_one_at_a_time_and_in_a_batch_give_the_same_chain() -> None:
    drafts = [draft(number) for number in range(1, 6)]
    one_at_a_time: list[SealedEntry] = []
    for single in drafts:
        head_seq, head_hash = (
            (one_at_a_time[-1].seq, one_at_a_time[-1].entry_hash) if one_at_a_time else (0, GENESIS_HASH)
        )
        one_at_a_time.extend(seal_drafts([single], head_seq, head_hash))

    in_a_batch = seal_drafts(drafts, 0, GENESIS_HASH)

    assert in_a_batch == one_at_a_time
    assert [entry.seq for entry in in_a_batch] == [1, 2, 3, 4, 5]


def test_a_batch_appended_after_a_head_continues_its_chain_and_verifies() -> None:
    head = seal_drafts([draft(1), draft(2)], 0, GENESIS_HASH)
    check = ChainCheck(contiguous=True)

    later = seal_drafts([draft(3), draft(4)], head[-1].seq, head[-1].entry_hash)

    assert [check.check(entry) for entry in [*head, *later]] == [None] * 4
    assert later[0].prev_hash == head[-1].entry_hash
    assert later[0].document["seq"] == 3


def test_a_draft_hashes_the_same_document_as_its_stored_values() -> None:
    single = draft(7)

    assert single.document(7) == entry_document({**single.values(), "seq": 7})
    assert single.document(7)["recorded_at"] == "2026-11-03T02:15:01.000005Z"
    assert "personal_hashes" not in single.document(7)


def test_canonical_json_sorts_keys_drops_whitespace_and_writes_utf8() -> None:
    assert canonical_json({"b": [1, 2.5, None], "a": {"d": "é", "c": True}}) == (
        '{"a":{"c":true,"d":"é"},"b":[1,2.5,null]}'.encode()
    )
    assert canonical_json({"text": 'quote " and \\ and \n'}) == b'{"text":"quote \\" and \\\\ and \\n"}'
    with pytest.raises(ValueError, match="JSON compliant"):
        canonical_json({"ratio": float("nan")})


def test_times_are_rfc3339_utc_with_microseconds() -> None:
    jakarta = timezone(timedelta(hours=7))

    assert utc_text(datetime(2026, 11, 3, 9, 15, tzinfo=jakarta)) == "2026-11-03T02:15:00.000000Z"
    assert document(1)["recorded_at"] == "2026-11-03T02:15:01.000005Z"


def test_an_entry_hash_is_sha256_of_the_previous_hash_and_the_canonical_document() -> None:
    first = seal(document(1), GENESIS_HASH)

    expected = hashlib.sha256(bytes(32) + canonical_json(document(1))).hexdigest()
    assert first.entry_hash == expected
    assert seal(document(2), first.entry_hash).prev_hash == first.entry_hash


def test_an_intact_chain_checks_out() -> None:
    check = ChainCheck(contiguous=True)

    assert [check.check(entry) for entry in chain(5)] == [None] * 5
    assert check.checked == 5


def test_one_altered_byte_names_the_entry() -> None:
    entries = chain(4)
    altered = SealedEntry(
        document={**entries[2].document, "actor": "citizem"},
        prev_hash=entries[2].prev_hash,
        entry_hash=entries[2].entry_hash,
    )
    check = ChainCheck(contiguous=True)

    results = [check.check(entry) for entry in [*entries[:2], altered]]

    assert results[:2] == [None, None]
    assert results[2] is not None
    assert results[2].seq == 3
    assert "entry 3 (ce_id event-3) does not match its hash" in results[2].reason


def test_a_removed_entry_or_a_broken_link_is_found() -> None:
    entries = chain(4)
    whole_log = ChainCheck(contiguous=True)
    relinked = seal(document(3), GENESIS_HASH)  # rehashed on its own, no longer linked to entry 2

    gap = [whole_log.check(entry) for entry in [entries[0], entries[2]]]
    link = ChainCheck(contiguous=True)
    unlinked = [link.check(entry) for entry in [entries[0], entries[1], relinked]]

    assert gap[1] is not None
    assert gap[1].seq == 2
    assert "missing" in gap[1].reason
    assert unlinked[2] is not None
    assert unlinked[2].seq == 3
    assert "prev_hash" in unlinked[2].reason


def test_a_filtered_export_links_only_neighbours() -> None:
    entries = chain(6)
    check = ChainCheck(contiguous=False)

    assert [check.check(entry) for entry in [entries[0], entries[3], entries[4]]] == [None, None, None]


def test_personal_fields_become_keyed_hashes_that_match_per_value() -> None:
    payload = {
        "application_id": "app-1",
        "applicant": {"nik": "3171015506900002", "name": "Siti Rahayu", "email": None},
        "data": {"purpose": "Melamar pekerjaan", "floors": 2},
        "service_code": "skck",
    }

    redacted, hashes = redact(payload, {"applicant", "data"}, KEY)

    assert redacted["application_id"] == "app-1"
    assert redacted["service_code"] == "skck"
    assert redacted["applicant"]["nik"] == keyed_hash(KEY, "3171015506900002")
    assert redacted["applicant"]["email"] is None
    assert redacted["data"]["floors"] == keyed_hash(KEY, 2)
    assert "3171015506900002" not in str(redacted)
    assert "Siti" not in str(redacted)
    assert keyed_hash(KEY, "3171015506900002") in hashes
    assert len(hashes) == 4
    assert keyed_hash(b"another key", "3171015506900002") not in hashes


@dataclass(frozen=True)
class Seen:
    """An event as the timeline orders it."""

    id: str
    cause: str | None
    topic: str


def ordered(*entries: Seen) -> list[str]:
    return [
        entry.id
        for entry in happened_before_order(
            entries, event_id=lambda e: e.id, cause_id=lambda e: e.cause, stream=lambda e: e.topic
        )
    ]


def test_the_timeline_keeps_audit_order_when_it_is_already_causal() -> None:
    assert ordered(
        Seen("submitted", None, "applications"),
        Seen("stage", "submitted", "applications"),
        Seen("assigned", "submitted", "tasks"),
    ) == ["submitted", "stage", "assigned"]


def test_an_effect_logged_before_its_cause_moves_after_it_with_its_topic_order_kept() -> None:
    assert ordered(
        Seen("assigned", "submitted", "tasks"),  # its cause arrived later on another topic
        Seen("withdrawn", "rejected", "tasks"),
        Seen("decided", "assigned", "decisions"),
        Seen("submitted", None, "applications"),
        Seen("rejected", "decided", "applications"),
    ) == ["submitted", "assigned", "decided", "rejected", "withdrawn"]


def test_causes_outside_the_timeline_and_cycles_do_not_lose_entries() -> None:
    assert ordered(Seen("a", "elsewhere", "t1"), Seen("b", None, "t2")) == ["a", "b"]
    assert sorted(ordered(Seen("a", "b", "t1"), Seen("b", "a", "t2"))) == ["a", "b"]


def test_cursors_round_trip_and_foreign_ones_are_refused_naming_the_field() -> None:
    assert decode_cursor(encode_cursor(42)) == 42
    for foreign in ("nonsense", encode_cursor(1)[:-2] + "!!", "YWZ0ZXI6LTE"):
        with pytest.raises(AuditRuleError) as refused:
            decode_cursor(foreign)
        assert refused.value.field == "cursor"


def test_a_time_range_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(AuditRuleError) as refused:
        EventFilters(since=datetime(2026, 2, 1, tzinfo=UTC), until=datetime(2026, 1, 1, tzinfo=UTC))

    assert refused.value.field == "since"
