"""The worked example of the audit README ("Worked example"), computed by the code: the README must hold exactly
these bytes and hashes, so the specification cannot drift from what the service does. A second, independent check
verifies the example export using only ``hashlib``, ``json`` and an Ed25519 primitive, as the README tells a
verifier written in another language to, so the text is proven sufficient."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from satupintu.audit import export
from satupintu.audit.domain import GENESIS_HASH, canonical_json, seal
from satupintu.audit.merkle import LeafNodes, inclusion_proof, leaf_hash, root_hash
from satupintu.audit.signing import CheckpointSigner

pytestmark = pytest.mark.unit

README = Path(__file__).parents[2] / "README.md"

SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
"""The Ed25519 private key of RFC 8032 section 7.1, test 1: a published key, for the example only."""

TAKEN_AT = datetime(2026, 11, 3, 2, 15, 0, 123456, tzinfo=UTC)


def example_documents() -> list[dict[str, Any]]:
    """Three entries' documents: the first shows what canonical JSON does with order, escapes, non-ASCII and
    numbers."""
    common = {
        "topic": "satupintu.applications",
        "source": "/satupintu/intake",
        "agency": None,
        "application_id": "SP-2026-000001",
        "subject": "SP-2026-000001",
        "correlation_id": "c0ffee00-0000-4000-8000-000000000001",
        "recorded_at": "2026-11-03T02:14:59.500000Z",
    }
    return [
        {
            **common,
            "seq": 1,
            "ce_id": "e0000000-0000-4000-8000-000000000001",
            "type": "application.submitted",
            "actor": "citizen",
            "causation_id": None,
            "time": "2026-11-03T02:14:59.000001Z",
            "payload": {
                "service_code": "skck",
                "applicant": {"nik": "hmac-sha256:" + "ab" * 32, "name": "Siti Aminah"},
                "note": 'Tanda "✓"\tbaris\nbaru \\ 😀 é',
                "fee": 12500.0,
                "ratio": 1e-07,
                "count": 3,
                "Zona": True,
            },
        },
        {
            **common,
            "seq": 2,
            "ce_id": "e0000000-0000-4000-8000-000000000002",
            "type": "access.recorded",
            "actor": "auditor:andi",
            "causation_id": None,
            "time": "2026-11-03T02:15:00.000000Z",
            "source": "/satupintu/audit",
            "topic": "satupintu.access",
            "payload": {"action": "read", "outcome": "granted"},
        },
        {
            **common,
            "seq": 3,
            "ce_id": "e0000000-0000-4000-8000-000000000003",
            "type": "application.stage_started",
            "actor": "service:routing",
            "causation_id": "e0000000-0000-4000-8000-000000000001",
            "time": "2026-11-03T02:15:00.000002Z",
            "source": "/satupintu/routing",
            "payload": {"stage_index": 0},
        },
    ]


def example() -> tuple[str, list[str]]:
    """The README's example: the intermediate values (one ``name: value`` a line) and the export's lines."""
    signer = CheckpointSigner(
        Ed25519PrivateKey.from_private_bytes(SEED).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    entries, previous = [], GENESIS_HASH
    for document in example_documents():
        entries.append(seal(document, previous))
        previous = entries[-1].entry_hash
    leaves = [leaf_hash(bytes.fromhex(entry.entry_hash)) for entry in entries]
    nodes = LeafNodes(leaves)
    size = len(entries)
    root = root_hash(size, nodes).hex()
    checkpoint = signer.sign(size, root, TAKEN_AT)
    raw_public = signer.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    values = [
        f"entry 1 canonical JSON: {canonical_json(entries[0].document).decode()}",
        *(f"entry {entry.seq} entry_hash: {entry.entry_hash}" for entry in entries),
        *(f"leaf {index} = SHA-256(00 || entry_hash): {leaf.hex()}" for index, leaf in enumerate(leaves)),
        f"node(0,1) = SHA-256(01 || leaf 0 || leaf 1): {nodes(1, 0).hex()}",
        f"root of 3 = SHA-256(01 || node(0,1) || leaf 2): {root}",
        f"raw public key: {raw_public.hex()}",
        f"key_id: {signer.key_id}",
        f"signed message, UTF-8 as hex: {checkpoint.message().hex()}",
        f"signature (standard base64 of 64 bytes): {checkpoint.signature}",
    ]
    lines = [
        export.header_line(TAKEN_AT, {}, signer.public_key_pem, signer.key_id),
        export.checkpoint_line(checkpoint),
        *(export.entry_line(entry, size, inclusion_proof(entry.seq - 1, size, nodes)) for entry in entries),
        export.end_line(len(entries)),
    ]
    return "\n".join(values), [line.decode() for line in lines]


def readme_block(name: str) -> str:
    """The fenced block of the README that follows the marker ``<!-- example: name -->``."""
    found = re.search(rf"<!-- example: {name} -->\n```[a-z]*\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert found is not None, f"the README lost its `{name}` example block"
    return found.group(1)


def test_the_readme_example_values_are_what_the_code_computes() -> None:
    values, _ = example()

    assert readme_block("values") == values + "\n"


def test_the_readme_example_export_is_what_the_code_writes() -> None:
    _, lines = example()

    assert readme_block("export") == "".join(lines)


def test_an_entry_line_holds_its_document_already_in_canonical_form() -> None:
    _, lines = example()

    for line in lines[2:5]:
        document = json.loads(line)["entry"]
        assert canonical_json(document).decode() in line


def _from_the_text(lines: list[str], public_key: Ed25519PublicKey) -> bool:
    """A verifier written from the README alone: nothing of satupintu.audit."""

    def canonical(value: Any) -> bytes:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def sha(data: bytes) -> bytes:
        return hashlib.sha256(data).digest()

    records = [json.loads(line) for line in lines]
    header, checkpoint, *entries, end = records
    assert (header["kind"], checkpoint["kind"], end["kind"]) == ("header", "checkpoint", "end")
    assert end["entries"] == len(entries)
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert checkpoint["key_id"] == hashlib.sha256(raw).hexdigest()[:16]
    message = (
        f"satupintu-audit-checkpoint/v1\n{checkpoint['tree_size']}\n{checkpoint['root_hash']}\n{checkpoint['time']}\n"
    )
    public_key.verify(base64.b64decode(checkpoint["signature"], validate=True), message.encode())
    previous: str | None = None
    for record in entries:
        document = record["entry"]
        if document["seq"] == 1:
            assert record["prev_hash"] == "00" * 32
        if previous is not None:
            assert record["prev_hash"] == previous
        assert sha(bytes.fromhex(record["prev_hash"]) + canonical(document)).hex() == record["entry_hash"]
        proof = record["inclusion_proof"]
        index, last = proof["leaf_index"], proof["tree_size"] - 1
        computed = sha(b"\x00" + bytes.fromhex(record["entry_hash"]))
        for sibling_hex in proof["audit_path"]:  # RFC 9162 section 2.1.3.2
            sibling = bytes.fromhex(sibling_hex)
            if index & 1 or index == last:
                computed = sha(b"\x01" + sibling + computed)
                while not index & 1 and index != 0:
                    index, last = index >> 1, last >> 1
            else:
                computed = sha(b"\x01" + computed + sibling)
            index, last = index >> 1, last >> 1
        assert last == 0
        assert computed.hex() == checkpoint["root_hash"]
        previous = record["entry_hash"]
    return True


def test_a_verifier_written_from_the_readme_alone_accepts_the_example() -> None:
    _, lines = example()

    assert _from_the_text(lines, Ed25519PrivateKey.from_private_bytes(SEED).public_key())
