"""Rounds' meals (issue 19): the team's cut-off rules, households' weekly orders, and on
the dated orders who cancelled when and the weekly order and day eaten they come from.

Revision ID: 0050_rounds_meals
Revises: 0049_rounds_public
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "0050_rounds_meals"
down_revision: str | None = "0049_rounds_public"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rounds_meal_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("applies_from", sa.Date(), nullable=False),
        sa.Column("cutoff_days", sa.Integer(), nullable=False),
        sa.Column("cutoff_time", sa.Time(), nullable=False),
        sa.Column("weekend_on_friday", sa.Boolean(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "cutoff_days BETWEEN 0 AND 7", name=op.f("ck_rounds_meal_settings_cutoff_days_range")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_rounds_meal_settings_created_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_rounds_meal_settings_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rounds_meal_settings")),
        sa.UniqueConstraint(
            "team_id", "applies_from", name=op.f("uq_rounds_meal_settings_team_id_applies_from")
        ),
    )
    with op.batch_alter_table("rounds_meal_settings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rounds_meal_settings_team_id"), ["team_id"], unique=False
        )
    op.create_table(
        "rounds_weekly_meal_orders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("household", sa.String(length=120), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("postcode", sa.String(length=10), nullable=False),
        sa.Column("city", sa.String(length=80), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("weekdays", sa.String(length=20), nullable=False),
        sa.Column("meals", sa.Integer(), nullable=False),
        sa.Column("diet", sa.String(length=20), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=False),
        sa.Column("window_start", sa.Time(), nullable=False),
        sa.Column("window_end", sa.Time(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "ends_on IS NULL OR starts_on <= ends_on",
            name=op.f("ck_rounds_weekly_meal_orders_dates_order"),
        ),
        sa.CheckConstraint("meals > 0", name=op.f("ck_rounds_weekly_meal_orders_meals_positive")),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["users.id"],
            name=op.f("fk_rounds_weekly_meal_orders_changed_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_rounds_weekly_meal_orders_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rounds_weekly_meal_orders")),
    )
    with op.batch_alter_table("rounds_weekly_meal_orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rounds_weekly_meal_orders_team_seq", ["team_id", "change_seq"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rounds_weekly_meal_orders_team_id"), ["team_id"], unique=False
        )
    with op.batch_alter_table("rounds_meal_orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cancelled_at", core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("cancelled_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("weekly_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("eaten_on", sa.Date(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_rounds_meal_orders_cancelled_by_id_users"),
            "users",
            ["cancelled_by_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_rounds_meal_orders_weekly_id_rounds_weekly_meal_orders"),
            "rounds_weekly_meal_orders",
            ["weekly_id"],
            ["id"],
        )
        batch_op.create_index(
            batch_op.f("ix_rounds_meal_orders_weekly_id"), ["weekly_id"], unique=False
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_rounds_meal_orders_weekly_id_eaten_on"), ["weekly_id", "eaten_on"]
        )


def downgrade() -> None:
    with op.batch_alter_table("rounds_meal_orders", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_rounds_meal_orders_weekly_id_eaten_on"), type_="unique"
        )
        batch_op.drop_index(batch_op.f("ix_rounds_meal_orders_weekly_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_rounds_meal_orders_weekly_id_rounds_weekly_meal_orders"),
            type_="foreignkey",
        )
        batch_op.drop_constraint(
            batch_op.f("fk_rounds_meal_orders_cancelled_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("eaten_on")
        batch_op.drop_column("weekly_id")
        batch_op.drop_column("cancelled_by_id")
        batch_op.drop_column("cancelled_at")
    with op.batch_alter_table("rounds_weekly_meal_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rounds_weekly_meal_orders_team_id"))
        batch_op.drop_index("ix_rounds_weekly_meal_orders_team_seq")
    op.drop_table("rounds_weekly_meal_orders")
    with op.batch_alter_table("rounds_meal_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rounds_meal_settings_team_id"))
    op.drop_table("rounds_meal_settings")
