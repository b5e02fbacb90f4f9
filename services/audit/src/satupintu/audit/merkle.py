"""The Merkle tree over the audit log, hashed as RFC 6962 (Certificate Transparency) and RFC 9162 define it.

Leaf ``i`` (from 0) is the entry with ``seq = i + 1``; its leaf data is the entry's 32-byte chain hash, so
``leaf_hash = SHA-256(0x00 || entry_hash)`` and an interior node is ``SHA-256(0x01 || left || right)``. The tree of
``n`` leaves splits at the largest power of two smaller than ``n`` (RFC 6962 §2.1), so every left subtree is a
perfect, aligned subtree. Those are the only nodes ever stored: a node is addressed by ``(level, index)`` and covers
leaves ``[index * 2**level, (index + 1) * 2**level)``. The algorithms here read nodes through a :data:`NodeSource`
and never touch storage; their control flow depends on the sizes only, so :func:`nodes_needed` can tell a caller
which nodes to fetch before computing a root or a proof.

Pure functions, no I/O: the offline verifier imports this module too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

NodeSource = Callable[[int, int], bytes]
"""``node(level, index)``: the hash of the perfect subtree of ``2**level`` leaves starting at ``index * 2**level``."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The root of the empty tree: SHA-256 of the empty string (RFC 6962 §2.1)."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def split_point(size: int) -> int:
    """The largest power of two strictly smaller than ``size`` (``size`` > 1): where RFC 6962 splits a tree."""
    if size < 2:
        raise ValueError(f"a tree of {size} leaves does not split")
    return 1 << ((size - 1).bit_length() - 1)


def _is_power_of_two(value: int) -> bool:
    return value > 0 and value & (value - 1) == 0


def subtree_hash(start: int, end: int, node: NodeSource) -> bytes:
    """``MTH(D[start:end])`` for a range RFC 6962's recursion produces (``start`` aligned to its largest split)."""
    size = end - start
    if size < 1:
        raise ValueError(f"empty range [{start}, {end})")
    if _is_power_of_two(size) and start % size == 0:
        return node(size.bit_length() - 1, start // size)
    k = split_point(size)
    return node_hash(subtree_hash(start, start + k, node), subtree_hash(start + k, end, node))


def root_hash(size: int, node: NodeSource) -> bytes:
    """The root of the tree of the first ``size`` leaves."""
    if size < 0:
        raise ValueError("a tree size cannot be negative")
    return EMPTY_ROOT if size == 0 else subtree_hash(0, size, node)


def inclusion_proof(index: int, size: int, node: NodeSource) -> list[bytes]:
    """The audit path ``PATH(index, D[0:size])`` of RFC 6962 §2.1.1, leaf side first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")

    def path(m: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = split_point(n)
        if m < k:
            return [*path(m, start, start + k), subtree_hash(start + k, end, node)]
        return [*path(m - k, start + k, end), subtree_hash(start, start + k, node)]

    return path(index, 0, size)


def consistency_proof(first: int, second: int, node: NodeSource) -> list[bytes]:
    """``PROOF(first, D[0:second])`` of RFC 6962 §2.1.2: the tree of ``first`` leaves is a prefix of ``second``'s."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from {first} to {second} leaves (need 0 < first <= second)")

    def subproof(m: int, start: int, end: int, whole: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if whole else [subtree_hash(start, end, node)]
        k = split_point(n)
        if m <= k:
            return [*subproof(m, start, start + k, whole), subtree_hash(start + k, end, node)]
        return [*subproof(m - k, start + k, end, False), subtree_hash(start, start + k, node)]

    return subproof(first, 0, second, True)


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """Whether ``proof`` shows the leaf hash ``leaf`` at ``index`` in the tree of ``size`` with ``root``
    (RFC 9162 §2.1.3.2)."""
    if not 0 <= index < size:
        return False
    fn, sn, computed = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            computed = node_hash(sibling, computed)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            computed = node_hash(computed, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and computed == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]) -> bool:
    """Whether ``proof`` shows the tree of ``first`` leaves with ``first_root`` is a prefix of the tree of
    ``second`` leaves with ``second_root`` (RFC 9162 §2.1.4.2)."""
    if not 0 < first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    path = [first_root, *proof] if _is_power_of_two(first) else list(proof)
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    first_computed = second_computed = path[0]
    for sibling in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            first_computed = node_hash(sibling, first_computed)
            second_computed = node_hash(sibling, second_computed)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            second_computed = node_hash(second_computed, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and first_computed == first_root and second_computed == second_root


def appended_nodes(index: int, leaf: bytes, node: NodeSource) -> list[tuple[int, int, bytes]]:
    """The nodes that exist once leaf ``index`` is appended: the leaf and every perfect subtree it completes,
    as ``(level, index, hash)``; ``node`` gives the left siblings, which already exist."""
    nodes = [(0, index, leaf)]
    level, position, current = 0, index, leaf
    while position & 1:
        current = node_hash(node(level, position - 1), current)
        level, position = level + 1, position >> 1
        nodes.append((level, position, current))
    return nodes


def nodes_needed(compute: Callable[[NodeSource], Any]) -> set[tuple[int, int]]:
    """The ``(level, index)`` of every node ``compute`` reads, found by running it on placeholder hashes."""
    wanted: set[tuple[int, int]] = set()

    def record(level: int, index: int) -> bytes:
        wanted.add((level, index))
        return bytes(32)

    compute(record)
    return wanted


class CompactRange:
    """The tree grown one leaf at a time, keeping only the perfect subtrees on its right edge (O(log n) memory):
    how ``verify`` recomputes every checkpoint's root from the log in one pass."""

    def __init__(self) -> None:
        self.size = 0
        self._edge: list[tuple[int, bytes]] = []

    def append(self, leaf: bytes) -> None:
        """Add the next leaf hash."""
        level, current = 0, leaf
        while self._edge and self._edge[-1][0] == level:
            current = node_hash(self._edge.pop()[1], current)
            level += 1
        self._edge.append((level, current))
        self.size += 1

    def root(self) -> bytes:
        """The root of the tree of the leaves appended so far."""
        if not self._edge:
            return EMPTY_ROOT
        current = self._edge[-1][1]
        for _, left in reversed(self._edge[:-1]):
            current = node_hash(left, current)
        return current


class LeafNodes:
    """A :data:`NodeSource` over a list of leaf hashes held in memory (tests, small trees)."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self._leaves = list(leaves)
        self._cache: dict[tuple[int, int], bytes] = {}

    def __call__(self, level: int, index: int) -> bytes:
        """The hash of the perfect subtree at ``(level, index)``."""
        if (level, index) not in self._cache:
            if level == 0:
                self._cache[(level, index)] = self._leaves[index]
            else:
                self._cache[(level, index)] = node_hash(self(level - 1, 2 * index), self(level - 1, 2 * index + 1))
        return self._cache[(level, index)]
