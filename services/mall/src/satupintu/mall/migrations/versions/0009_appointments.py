"""Appointments (issue 22): ``mall_appointment_slots``, the places taken in each slot of a bookable service, and
``mall_appointments``, the citizens' bookings (NIK as a keyed hash, contact encrypted, one-time code hashed; one
active booking per NIK and service, a partial unique index); ``tickets.booked`` marks a ticket a booking became,
served ahead of walk-ins. Adds tables and a column with a default: the previous release runs on them unchanged.

Revision 0009, revising 0008.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the slots and bookings tables with their indexes, and add ``tickets.booked``."""
    op.create_table(
        "mall_appointment_slots",
        sa.Column("service_code", sa.String(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("quota", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.CheckConstraint("booked >= 0", name="ck_mall_appointment_slots_booked"),
        sa.PrimaryKeyConstraint("service_code", "starts_at"),
    )
    op.create_table(
        "mall_appointments",
        sa.Column("appointment_id", sa.String(), nullable=False),
        sa.Column("booking_code", sa.String(), nullable=True),
        sa.Column("service_code", sa.String(), nullable=False),
        sa.Column("agency", sa.String(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("nik_hash", sa.String(), nullable=False),
        sa.Column("contact_ciphertext", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("language", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("code_hash", sa.String(), nullable=False),
        sa.Column("code_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("code_attempts", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ticket_id", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("appointment_id"),
    )
    op.create_index(op.f("ix_mall_appointments_booking_code"), "mall_appointments", ["booking_code"], unique=True)
    op.create_index(op.f("ix_mall_appointments_nik_hash"), "mall_appointments", ["nik_hash"], unique=False)
    op.create_index(op.f("ix_mall_appointments_service_code"), "mall_appointments", ["service_code"], unique=False)
    op.create_index(op.f("ix_mall_appointments_starts_at"), "mall_appointments", ["starts_at"], unique=False)
    op.create_index(op.f("ix_mall_appointments_state"), "mall_appointments", ["state"], unique=False)
    op.create_index(
        "uq_mall_appointments_active_per_nik",
        "mall_appointments",
        ["nik_hash", "service_code"],
        unique=True,
        postgresql_where=sa.text("state = 'booked'"),
    )
    op.add_column("tickets", sa.Column("booked", sa.Boolean(), server_default="false", nullable=False))


def downgrade() -> None:
    """Migrations only go forward: a mistake is undone by a new revision (docs/decisions/0013-alembic-migrations.md)."""
    raise NotImplementedError("migrations only go forward; write a new revision instead")
