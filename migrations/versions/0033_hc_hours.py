"""Home care's hours (issue 17): a done visit's real start, end and kilometres, and the
annual subsidised quota of hours per team, service and funder.

Revision ID: 0033_hc_hours
Revises: 0032_h_hc_records
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "0033_hc_hours"
down_revision: str | None = "0032_h_hc_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("homecare_visits", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("actual_start", core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("actual_end", core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("km", sa.Float(), nullable=True))
    op.create_table(
        "homecare_quotas",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=20), nullable=False),
        sa.Column("funder", sa.String(length=20), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("hours >= 0", name=op.f("ck_homecare_quotas_hours_positive")),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["users.id"], name=op.f("fk_homecare_quotas_changed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_homecare_quotas_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_homecare_quotas")),
        sa.UniqueConstraint("team_id", "year", "service", "funder", name="one_per_service_year"),
    )
    with op.batch_alter_table("homecare_quotas", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_homecare_quotas_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("homecare_quotas", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_homecare_quotas_team_id"))
    op.drop_table("homecare_quotas")
    with op.batch_alter_table("homecare_visits", schema=None) as batch_op:
        batch_op.drop_column("km")
        batch_op.drop_column("actual_end")
        batch_op.drop_column("actual_start")
