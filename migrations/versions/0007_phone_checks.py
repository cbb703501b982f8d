"""Appointments: one-time SMS codes of the public booking pages (hashes only).

Revision ID: 0007_phone_checks
Revises: 0006_appointment_calls
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "0007_phone_checks"
down_revision: str | None = "0006_appointment_calls"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "appointment_phone_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=10), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("verified_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("used_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("waiting_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_appointment_phone_checks_appointment_id_appointments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["waiting_id"],
            ["appointment_waiting_list.id"],
            name=op.f("fk_appointment_phone_checks_waiting_id_appointment_waiting_list"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_phone_checks")),
    )
    with op.batch_alter_table("appointment_phone_checks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appointment_phone_checks_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            "ix_appointment_phone_checks_phone_created",
            ["phone_hash", "created_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("appointment_phone_checks", schema=None) as batch_op:
        batch_op.drop_index("ix_appointment_phone_checks_phone_created")
        batch_op.drop_index(batch_op.f("ix_appointment_phone_checks_created_at"))
    op.drop_table("appointment_phone_checks")
