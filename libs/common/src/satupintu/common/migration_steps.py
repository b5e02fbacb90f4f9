"""Schema steps every service's migrations share: the tables of the consumer and outbox plumbing
(:data:`satupintu.common.migrations.COMMON_TABLES`) and the shared limits, written once and called from each
service's revisions.

A step is frozen once a revision calls it: it must create tomorrow what it created the day the revision was written,
whatever the models say by then. A change to these tables is a new step, called from a new revision of every service.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


def create_inbox_and_outbox() -> None:
    """``inbox`` and ``outbox`` as every service's baseline (revision 0001) has them."""
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(), nullable=False),
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("event_type", sa.String(), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("topic", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("event_type", sa.String(), nullable=False),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def create_parked_events() -> None:
    """``parked_events`` (revision 0002 of every service), with the indexes the per-key order and the once-only
    parking use (:mod:`satupintu.common.parking`)."""
    op.create_table(
        "parked_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("consumer", sa.String(), nullable=False),
        sa.Column("topic", sa.String(), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("record_offset", sa.BigInteger(), nullable=False),
        sa.Column("record_key", sa.LargeBinary(), nullable=True),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=True),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("parked_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_parked_events_key", "parked_events", ["consumer", "record_key", "id"], unique=False)
    op.create_index(
        "ix_parked_events_position", "parked_events", ["consumer", "topic", "partition", "record_offset"], unique=True
    )


def create_limit_counters() -> None:
    """``limit_counters`` (:mod:`satupintu.common.limits`), for a service whose replicas share limits
    (``ServiceSchema(limits=True)``), and the index its clean-up reads."""
    op.create_table(
        "limit_counters",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start"),
    )
    op.create_index(op.f("ix_limit_counters_expires_at"), "limit_counters", ["expires_at"], unique=False)


def create_reader_keys() -> None:
    """``reader_keys`` (:mod:`satupintu.common.citizen_keys`), for a service that reads citizens' keys
    (``ServiceSchema(reader_keys=True)``)."""
    op.create_table(
        "reader_keys",
        sa.Column("key_id", sa.String(), nullable=False),
        sa.Column("reader", sa.String(), nullable=False),
        sa.Column("wrapped", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_id"),
    )


def create_sign_in_tables() -> None:
    """``sign_in_attempts`` and ``sign_in_sessions`` (:mod:`satupintu.common.oidc.sessions`), for a service people
    sign in to (``ServiceSchema(sign_in=True)``), with the indexes logout and clean-up read."""
    op.create_table(
        "sign_in_attempts",
        sa.Column("state_digest", sa.String(), nullable=False),
        sa.Column("browser_digest", sa.String(), nullable=False),
        sa.Column("code_verifier", sa.Text(), nullable=False),
        sa.Column("nonce", sa.String(), nullable=False),
        sa.Column("return_to", sa.String(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state_digest"),
    )
    op.create_index(op.f("ix_sign_in_attempts_started_at"), "sign_in_attempts", ["started_at"], unique=False)
    op.create_table(
        "sign_in_sessions",
        sa.Column("id_digest", sa.String(), nullable=False),
        sa.Column("provider_session", sa.String(), nullable=True),
        sa.Column("provider_subject", sa.String(), nullable=False),
        sa.Column("username", sa.String(), nullable=False),
        sa.Column("display_name", sa.String(), nullable=False),
        sa.Column("roles", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("agency", sa.String(), nullable=True),
        sa.Column("nik", sa.String(), nullable=True),
        sa.Column("id_token", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id_digest"),
    )
    for column in ("provider_session", "provider_subject", "expires_at"):
        op.create_index(op.f(f"ix_sign_in_sessions_{column}"), "sign_in_sessions", [column], unique=False)
