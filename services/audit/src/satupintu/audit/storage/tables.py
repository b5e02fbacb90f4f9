"""Audit's append-only tables: the log (a hash chain), the stored nodes of its Merkle tree, and signed checkpoints.

All three refuse UPDATE, DELETE and TRUNCATE (a trigger, see :mod:`satupintu.audit.storage.schema`), and the role
the service works as may only INSERT and SELECT them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, LargeBinary, SmallInteger, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel


class AuditEntry(SQLModel, table=True):
    """One event seen on any topic, at its place in the log; ``entry_hash`` chains it to the entry before."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_personal_hashes", "personal_hashes", postgresql_using="gin"),)

    seq: int = Field(
        sa_column=Column(BigInteger, primary_key=True, autoincrement=False),
        description="Position in the log, from 1, without gaps (leaf seq - 1 of the Merkle tree).",
    )
    ce_id: str = Field(unique=True, description="The event's `ce_id` (a redelivery adds nothing).")
    topic: str = Field(index=True, description="The full name of the topic it came on.")
    type: str = Field(index=True, description="The CloudEvents type, or `dead_letter`, `invalid`, `unrecordable`.")
    source: str = Field(description="The CloudEvents source.")
    actor: str = Field(index=True, description="Who caused it: `citizen`, `officer:<agency>:<id>`, `service:...`.")
    agency: str | None = Field(default=None, index=True, description="The agency concerned, when there is one.")
    application_id: str | None = Field(default=None, index=True, description="The application concerned.")
    subject: str | None = Field(default=None, index=True, description="The CloudEvents subject (the Kafka key).")
    correlation_id: str | None = Field(default=None, description="The flow the event belongs to.")
    causation_id: str | None = Field(default=None, description="The `ce_id` of the event that caused it.")
    time: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, index=True), description="When it happened."
    )
    recorded_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False), description="When the audit service logged it."
    )
    # `json`, not `jsonb`: the text is kept as written, so numbers read back exactly as they were hashed.
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False), description="Personal data hashed.")
    personal_hashes: list[str] = Field(
        default_factory=list,
        sa_column=Column(ARRAY(Text), nullable=False),
        description="The keyed hashes in the payload, for matching personal data (an index, not hashed).",
    )
    prev_hash: str = Field(description="Hex SHA-256 of the entry before (64 zeros for the first).")
    entry_hash: str = Field(description="Hex SHA-256(prev_hash || canonical_json(entry)).")


class TreeNode(SQLModel, table=True):
    """A perfect subtree of the Merkle tree, stored when its last leaf is appended; proofs and roots are read from
    these in O(log n)."""

    __tablename__ = "audit_tree_nodes"

    level: int = Field(sa_column=Column(SmallInteger, primary_key=True, autoincrement=False))
    position: int = Field(
        sa_column=Column(BigInteger, primary_key=True, autoincrement=False),
        description="The node covers leaves [position * 2**level, (position + 1) * 2**level).",
    )
    hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class CheckpointRecord(SQLModel, table=True):
    """A signed tree head: the service vouches that the first ``tree_size`` entries hash to ``root_hash``."""

    __tablename__ = "audit_checkpoints"

    tree_size: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    root_hash: str = Field(description="Hex RFC 6962 root of the first `tree_size` entries.")
    time: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    key_id: str = Field(description="Which key signed it.")
    signature: str = Field(sa_column=Column(Text, nullable=False), description="Base64 Ed25519 signature.")


LOG_TABLES: list[type[SQLModel]] = [AuditEntry, TreeNode, CheckpointRecord]
"""Audit's own tables, in creation order."""
