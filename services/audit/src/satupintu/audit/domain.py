r"""The audit log's rules, without I/O: an entry's draft, what an entry's hash covers, the hash chain, redaction of
personal data, the order of an application's timeline, and cursors.

Canonical JSON (the bytes an entry's hash covers) is the entry's JSON object serialised with its keys sorted
(by code point, recursively), no whitespace (``,`` and ``:`` as separators), non-ASCII characters written as
themselves (only ``"``, ``\`` and control characters are escaped, as ``json.dumps`` does), no NaN or infinities,
encoded as UTF-8. Times in it are RFC 3339 in UTC with six fractional digits and a ``Z``
(``2026-11-03T02:15:00.123456Z``). The chain is ``entry_hash = SHA-256(prev_hash || canonical_json(entry))`` over
the raw 32-byte hashes, hex-encoded when stored or shown; the first entry's ``prev_hash`` is 32 zero bytes.

Pure functions: the offline verifier imports this module too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import heapq
import hmac
import json
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from satupintu.contract.envelope import event_source

SOURCE = event_source("audit")
"""The CloudEvents source of what audit itself publishes and logs."""

GENESIS_HASH = "00" * 32
"""The ``prev_hash`` of the first entry."""

DOCUMENT_FIELDS = (
    "seq",
    "ce_id",
    "topic",
    "type",
    "source",
    "actor",
    "agency",
    "application_id",
    "subject",
    "correlation_id",
    "causation_id",
    "time",
    "recorded_at",
    "payload",
)
"""The fields of an entry its hash covers (the entry's "document")."""

PERSONAL_HASH_PREFIX = "hmac-sha256:"
T = TypeVar("T")


class AuditRuleError(ValueError):
    """A request the audit log cannot answer as asked; ``field`` names the parameter at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class AuditNotFound(LookupError):
    """What was asked for is not in the log (yet)."""


class TreeIncomplete(RuntimeError):
    """The stored Merkle tree lacks a node it must have: the tree tables were altered."""


def canonical_json(value: Any) -> bytes:
    """The canonical JSON bytes of ``value`` (see the module docstring); raises ValueError for what JSON cannot
    carry exactly (NaN, infinities, unpaired surrogates)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.encode("utf-8")


def utc_text(moment: datetime) -> str:
    """``moment`` as RFC 3339 in UTC with microseconds and ``Z`` (a naive time is taken as UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_utc_text(text: str) -> datetime:
    """The datetime of a :func:`utc_text` string."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def entry_hash(prev_hash: str, document: Mapping[str, Any]) -> str:
    """``SHA-256(prev_hash || canonical_json(document))`` as hex; ``prev_hash`` is hex."""
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical_json(dict(document))).hexdigest()


def entry_document(values: Mapping[str, Any]) -> dict[str, Any]:
    """The document an entry's hash covers, from its stored values (times become RFC 3339 text)."""
    document: dict[str, Any] = {}
    for name in DOCUMENT_FIELDS:
        value = values.get(name)
        document[name] = utc_text(value) if isinstance(value, datetime) else value
    return document


def keyed_hash(key: bytes, value: Any) -> str:
    """HMAC-SHA256 of a value's canonical JSON: matchable by whoever holds the key, not readable."""
    return PERSONAL_HASH_PREFIX + hmac.new(key, canonical_json(value), hashlib.sha256).hexdigest()


def redact(payload: Mapping[str, Any], personal_fields: Iterable[str], key: bytes) -> tuple[dict[str, Any], list[str]]:
    """The payload with every value inside a personal field replaced by its keyed hash (structure and keys kept,
    so a NIK inside ``applicant`` can be matched on its own), and the hashes it now holds, sorted and unique."""
    redacted = dict(payload)
    hashes: set[str] = set()

    def hashed(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, Mapping):
            return {name: hashed(item) for name, item in value.items()}
        if isinstance(value, list | tuple):
            return [hashed(item) for item in value]
        digest = keyed_hash(key, value)
        hashes.add(digest)
        return digest

    for name in personal_fields:
        if name in redacted:
            redacted[name] = hashed(redacted[name])
    return redacted, sorted(hashes)


