"""Appointments: what to bring per service (FR/NL/EN), a phone number per location.

Revision ID: 0009_service_texts
Revises: 0008_outreach_followup
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_service_texts"
down_revision: str | None = "0008_outreach_followup"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("appointment_services", schema=None) as batch_op:
        for language in ("fr", "nl", "en"):
            batch_op.add_column(
                sa.Column(f"bring_{language}", sa.Text(), nullable=False, server_default="")
            )
    with op.batch_alter_table("appointment_locations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("phone", sa.String(length=20), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("appointment_locations", schema=None) as batch_op:
        batch_op.drop_column("phone")
    with op.batch_alter_table("appointment_services", schema=None) as batch_op:
        for language in ("en", "nl", "fr"):
            batch_op.drop_column(f"bring_{language}")
