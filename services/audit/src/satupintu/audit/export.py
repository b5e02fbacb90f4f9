"""The export format (JSON Lines) and its offline verification: everything needed to check a range of the log
without the service, given only its public keys.

Lines, in order, each one JSON object with a ``kind``:

- ``header``: ``format`` (``satupintu-audit-export/v1``), ``exported_at``, the ``filters`` applied, and the
  service's ``public_key_pem`` and ``key_id`` (for information: a verifier trusts the key it is given, not this one);
- ``checkpoint``: ``tree_size``, ``root_hash``, ``time``, ``key_id``, ``signature`` (see :mod:`.signing`);
- ``entry`` (any number, in log order): ``entry`` (the document the hash covers), ``prev_hash``, ``entry_hash`` and
  ``inclusion_proof`` (``leaf_index``, ``tree_size``, ``audit_path`` as hex) up to the checkpoint;
- ``end``: ``entries``, how many entry lines came before (so a truncated export is noticed).

No I/O: :mod:`.verifier` reads the file and calls :func:`verify_export`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from satupintu.audit.domain import ChainCheck, SealedEntry, parse_utc_text, utc_text
from satupintu.audit.merkle import leaf_hash, verify_inclusion
from satupintu.audit.signing import KeyRing, SignedCheckpoint

EXPORT_FORMAT = "satupintu-audit-export/v1"


def _line(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def header_line(exported_at: datetime, filters: Mapping[str, str], public_key_pem: str, key_id: str) -> bytes:
    """The first line of an export."""
    return _line(
        {
            "kind": "header",
            "format": EXPORT_FORMAT,
            "exported_at": utc_text(exported_at),
            "filters": dict(filters),
            "public_key_pem": public_key_pem,
            "key_id": key_id,
        }
    )


def checkpoint_line(checkpoint: SignedCheckpoint) -> bytes:
    """The line of the checkpoint every entry's proof leads to."""
    return _line(
        {
            "kind": "checkpoint",
            "tree_size": checkpoint.tree_size,
            "root_hash": checkpoint.root_hash,
            "time": utc_text(checkpoint.time),
            "key_id": checkpoint.key_id,
            "signature": checkpoint.signature,
        }
    )


def entry_line(entry: SealedEntry, tree_size: int, audit_path: Sequence[bytes]) -> bytes:
    """The line of one entry, with its inclusion proof in the checkpoint's tree."""
    return _line(
        {
            "kind": "entry",
            "entry": dict(entry.document),
            "prev_hash": entry.prev_hash,
            "entry_hash": entry.entry_hash,
            "inclusion_proof": {
                "leaf_index": entry.seq - 1,
                "tree_size": tree_size,
                "audit_path": [sibling.hex() for sibling in audit_path],
            },
        }
    )


def end_line(entries: int) -> bytes:
    """The last line: how many entries the export holds."""
    return _line({"kind": "end", "entries": entries})


@dataclass(frozen=True)
class ExportVerdict:
    """The outcome of checking an export: ``ok``, or what is wrong and, when an entry is at fault, which."""

    ok: bool
    message: str
    entries: int = 0
    bad_seq: int | None = None


class _Invalid(Exception):
    def __init__(self, message: str, bad_seq: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.bad_seq = bad_seq


def verify_export(lines: Iterable[str], keys: KeyRing | Ed25519PublicKey) -> ExportVerdict:
    """Check every entry's hash, the links between consecutive entries, every inclusion proof against the
    checkpoint, and the checkpoint's signature by the key of ``keys`` it names (a ring, or a single public key)."""
    ring = keys if isinstance(keys, KeyRing) else KeyRing([keys], described_as="the given public key")
    try:
        return _verify(lines, ring)
    except _Invalid as invalid:
        return ExportVerdict(ok=False, message=invalid.message, bad_seq=invalid.bad_seq)


def _records(lines: Iterable[str]) -> Iterable[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as malformed:
            raise _Invalid(f"line {number} is not JSON: {malformed}") from malformed
        if not isinstance(record, dict) or "kind" not in record:
            raise _Invalid(f"line {number} is not an export record (no `kind`)")
        yield number, record


def _checkpoint(record: Mapping[str, Any], number: int) -> SignedCheckpoint:
    try:
        return SignedCheckpoint(
            tree_size=int(record["tree_size"]),
            root_hash=str(record["root_hash"]),
            time=parse_utc_text(str(record["time"])),
            key_id=str(record["key_id"]),
            signature=str(record["signature"]),
        )
    except (KeyError, TypeError, ValueError) as malformed:
        raise _Invalid(f"line {number}: the checkpoint is malformed ({malformed!r})") from malformed


def _verify(lines: Iterable[str], ring: KeyRing) -> ExportVerdict:
    records = iter(_records(lines))
    number, header = next(records, (0, {}))
    if header.get("kind") != "header" or header.get("format") != EXPORT_FORMAT:
        raise _Invalid(f"line {number or 1} is not a {EXPORT_FORMAT} header")
    number, record = next(records, (0, {}))
    if record.get("kind") != "checkpoint":
        raise _Invalid(f"line {number or 2} should be the checkpoint")
    checkpoint = _checkpoint(record, number)
    unsigned = ring.problem(checkpoint)
    if unsigned is not None:
        raise _Invalid(unsigned)
    root = bytes.fromhex(checkpoint.root_hash)
    chain = ChainCheck(contiguous=False)
    for number, record in records:
        if record["kind"] == "end":
            if record.get("entries") != chain.checked:
                raise _Invalid(f"the export ends claiming {record.get('entries')} entries but holds {chain.checked}")
            if next(records, None) is not None:
                raise _Invalid(f"line {number + 1}: records after the end line")
            return ExportVerdict(
                ok=True,
                entries=chain.checked,
                message=(
                    f"OK: {chain.checked} entries intact and included in the checkpoint of {checkpoint.tree_size} "
                    f"entries (root {checkpoint.root_hash}, {utc_text(checkpoint.time)}, key {checkpoint.key_id})"
                ),
            )
        if record["kind"] != "entry":
            raise _Invalid(f"line {number}: unexpected record kind {record['kind']!r}")
        _check_entry(record, number, chain, checkpoint.tree_size, root)
    raise _Invalid("the export has no end line: it is truncated")


def _check_entry(record: Mapping[str, Any], number: int, chain: ChainCheck, tree_size: int, root: bytes) -> None:
    try:
        entry = SealedEntry(
            document=record["entry"], prev_hash=str(record["prev_hash"]), entry_hash=str(record["entry_hash"])
        )
        seq = entry.seq
        proof = record["inclusion_proof"]
        path = [bytes.fromhex(sibling) for sibling in proof["audit_path"]]
        leaf_index, proof_size = int(proof["leaf_index"]), int(proof["tree_size"])
        leaf = leaf_hash(bytes.fromhex(entry.entry_hash))
    except (KeyError, TypeError, ValueError) as malformed:
        raise _Invalid(f"line {number}: the entry is malformed ({malformed!r})") from malformed
    name = f"entry {seq} (ce_id {entry.document.get('ce_id')})"
    broken = chain.check(entry)
    if broken is not None:
        raise _Invalid(f"{broken.reason}", bad_seq=broken.seq)
    if leaf_index != seq - 1 or proof_size != tree_size:
        raise _Invalid(f"{name}: its proof is for leaf {leaf_index} of {proof_size}, not this entry", bad_seq=seq)
    if not verify_inclusion(leaf, leaf_index, tree_size, path, root):
        raise _Invalid(f"{name}: its inclusion proof does not lead to the checkpoint's root", bad_seq=seq)