@dataclass(frozen=True)
class SealedEntry:
    """An entry as the chain sees it: the document its hash covers, the previous entry's hash, and its own."""

    document: Mapping[str, Any]
    prev_hash: str
    entry_hash: str

    @property
    def seq(self) -> int:
        """The entry's position in the log, from 1."""
        return int(self.document["seq"])

    def computed_hash(self) -> str:
        """What the entry's hash must be, given its content and ``prev_hash``."""
        return entry_hash(self.prev_hash, self.document)


def seal(document: Mapping[str, Any], prev_hash: str) -> SealedEntry:
    """The entry for ``document`` appended after an entry whose hash is ``prev_hash``."""
    return SealedEntry(document=document, prev_hash=prev_hash, entry_hash=entry_hash(prev_hash, document))


@dataclass(frozen=True)
class EntryDraft:
    """An entry before it has a place in the log: what was seen, personal data already replaced by keyed hashes.
    Appending gives it ``seq`` and its hashes."""

    ce_id: str
    topic: str
    type: str
    source: str
    actor: str
    time: datetime
    recorded_at: datetime
    payload: Mapping[str, Any]
    agency: str | None = None
    application_id: str | None = None
    subject: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    personal_hashes: tuple[str, ...] = ()

    def values(self) -> dict[str, Any]:
        """The stored values of the entry, without ``seq`` and hashes."""
        return {
            "ce_id": self.ce_id,
            "topic": self.topic,
            "type": self.type,
            "source": self.source,
            "actor": self.actor,
            "agency": self.agency,
            "application_id": self.application_id,
            "subject": self.subject,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "time": self.time,
            "recorded_at": self.recorded_at,
            "payload": dict(self.payload),
            "personal_hashes": list(self.personal_hashes),
        }

    def document(self, seq: int) -> dict[str, Any]:
        """The document the entry's hash covers once it is entry ``seq``."""
        return entry_document({**self.values(), "seq": seq})


def seal_drafts(drafts: Sequence[EntryDraft], after_seq: int, prev_hash: str) -> list[SealedEntry]:
    """``drafts`` appended in order after entry ``after_seq``, whose hash is ``prev_hash``: each one's ``seq`` and
    hashes. Appending drafts one at a time from each new head gives the same entries as appending them together."""
    entries: list[SealedEntry] = []
    for seq, draft in enumerate(drafts, start=after_seq + 1):
        entry = seal(draft.document(seq), prev_hash)
        entries.append(entry)
        prev_hash = entry.entry_hash
    return entries


@dataclass(frozen=True)
class ChainBreak:
    """The first entry at which the log stops being what was appended, and why."""

    seq: int
    reason: str


class ChainCheck:
    """Checks entries fed in ``seq`` order: every entry's hash against its content, and, where the previous entry
    was fed too, the link between them. ``contiguous`` demands a gapless log from seq 1 (the whole log), else only
    entries that follow each other are linked (a filtered export)."""

    def __init__(self, *, contiguous: bool) -> None:
        self._contiguous = contiguous
        self._last_seq = 0
        self._last_hash = GENESIS_HASH
        self.checked = 0

    def check(self, entry: SealedEntry) -> ChainBreak | None:
        """None if ``entry`` is intact and linked, else what is wrong with it."""
        seq = entry.seq
        if self._contiguous and seq != self._last_seq + 1:
            return ChainBreak(self._last_seq + 1, f"entry {self._last_seq + 1} is missing (next present is {seq})")
        if seq <= self._last_seq:
            return ChainBreak(seq, f"entry {seq} is out of order (after {self._last_seq})")
        follows = seq == self._last_seq + 1
        if follows and entry.prev_hash != self._last_hash:
            return ChainBreak(seq, f"entry {seq}'s prev_hash does not match the hash of entry {seq - 1}")
        if entry.computed_hash() != entry.entry_hash:
            return ChainBreak(seq, f"entry {seq} (ce_id {entry.document.get('ce_id')}) does not match its hash")
        self._last_seq, self._last_hash = seq, entry.entry_hash
        self.checked += 1
        return None


