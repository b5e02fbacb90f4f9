"""RFC 6962 Merkle trees: roots, inclusion and consistency proofs and their verification, checked against the
Certificate Transparency reference vectors, against the example tree drawn in RFC 6962 §2.1.3, and against a
direct transcription of the RFC's recursive definition for every small tree."""

from __future__ import annotations

import hashlib

import pytest

from satupintu.audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    LeafNodes,
    appended_nodes,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    nodes_needed,
    root_hash,
    split_point,
    verify_consistency,
    verify_inclusion,
)

pytestmark = pytest.mark.unit

# The Certificate Transparency test vectors (certificate-transparency-go, merkle/testdata): eight leaves' data and
# the roots of the trees of their first 0..8 leaves.
REFERENCE_DATA = [bytes.fromhex(h) for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                              "606162636465666768696a6b6c6d6e6f"]]  # fmt: skip
REFERENCE_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
REFERENCE_INCLUSION = [  # (leaf index, tree size, audit path)
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
REFERENCE_CONSISTENCY = [  # (first size, second size, proof)
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
LEAVES = [leaf_hash(data) for data in REFERENCE_DATA]


def mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 §2.1 transcribed: MTH({}) = SHA-256(), MTH({d}) = leaf, else split at the largest power of two."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def many_leaves(count: int) -> list[bytes]:
    return [leaf_hash(f"entry {i}".encode()) for i in range(count)]


def test_split_point_is_the_largest_power_of_two_below_the_size() -> None:
    assert [split_point(n) for n in range(2, 10)] == [1, 2, 2, 4, 4, 4, 4, 8]
    with pytest.raises(ValueError, match="does not split"):
        split_point(1)


def test_roots_match_the_reference_vectors_from_stored_nodes_and_from_a_compact_range() -> None:
    tree = CompactRange()
    assert tree.root() == EMPTY_ROOT
    for size in range(len(LEAVES) + 1):
        if size:
            tree.append(LEAVES[size - 1])
        assert root_hash(size, LeafNodes(LEAVES[:size])).hex() == REFERENCE_ROOTS[size]
        assert tree.root().hex() == REFERENCE_ROOTS[size]
        assert mth(LEAVES[:size]).hex() == REFERENCE_ROOTS[size]


@pytest.mark.parametrize(("index", "size", "expected"), REFERENCE_INCLUSION)
def test_inclusion_proofs_match_the_reference_vectors(index: int, size: int, expected: list[str]) -> None:
    proof = inclusion_proof(index, size, LeafNodes(LEAVES))

    assert [node.hex() for node in proof] == expected
    assert verify_inclusion(LEAVES[index], index, size, proof, bytes.fromhex(REFERENCE_ROOTS[size]))


@pytest.mark.parametrize(("first", "second", "expected"), REFERENCE_CONSISTENCY)
def test_consistency_proofs_match_the_reference_vectors(first: int, second: int, expected: list[str]) -> None:
    proof = consistency_proof(first, second, LeafNodes(LEAVES))

    assert [node.hex() for node in proof] == expected
    roots = bytes.fromhex(REFERENCE_ROOTS[first]), bytes.fromhex(REFERENCE_ROOTS[second])
    assert verify_consistency(first, second, *roots, proof)


def test_proofs_have_the_shape_of_the_example_tree_in_rfc_6962() -> None:
    # RFC 6962 §2.1.3 draws the tree of d0..d6: a..f and d6 are leaves, g = (a b), h = (c d), i = (e f), j = d6,
    # k = (g h), l = (i j). Its audit paths and consistency proofs are spelled out there; here they are by hand.
    a, b, c, d, e, f, d6 = (leaf_hash(f"d{n}".encode()) for n in range(7))
    g, h, i, j = node_hash(a, b), node_hash(c, d), node_hash(e, f), d6
    k, l = node_hash(g, h), node_hash(i, j)  # noqa: E741 (the RFC's name)
    nodes = LeafNodes([a, b, c, d, e, f, d6])

    assert root_hash(7, nodes) == node_hash(k, l)
    assert inclusion_proof(0, 7, nodes) == [b, h, l]
    assert inclusion_proof(3, 7, nodes) == [c, g, l]
    assert inclusion_proof(4, 7, nodes) == [f, j, k]
    assert inclusion_proof(6, 7, nodes) == [i, k]
    assert consistency_proof(3, 7, nodes) == [c, d, g, l]
    assert consistency_proof(4, 7, nodes) == [l]
    assert consistency_proof(6, 7, nodes) == [i, j, k]


def test_every_inclusion_proof_verifies_and_a_proof_for_a_wrong_entry_does_not() -> None:
    leaves = many_leaves(40)
    nodes = LeafNodes(leaves)
    for size in range(1, 41):
        root = mth(leaves[:size])
        assert root_hash(size, nodes) == root
        for index in range(size):
            proof = inclusion_proof(index, size, nodes)
            assert verify_inclusion(leaves[index], index, size, proof, root), (index, size)
            wrong = leaves[(index + 1) % size] if size > 1 else leaf_hash(b"not in the log")
            assert not verify_inclusion(wrong, index, size, proof, root), (index, size)
            assert not verify_inclusion(leaves[index], index + 1, size, proof, root) or size == 1
            if proof:
                assert not verify_inclusion(leaves[index], index, size, proof[:-1], root)
            assert not verify_inclusion(leaves[index], index, size, [*proof, root], root)


def test_every_consistency_proof_verifies_and_a_changed_history_does_not() -> None:
    leaves = many_leaves(24)
    nodes = LeafNodes(leaves)
    rewritten = [*leaves[:3], leaf_hash(b"rewritten"), *leaves[4:]]
    for second in range(1, 25):
        second_root = mth(leaves[:second])
        for first in range(1, second + 1):
            proof = consistency_proof(first, second, nodes)
            first_root = mth(leaves[:first])
            assert verify_consistency(first, second, first_root, second_root, proof), (first, second)
            if first >= 4 and first < second:
                forged_root = mth(rewritten[:first])
                assert not verify_consistency(first, second, forged_root, second_root, proof), (first, second)
    assert not verify_consistency(0, 3, EMPTY_ROOT, mth(leaves[:3]), [])
    assert not verify_consistency(3, 2, mth(leaves[:3]), mth(leaves[:2]), [])
    assert not verify_consistency(2, 3, mth(leaves[:2]), mth(leaves[:3]), [])


def test_nodes_stored_at_append_give_the_same_tree_and_proofs_read_few_of_them() -> None:
    leaves = many_leaves(37)
    stored: dict[tuple[int, int], bytes] = {}
    for index, leaf in enumerate(leaves):
        for level, position, digest in appended_nodes(index, leaf, lambda lv, pos: stored[(lv, pos)]):
            stored[(level, position)] = digest
        size = index + 1
        assert root_hash(size, lambda lv, pos: stored[(lv, pos)]) == mth(leaves[:size])

    assert len(stored) == 2 * 37 - bin(37).count("1")  # every perfect subtree, once
    assert len(nodes_needed(lambda node: inclusion_proof(17, 37, node))) <= 2 * (37).bit_length()  # O(log n)
    assert len(nodes_needed(lambda node: root_hash(37, node))) == bin(37).count("1")


def test_out_of_range_requests_are_refused() -> None:
    nodes = LeafNodes(LEAVES)
    with pytest.raises(ValueError, match="not in a tree"):
        inclusion_proof(8, 8, nodes)
    with pytest.raises(ValueError, match="need 0 < first <= second"):
        consistency_proof(5, 4, nodes)
    assert not verify_inclusion(LEAVES[0], 3, 3, [], EMPTY_ROOT)
