"""Audit's HTTP response models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from satupintu.audit.storage.tables import AuditEntry, CheckpointRecord


class EntryRead(BaseModel):
    """One entry of the log, with the hashes that chain it."""

    seq: int = Field(description="Position in the log, from 1, without gaps.")
    ce_id: str = Field(description="The event's `ce_id` (or `dlq:`/`invalid:`/`unrecordable:` + where it came from).")
    topic: str = Field(description="The topic it came on.")
    type: str = Field(description="The CloudEvents type, or `dead_letter`, `invalid`, `unrecordable`.")
    source: str = Field(description="The CloudEvents source.")
    actor: str = Field(description="Who caused it.")
    agency: str | None = Field(description="The agency concerned, when there is one.")
    application_id: str | None = Field(description="The application concerned, when there is one.")
    subject: str | None = Field(description="The CloudEvents subject (the Kafka key).")
    correlation_id: str | None = Field(description="The flow it belongs to.")
    causation_id: str | None = Field(description="The `ce_id` of the event that caused it.")
    time: datetime = Field(description="When it happened.")
    recorded_at: datetime = Field(description="When the audit service logged it.")
    payload: dict[str, Any] = Field(description="The payload; personal data replaced by keyed hashes.")
    prev_hash: str = Field(description="Hex SHA-256 of the entry before.")
    entry_hash: str = Field(description="Hex SHA-256(prev_hash || canonical_json(entry)).")

    @classmethod
    def of(cls, entry: AuditEntry) -> EntryRead:
        """The answer for a stored entry."""
        return cls.model_validate(entry, from_attributes=True)


class EntryPageRead(BaseModel):
    """One page of matching entries."""

    items: list[EntryRead] = Field(description="The entries, in log order.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class TimelineRead(BaseModel):
    """Everything the log holds about one application, across agencies."""

    application_id: str = Field(description="The application.")
    agencies: list[str] = Field(description="The agencies that appear in it.")
    entries: list[EntryRead] = Field(description="Causes before their effects, each topic in its own order.")


class CheckpointRead(BaseModel):
    """A signed tree head."""

    tree_size: int = Field(description="How many entries it covers (the first `tree_size`).")
    root_hash: str = Field(description="Hex RFC 6962 Merkle root of those entries.")
    time: datetime = Field(description="When it was taken.")
    key_id: str = Field(description="Which key signed it (16 hex digits of SHA-256 of the raw public key).")
    signature: str = Field(description="Base64 Ed25519 signature; see the service README for the signed text.")

    @classmethod
    def of(cls, checkpoint: CheckpointRecord) -> CheckpointRead:
        """The answer for a stored checkpoint."""
        return cls.model_validate(checkpoint, from_attributes=True)

    @classmethod
    def of_optional(cls, checkpoint: CheckpointRecord | None) -> CheckpointRead | None:
        """The answer for a checkpoint that may not have been taken."""
        return cls.of(checkpoint) if checkpoint is not None else None


class CheckpointPageRead(BaseModel):
    """One page of past checkpoints, newest (largest tree) first."""

    items: list[CheckpointRead] = Field(description="The checkpoints, largest tree first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page; null on the last page.")


class InclusionProofRead(BaseModel):
    """That an entry is in the tree of `tree_size` entries (RFC 6962 audit path)."""

    seq: int = Field(description="The entry.")
    leaf_index: int = Field(description="Its leaf in the tree (seq - 1).")
    tree_size: int = Field(description="The tree the proof is for.")
    entry_hash: str = Field(description="The entry's chain hash (the leaf data).")
    leaf_hash: str = Field(description="SHA-256(0x00 || entry_hash).")
    audit_path: list[str] = Field(description="Sibling hashes from the leaf up, hex.")
    root_hash: str = Field(description="The root the path leads to.")
    checkpoint: CheckpointRead | None = Field(description="The signed checkpoint of this tree size, if one was taken.")


class ConsistencyProofRead(BaseModel):
    """That the tree of `first` entries is a prefix of the tree of `second` (RFC 6962 consistency proof)."""

    first: int = Field(description="The smaller tree size.")
    second: int = Field(description="The larger tree size.")
    first_root: str = Field(description="Root of the first tree, hex.")
    second_root: str = Field(description="Root of the second tree, hex.")
    proof: list[str] = Field(description="The proof's hashes, hex.")
    first_checkpoint: CheckpointRead | None = Field(description="The signed checkpoint of `first`, if one was taken.")
    second_checkpoint: CheckpointRead | None = Field(description="The signed checkpoint of `second`, if taken.")


class VerificationRead(BaseModel):
    """The outcome of re-checking the whole log."""

    ok: bool = Field(description="Whether every entry, link, Merkle leaf and checkpoint checks out.")
    tree_size: int = Field(description="How many entries were checked against (the log's size at the start).")
    entries_checked: int = Field(description="Entries that checked out before the first problem.")
    checkpoints_checked: int = Field(
        description="Checkpoints whose root and signature (by a current or retired key) checked out."
    )
    first_bad_seq: int | None = Field(description="The first entry found altered, missing or unlinked.")
    reason: str | None = Field(description="What is wrong, when something is.")
    bad_checkpoint: int | None = Field(
        default=None,
        description="The tree size of the checkpoint found forged, unsigned by a trusted key or not matching the log.",
    )
