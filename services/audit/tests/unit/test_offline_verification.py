"""Checkpoint signatures, key rings and the offline verifier, on exports built in memory: an intact export passes
(signed by the current key or a retired one it is given); an altered entry, a broken link, a forged proof, a foreign
key, a tampered checkpoint or a truncated file fail, naming what is wrong."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from satupintu.audit import export
from satupintu.audit.domain import GENESIS_HASH, SealedEntry, seal
from satupintu.audit.merkle import LeafNodes, inclusion_proof, leaf_hash, root_hash
from satupintu.audit.signing import (
    CheckpointSigner,
    KeyRing,
    checkpoint_message,
    key_id,
    load_or_create_signing_key,
    load_public_keys,
    signature_valid,
)
from satupintu.audit.verifier import main as verify_main

pytestmark = pytest.mark.unit

TAKEN_AT = datetime(2026, 11, 3, 2, 15, 0, 123456, tzinfo=UTC)


def new_signer() -> CheckpointSigner:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return CheckpointSigner(pem)


def log(count: int) -> list[SealedEntry]:
    entries, previous = [], GENESIS_HASH
    for seq in range(1, count + 1):
        document = {
            "seq": seq,
            "ce_id": f"event-{seq}",
            "type": "task.decided",
            "actor": "officer:polres:budi",
            "payload": {"decision": "approved", "note": "disetujui ✓"},
        }
        entry = seal(document, previous)
        entries.append(entry)
        previous = entry.entry_hash
    return entries


def export_lines(signer: CheckpointSigner, entries: list[SealedEntry], chosen: list[int] | None = None) -> list[str]:
    nodes = LeafNodes([leaf_hash(bytes.fromhex(entry.entry_hash)) for entry in entries])
    size = len(entries)
    checkpoint = signer.sign(size, root_hash(size, nodes).hex(), TAKEN_AT)
    picked = [entries[seq - 1] for seq in chosen] if chosen else entries
    lines = [
        export.header_line(TAKEN_AT, {}, signer.public_key_pem, signer.key_id),
        export.checkpoint_line(checkpoint),
        *(export.entry_line(entry, size, inclusion_proof(entry.seq - 1, size, nodes)) for entry in picked),
        export.end_line(len(picked)),
    ]
    return [line.decode() for line in lines]


def edited(lines: list[str], index: int, change: dict[str, object]) -> list[str]:
    record = json.loads(lines[index])
    for path, value in change.items():
        target = record
        *parents, last = path.split(".")
        for part in parents:
            target = target[part]
        target[last] = value
    return [*lines[:index], json.dumps(record) + "\n", *lines[index + 1 :]]


def test_a_checkpoint_signature_covers_size_root_and_time() -> None:
    signer = new_signer()
    checkpoint = signer.sign(7, "ab" * 32, TAKEN_AT)

    assert checkpoint_message(7, "ab" * 32, TAKEN_AT) == (
        b"satupintu-audit-checkpoint/v1\n7\n" + b"ab" * 32 + b"\n2026-11-03T02:15:00.123456Z\n"
    )
    assert signature_valid(signer.public_key, checkpoint)
    assert not signature_valid(signer.public_key, replace(checkpoint, tree_size=8))
    assert not signature_valid(signer.public_key, replace(checkpoint, root_hash="cd" * 32))
    assert not signature_valid(signer.public_key, replace(checkpoint, time=TAKEN_AT.replace(microsecond=0)))
    assert not signature_valid(new_signer().public_key, checkpoint)
    assert not signature_valid(signer.public_key, replace(checkpoint, signature="not base64!"))


def test_the_local_signing_key_is_created_once_and_kept_private(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "audit-checkpoint-ed25519.pem"

    first, second = load_or_create_signing_key(path), load_or_create_signing_key(path)

    assert first == second
    assert path.stat().st_mode & 0o777 == 0o600
    assert CheckpointSigner(first).key_id == CheckpointSigner(second).key_id


def test_an_intact_export_verifies_whole_or_filtered() -> None:
    signer = new_signer()
    entries = log(11)

    whole = export.verify_export(export_lines(signer, entries), signer.public_key)
    some = export.verify_export(export_lines(signer, entries, [2, 3, 7, 11]), signer.public_key)

    assert whole.ok, whole.message
    assert whole.entries == 11
    assert some.ok, some.message
    assert some.entries == 4


@pytest.mark.parametrize(
    ("line", "change", "expected"),
    [
        (4, {"entry.actor": "officer:polres:budj"}, "entry 3 (ce_id event-3) does not match its hash"),
        (5, {"prev_hash": GENESIS_HASH}, "entry 4's prev_hash does not match"),
        (4, {"inclusion_proof.audit_path": ["00" * 32]}, "entry 3 (ce_id event-3): its inclusion proof"),
        (4, {"inclusion_proof.leaf_index": 3}, "entry 3 (ce_id event-3): its proof is for leaf 3"),
        (1, {"tree_size": 12}, "is not signed by the given public key"),
        (1, {"root_hash": "00" * 32}, "is not signed by the given public key"),
    ],
)
def test_a_tampered_export_fails_naming_what_is_wrong(line: int, change: dict[str, object], expected: str) -> None:
    signer = new_signer()

    verdict = export.verify_export(edited(export_lines(signer, log(6)), line, change), signer.public_key)

    assert not verdict.ok
    assert expected in verdict.message


def test_an_entry_rewritten_with_fresh_hashes_still_fails_its_proof() -> None:
    signer = new_signer()
    entries = log(6)
    forged = seal({**entries[2].document, "actor": "officer:polres:mallory"}, entries[2].prev_hash)
    lines = export_lines(signer, entries)
    lines[4] = json.dumps({**json.loads(lines[4]), "entry": dict(forged.document), "entry_hash": forged.entry_hash})

    verdict = export.verify_export(lines, signer.public_key)

    assert not verdict.ok
    assert verdict.bad_seq == 3
    assert "inclusion proof does not lead to the checkpoint's root" in verdict.message


def test_a_foreign_key_or_a_truncated_export_fails() -> None:
    signer = new_signer()
    lines = export_lines(signer, log(4))

    foreign = export.verify_export(lines, new_signer().public_key)
    truncated = export.verify_export(lines[:-2], signer.public_key)
    padded = export.verify_export([*lines[:-1], '{"kind": "end", "entries": 9}\n'], signer.public_key)
    garbage = export.verify_export(["not json\n"], signer.public_key)

    assert not foreign.ok
    assert "not signed by the given public key" in foreign.message
    assert not truncated.ok
    assert "truncated" in truncated.message
    assert not padded.ok
    assert "claiming 9 entries" in padded.message
    assert not garbage.ok
    assert "line 1 is not JSON" in garbage.message


def test_the_console_script_exits_0_or_1_and_names_the_bad_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    signer = new_signer()
    key = tmp_path / "audit.pub.pem"
    key.write_text(signer.public_key_pem)
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    lines = export_lines(signer, log(5))
    good.write_text("".join(lines))
    bad.write_text("".join(edited(lines, 5, {"entry.payload.decision": "rejected"})))

    passed = verify_main([str(good), "--public-key", str(key)])
    passed_out = capsys.readouterr()
    failed = verify_main([str(bad), "--public-key", str(key)])
    failed_out = capsys.readouterr()

    assert passed == 0
    assert passed_out.out.startswith("OK: 5 entries")
    assert failed == 1
    assert "entry 4 (ce_id event-4) does not match its hash" in failed_out.err
    with pytest.raises(SystemExit) as unusable:
        verify_main([str(good), "--public-key", str(tmp_path / "missing.pem")])
    assert unusable.value.code == 2


def test_the_key_ring_trusts_retired_keys_and_names_a_checkpoint_of_any_other_key() -> None:
    current, retired, stranger = new_signer(), new_signer(), new_signer()
    ring = KeyRing([current.public_key, retired.public_key], described_as="the ring")
    by_retired = retired.sign(5, "ab" * 32, TAKEN_AT)
    by_stranger = stranger.sign(5, "ab" * 32, TAKEN_AT)
    mislabelled = replace(by_stranger, key_id=current.key_id)

    assert ring.problem(current.sign(5, "ab" * 32, TAKEN_AT)) is None
    assert ring.problem(by_retired) is None
    assert ring.key_ids == sorted([current.key_id, retired.key_id])
    unknown = ring.problem(by_stranger)
    assert unknown is not None
    assert f"the checkpoint of 5 entries (key {stranger.key_id}) is not signed by the ring" in unknown
    wrong = ring.problem(mislabelled)
    assert wrong is not None
    assert f"the checkpoint of 5 entries (key {current.key_id})" in wrong
    assert "its signature does not verify" in wrong


def test_a_pem_bundle_holds_any_number_of_public_keys_and_never_a_private_one() -> None:
    first, second = new_signer(), new_signer()
    bundle = f"# retired 2026\n{first.public_key_pem}\n# retired 2027\n{second.public_key_pem}".encode()
    private = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )

    assert [key_id(key) for key in load_public_keys(bundle)] == [first.key_id, second.key_id]
    assert load_public_keys(b"") == []
    with pytest.raises(ValueError, match="PRIVATE KEY"):
        load_public_keys(bundle + private)


def test_the_console_script_trusts_every_key_it_is_given_for_an_export_signed_by_a_retired_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    current, retired = new_signer(), new_signer()
    export_file = tmp_path / "export.jsonl"
    export_file.write_text("".join(export_lines(retired, log(3))))
    current_key, retired_keys = tmp_path / "current.pem", tmp_path / "retired.pem"
    current_key.write_text(current.public_key_pem)
    retired_keys.write_text(f"{new_signer().public_key_pem}{retired.public_key_pem}")

    only_current = verify_main([str(export_file), "--public-key", str(current_key)])
    only_current_out = capsys.readouterr()
    with_retired = verify_main([str(export_file), "--public-key", str(current_key), "--public-key", str(retired_keys)])
    with_retired_out = capsys.readouterr()

    assert only_current == 1
    assert f"the checkpoint of 3 entries (key {retired.key_id}) is not signed by the given public key" in (
        only_current_out.err
    )
    assert with_retired == 0, with_retired_out.err
    assert with_retired_out.out.startswith("OK: 3 entries")
