"""A day of real use (issue 16): teams' Dutch names; room for the SMS reasons.

- `teams.name_nl`: a team's name in Dutch, for Dutch-speaking staff. Empty for existing
  teams (the French name is shown until one is given); the demo's seed fills the Dutch
  names of its own teams.
- `sms_messages.error_code` and `sms_message_events.error_code` from 20 to 40
  characters: "appointment_cancelled" (21), the reason a message about a cancelled
  appointment is dropped, was cut to "appointment_cancelle" on SQLite and refused by
  PostgreSQL.

Revision ID: 0019_day_of_use
Revises: 0018_booking_without_phone
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_day_of_use"
down_revision: str | None = "0018_booking_without_phone"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REASON_TABLES = ("sms_messages", "sms_message_events")


def upgrade() -> None:
    with op.batch_alter_table("teams") as batch_op:
        batch_op.add_column(
            sa.Column("name_nl", sa.String(length=120), nullable=False, server_default="")
        )
    for table in REASON_TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(
                "error_code",
                existing_type=sa.String(length=20),
                type_=sa.String(length=40),
                existing_nullable=True,
            )


def downgrade() -> None:
    for table in REASON_TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(
                "error_code",
                existing_type=sa.String(length=40),
                type_=sa.String(length=20),
                existing_nullable=True,
            )
    with op.batch_alter_table("teams") as batch_op:
        batch_op.drop_column("name_nl")
