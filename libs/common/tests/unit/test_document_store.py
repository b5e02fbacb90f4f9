"""The document store keeps each content once under the SHA-256 of its plaintext, sealed with AES-256-GCM under a
key named in its header: the file never holds the plaintext, opens only at its own address and untampered, keys
rotate, and files from before sealing are read (when they match their address) and re-sealed."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import pytest

from satupintu.common.document_store import (
    LOCAL_KEY_FILE,
    MAGIC,
    DamagedDocument,
    DocumentCipher,
    LocalDocumentStore,
    Resealed,
    UnknownDocumentKey,
    sealed_key_id,
)

pytestmark = pytest.mark.unit

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n% KTP 3171015506900002 Siti Rahayu\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


def spec(*key_ids: str) -> str:
    return ",".join(f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}" for key_id in key_ids)


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@pytest.fixture
def cipher() -> DocumentCipher:
    return DocumentCipher.from_spec(spec("k1"))


async def test_a_document_is_stored_sealed_under_its_plaintexts_hash_and_read_back(
    tmp_path: Path, cipher: DocumentCipher
) -> None:
    store = LocalDocumentStore(tmp_path, cipher)
    address = sha(PDF)

    assert not await store.exists(address)
    assert await store.put(address, PDF) == "k1"

    stored = (tmp_path / address[:2] / address).read_bytes()
    assert await store.exists(address)
    assert await store.read(address) == PDF
    assert stored.startswith(MAGIC)
    assert PDF not in stored
    assert b"Siti Rahayu" not in stored
    assert sealed_key_id(stored) == "k1"


async def test_storing_the_same_content_again_leaves_one_file_and_no_temporary_files(
    tmp_path: Path, cipher: DocumentCipher
) -> None:
    store = LocalDocumentStore(tmp_path, cipher)
    address = sha(PNG)

    await store.put(address, PNG)
    await store.put(address, PNG)

    assert await store.read(address) == PNG
    assert [path.name for path in (tmp_path / address[:2]).iterdir()] == [address]


async def test_reading_content_never_stored_answers_none(tmp_path: Path, cipher: DocumentCipher) -> None:
    assert await LocalDocumentStore(tmp_path, cipher).read(sha(b"never uploaded")) is None


@pytest.mark.parametrize("address", ["../../etc/passwd", "A" * 64, "ab"], ids=["traversal", "uppercase", "short"])
async def test_store_refuses_addresses_that_are_not_sha256_hex(
    tmp_path: Path, cipher: DocumentCipher, address: str
) -> None:
    with pytest.raises(ValueError, match="sha256"):
        await LocalDocumentStore(tmp_path, cipher).exists(address)


def test_the_same_content_is_sealed_differently_each_time(cipher: DocumentCipher) -> None:
    assert cipher.seal(sha(PDF), PDF) != cipher.seal(sha(PDF), PDF)


def test_a_tampered_file_does_not_open(cipher: DocumentCipher) -> None:
    sealed = bytearray(cipher.seal(sha(PDF), PDF))
    sealed[-20] ^= 1

    with pytest.raises(DamagedDocument, match="does not authenticate"):
        cipher.open(sha(PDF), bytes(sealed))


def test_a_sealed_file_moved_to_another_address_does_not_open(cipher: DocumentCipher) -> None:
    sealed = cipher.seal(sha(PDF), PDF)

    with pytest.raises(DamagedDocument):
        cipher.open(sha(PNG), sealed)


def test_a_file_sealed_with_a_key_not_configured_names_the_key(cipher: DocumentCipher) -> None:
    sealed = DocumentCipher.from_spec(spec("k9")).seal(sha(PDF), PDF)

    with pytest.raises(UnknownDocumentKey, match="'k9'"):
        cipher.open(sha(PDF), sealed)


def test_keys_rotate_the_first_seals_and_every_one_opens() -> None:
    old = spec("k1")
    before = DocumentCipher.from_spec(old)
    after = DocumentCipher.from_spec(f"{spec('k2')},{old}")
    sealed_before = before.seal(sha(PDF), PDF)
    sealed_after = after.seal(sha(PDF), PDF)

    assert sealed_key_id(sealed_after) == "k2"
    assert after.open(sha(PDF), sealed_before) == PDF
    assert after.open(sha(PDF), sealed_after) == PDF


async def test_a_file_from_before_sealing_is_read_when_it_matches_its_address_and_resealed(
    tmp_path: Path, cipher: DocumentCipher
) -> None:
    store = LocalDocumentStore(tmp_path, cipher)
    address = sha(PDF)
    store.path_of(address).parent.mkdir(parents=True)
    store.path_of(address).write_bytes(PDF)  # as intake stored documents before sealing them

    read_before = await store.read(address)
    outcome = await store.reseal(address)
    again = await store.reseal(address)

    stored = store.path_of(address).read_bytes()
    assert read_before == PDF
    assert (outcome, again) == (Resealed.RESEALED, Resealed.CURRENT)
    assert sealed_key_id(stored) == "k1"
    assert PDF not in stored
    assert await store.read(address) == PDF


async def test_a_file_from_before_sealing_that_does_not_match_its_address_is_damaged(
    tmp_path: Path, cipher: DocumentCipher
) -> None:
    store = LocalDocumentStore(tmp_path, cipher)
    address = sha(PDF)
    store.path_of(address).parent.mkdir(parents=True)
    store.path_of(address).write_bytes(PNG)

    with pytest.raises(DamagedDocument, match="does not match its hash"):
        await store.read(address)
    with pytest.raises(DamagedDocument):
        await store.reseal(address)


async def test_resealing_under_a_new_current_key_and_deleting(tmp_path: Path) -> None:
    old = spec("k1")
    address = sha(PDF)
    await LocalDocumentStore(tmp_path, DocumentCipher.from_spec(old)).put(address, PDF)
    rotated = LocalDocumentStore(tmp_path, DocumentCipher.from_spec(f"{spec('k2')},{old}"))

    assert await rotated.reseal(address) is Resealed.RESEALED
    assert sealed_key_id(rotated.path_of(address).read_bytes()) == "k2"
    assert await rotated.delete(address) is True
    assert await rotated.delete(address) is False
    assert await rotated.reseal(address) is Resealed.MISSING


def test_without_a_setting_intake_and_a_desk_on_one_machine_share_a_local_key(tmp_path: Path) -> None:
    intake = DocumentCipher.configured(None, tmp_path)
    desk = DocumentCipher.configured(None, tmp_path)

    assert (tmp_path / LOCAL_KEY_FILE).is_file()
    assert desk.open(sha(PDF), intake.seal(sha(PDF), PDF)) == PDF


@pytest.mark.parametrize(
    "bad",
    ["k1:" + base64.b64encode(b"short").decode(), "k.1:" + base64.b64encode(b"x" * 32).decode()],
    ids=["short-key", "dotted-id"],
)
def test_keys_must_be_32_bytes_with_plain_ids(bad: str) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        DocumentCipher.from_spec(bad)
