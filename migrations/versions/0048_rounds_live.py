"""Rounds followed live (issue 19): the crew's reports of a round and of its stops (ids
made on the phone), the notices sent to a public stop's subscribers (unique per round
stop, kind and revision) and the team's lateness setting.

Revision ID: 0048_rounds_live
Revises: 0046_growth_counts
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "0048_rounds_live"
down_revision: str | None = "0046_growth_counts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rounds_live_settings",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("late_minutes", sa.Integer(), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "late_minutes BETWEEN 5 AND 120", name=op.f("ck_rounds_live_settings_late_range")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_rounds_live_settings_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_rounds_live_settings")),
    )
    op.create_table(
        "rounds_round_reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Uuid(), nullable=False),
        sa.Column("crew_id", sa.Integer(), nullable=False),
        sa.Column("started_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("km_start", sa.Integer(), nullable=True),
        sa.Column("finished_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("km_end", sa.Integer(), nullable=True),
        sa.Column("incident_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("incident_note", sa.String(length=500), nullable=False),
        sa.Column("alerted_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "km_end IS NULL OR km_start IS NULL OR km_end >= km_start",
            name=op.f("ck_rounds_round_reports_km_in_order"),
        ),
        sa.CheckConstraint(
            "km_start IS NULL OR km_start >= 0",
            name=op.f("ck_rounds_round_reports_km_start_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["users.id"],
            name=op.f("fk_rounds_round_reports_changed_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["crew_id"], ["users.id"], name=op.f("fk_rounds_round_reports_crew_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["rounds_rounds.id"],
            name=op.f("fk_rounds_round_reports_round_id_rounds_rounds"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_rounds_round_reports_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rounds_round_reports")),
        sa.UniqueConstraint("round_id", name="uq_rounds_round_reports_round"),
    )
    with op.batch_alter_table("rounds_round_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rounds_round_reports_team_id"), ["team_id"], unique=False
        )
        batch_op.create_index(
            "ix_rounds_round_reports_team_seq", ["team_id", "change_seq"], unique=False
        )

    op.create_table(
        "rounds_stop_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Uuid(), nullable=False),
        sa.Column("round_stop_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('late', 'cancelled')", name=op.f("ck_rounds_stop_notices_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["rounds_rounds.id"],
            name=op.f("fk_rounds_stop_notices_round_id_rounds_rounds"),
        ),
        sa.ForeignKeyConstraint(
            ["round_stop_id"],
            ["rounds_round_stops.id"],
            name=op.f("fk_rounds_stop_notices_round_stop_id_rounds_round_stops"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_rounds_stop_notices_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rounds_stop_notices")),
        sa.UniqueConstraint(
            "round_stop_id", "kind", "revision", name="uq_rounds_stop_notices_once"
        ),
    )
    with op.batch_alter_table("rounds_stop_notices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rounds_stop_notices_round_id"), ["round_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rounds_stop_notices_team_id"), ["team_id"], unique=False
        )

    op.create_table(
        "rounds_stop_reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Uuid(), nullable=False),
        sa.Column("round_stop_id", sa.Uuid(), nullable=False),
        sa.Column("crew_id", sa.Integer(), nullable=False),
        sa.Column("arrived_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("left_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("people_seen", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "outcome = '' OR outcome IN ('delivered', 'nobody_home', 'refused', 'seen', 'ride_done', 'no_show')",
            name=op.f("ck_rounds_stop_reports_outcome_known"),
        ),
        sa.CheckConstraint(
            "people_seen IS NULL OR people_seen >= 0",
            name=op.f("ck_rounds_stop_reports_people_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["users.id"], name=op.f("fk_rounds_stop_reports_changed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["crew_id"], ["users.id"], name=op.f("fk_rounds_stop_reports_crew_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["rounds_rounds.id"],
            name=op.f("fk_rounds_stop_reports_round_id_rounds_rounds"),
        ),
        sa.ForeignKeyConstraint(
            ["round_stop_id"],
            ["rounds_round_stops.id"],
            name=op.f("fk_rounds_stop_reports_round_stop_id_rounds_round_stops"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_rounds_stop_reports_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rounds_stop_reports")),
        sa.UniqueConstraint("round_stop_id", name="uq_rounds_stop_reports_stop"),
    )
    with op.batch_alter_table("rounds_stop_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rounds_stop_reports_round_id"), ["round_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rounds_stop_reports_team_id"), ["team_id"], unique=False
        )
        batch_op.create_index(
            "ix_rounds_stop_reports_team_seq", ["team_id", "change_seq"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("rounds_stop_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_rounds_stop_reports_team_seq")
        batch_op.drop_index(batch_op.f("ix_rounds_stop_reports_team_id"))
        batch_op.drop_index(batch_op.f("ix_rounds_stop_reports_round_id"))

    op.drop_table("rounds_stop_reports")
    with op.batch_alter_table("rounds_stop_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rounds_stop_notices_team_id"))
        batch_op.drop_index(batch_op.f("ix_rounds_stop_notices_round_id"))

    op.drop_table("rounds_stop_notices")
    with op.batch_alter_table("rounds_round_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_rounds_round_reports_team_seq")
        batch_op.drop_index(batch_op.f("ix_rounds_round_reports_team_id"))

    op.drop_table("rounds_round_reports")
    op.drop_table("rounds_live_settings")
