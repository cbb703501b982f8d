"""Appointments: one waiting-list entry per number, service and place (unique indexes
on the waiting entries; the number is copied onto the entry).

Revision ID: 0012_waiting_list_once
Revises: 0011_login_failures
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_waiting_list_once"
down_revision: str | None = "0011_login_failures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLACE = "status = 'waiting' AND location_id IS NOT NULL"
ANYWHERE = "status = 'waiting' AND location_id IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("appointment_waiting_list", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=20), nullable=True))
    op.execute(
        "UPDATE appointment_waiting_list SET phone = (SELECT appointment_people.phone"
        " FROM appointment_people WHERE appointment_people.id = appointment_waiting_list.person_id)"
    )
    # Duplicates made before the indexes: the oldest entry keeps its place in the queue,
    # the later copies are withdrawn (never deleted: the history stays).
    op.execute(
        "UPDATE appointment_waiting_list SET status = 'withdrawn'"
        " WHERE status = 'waiting' AND EXISTS (SELECT 1 FROM appointment_waiting_list AS older"
        " WHERE older.status = 'waiting' AND older.phone = appointment_waiting_list.phone"
        " AND older.service_id = appointment_waiting_list.service_id"
        " AND (older.location_id = appointment_waiting_list.location_id"
        " OR (older.location_id IS NULL AND appointment_waiting_list.location_id IS NULL))"
        " AND (older.created_at < appointment_waiting_list.created_at"
        " OR (older.created_at = appointment_waiting_list.created_at"
        " AND older.id < appointment_waiting_list.id)))"
    )
    with op.batch_alter_table("appointment_waiting_list", schema=None) as batch_op:
        batch_op.alter_column("phone", existing_type=sa.String(length=20), nullable=False)
        batch_op.create_index(
            "uq_appointment_waiting_list_number_place",
            ["phone", "service_id", "location_id"],
            unique=True,
            sqlite_where=sa.text(PLACE),
            postgresql_where=sa.text(PLACE),
        )
        batch_op.create_index(
            "uq_appointment_waiting_list_number_anywhere",
            ["phone", "service_id"],
            unique=True,
            sqlite_where=sa.text(ANYWHERE),
            postgresql_where=sa.text(ANYWHERE),
        )


def downgrade() -> None:
    with op.batch_alter_table("appointment_waiting_list", schema=None) as batch_op:
        batch_op.drop_index("uq_appointment_waiting_list_number_anywhere")
        batch_op.drop_index("uq_appointment_waiting_list_number_place")
        batch_op.drop_column("phone")