def happened_before_order(
    entries: Sequence[T],
    *,
    event_id: Callable[[T], Hashable],
    cause_id: Callable[[T], Hashable | None],
    stream: Callable[[T], Hashable],
) -> list[T]:
    """``entries`` (given in audit order) reordered so that every cause comes before its effects and every stream
    (topic) keeps its order, ties broken by audit order: how an application's timeline reads.

    The audit order keeps each topic's order (one partition per application), but the consumer may see an effect
    on one topic before its cause on another; this puts them back. Should the links form a cycle (they cannot in a
    real log), the rest follow in audit order.
    """
    positions = {event_id(entry): position for position, entry in enumerate(entries)}
    successors: dict[int, list[int]] = defaultdict(list)
    waiting_on = [0] * len(entries)
    last_of_stream: dict[Hashable, int] = {}
    for position, entry in enumerate(entries):
        before: set[int] = set()
        cause = cause_id(entry)
        if cause is not None and cause in positions and positions[cause] != position:
            before.add(positions[cause])
        previous = last_of_stream.get(stream(entry))
        if previous is not None:
            before.add(previous)
        last_of_stream[stream(entry)] = position
        for earlier in before:
            successors[earlier].append(position)
        waiting_on[position] = len(before)
    ready = [position for position, count in enumerate(waiting_on) if count == 0]
    heapq.heapify(ready)
    ordered: list[int] = []
    placed = [False] * len(entries)
    while len(ordered) < len(entries):
        if not ready:  # a cycle: release the earliest entry not yet placed
            ready = [next(position for position, done in enumerate(placed) if not done)]
        position = heapq.heappop(ready)
        if placed[position]:
            continue
        placed[position] = True
        ordered.append(position)
        for later in successors[position]:
            waiting_on[later] -= 1
            if waiting_on[later] == 0 and not placed[later]:
                heapq.heappush(ready, later)
    return [entries[position] for position in ordered]


@dataclass(frozen=True)
class EventFilters:
    """What an auditor searches the log for; every given filter must hold."""

    application_id: str | None = None
    agency: str | None = None
    type: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    personal_hash: str | None = None

    def __post_init__(self) -> None:
        if self.since is not None and self.until is not None and self.since > self.until:
            raise AuditRuleError("since", "`since` must not be later than `until`.")

    def as_dict(self) -> dict[str, str]:
        """The filters that are set, as text (for an export's header)."""
        values = {
            "application_id": self.application_id,
            "agency": self.agency,
            "type": self.type,
            "actor": self.actor,
            "since": utc_text(self.since) if self.since else None,
            "until": utc_text(self.until) if self.until else None,
            "personal_hash": self.personal_hash,
        }
        return {name: value for name, value in values.items() if value is not None}


_CURSOR_PREFIX = "after:"


def encode_cursor(after_seq: int) -> str:
    """An opaque cursor for the page that starts after entry ``after_seq``."""
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{after_seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The ``seq`` a cursor from :func:`encode_cursor` continues after."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not text.startswith(_CURSOR_PREFIX):
            raise ValueError(text)
        after = int(text.removeprefix(_CURSOR_PREFIX))
    except (ValueError, binascii.Error, UnicodeDecodeError) as malformed:
        raise AuditRuleError("cursor", "The cursor is not one this service gave out; start again without it.") from (
            malformed
        )
    if after < 0:
        raise AuditRuleError("cursor", "The cursor is not one this service gave out; start again without it.")
    return after
