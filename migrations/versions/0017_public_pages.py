"""Appointments: a moved appointment points to the new one; Dutch names of places; SMS
asked for by the person (sent at once, quiet hours or not).

Adds `appointments.moved_to_id` (the old SMS link of a moved appointment leads to the
new one), `appointment_locations.name_nl`, `address_nl` and `city_nl` (Brussels street names are
bilingual: "Rue Haute" / "Hoogstraat"), and `sms_messages.requested`.

Revision ID: 0017_public_pages
Revises: 0013_sms_masked_secrets
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_public_pages"
down_revision: str | None = "0013_sms_masked_secrets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("moved_to_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_appointments_moved_to_id"), ["moved_to_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_appointments_moved_to_id_appointments"),
            "appointments",
            ["moved_to_id"],
            ["id"],
        )
    with op.batch_alter_table("appointment_locations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("name_nl", sa.String(length=120), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("address_nl", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("city_nl", sa.String(length=80), nullable=False, server_default="")
        )
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("requested", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.drop_column("requested")
    with op.batch_alter_table("appointment_locations", schema=None) as batch_op:
        batch_op.drop_column("city_nl")
        batch_op.drop_column("address_nl")
        batch_op.drop_column("name_nl")
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_appointments_moved_to_id_appointments"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_appointments_moved_to_id"))
        batch_op.drop_column("moved_to_id")
