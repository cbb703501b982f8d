"""Appointments: booking without a phone number, and the referral an appointment serves.

`appointment_people.phone` becomes nullable: staff book for somebody who has no phone
(the person gets a printed slip, no SMS). Rows that stored the empty string for "no
number" (walk-ins) become NULL. `appointments.referral_id` names the street outreach
referral the appointment was booked for (no foreign key: appointments does not depend
on outreach). The downgrade writes the empty string back and drops the column.

Revision ID: 0018_booking_without_phone
Revises: 0017_public_pages
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_booking_without_phone"
down_revision: str | None = "0017_public_pages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("appointment_people") as batch:
        batch.alter_column("phone", existing_type=sa.String(20), nullable=True)
    op.execute("UPDATE appointment_people SET phone = NULL WHERE phone = ''")
    with op.batch_alter_table("appointments") as batch:
        batch.add_column(sa.Column("referral_id", sa.Uuid(), nullable=True))
        batch.create_index("ix_appointments_referral_id", ["referral_id"])


def downgrade() -> None:
    with op.batch_alter_table("appointments") as batch:
        batch.drop_index("ix_appointments_referral_id")
        batch.drop_column("referral_id")
    op.execute("UPDATE appointment_people SET phone = '' WHERE phone IS NULL")
    with op.batch_alter_table("appointment_people") as batch:
        batch.alter_column("phone", existing_type=sa.String(20), nullable=False)
