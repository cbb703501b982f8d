"""Rounds (issue 19, first layer): vehicles, the minibus's public stops and weekly
permanences, meal orders and rides of a day with where the day's plan put them.

Revision ID: 0036_rounds
Revises: 0034_cpas (the lead re-chains at merge)
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "0036_rounds"
down_revision: str | None = "0034_cpas"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rounds_vehicles",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("plate", sa.String(length=20), nullable=False),
        sa.Column("driver_name", sa.String(length=120), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("meal_capacity", sa.Integer(), nullable=False),
        sa.Column("depot_address", sa.String(length=200), nullable=False),
        sa.Column("depot_latitude", sa.Float(), nullable=False),
        sa.Column("depot_longitude", sa.Float(), nullable=False),
        sa.Column("day_start", sa.Time(), nullable=False),
        sa.Column("day_end", sa.Time(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "meal_capacity >= 0", name=op.f("ck_rounds_vehicles_meal_capacity_positive")
        ),
        sa.CheckConstraint("seats >= 0", name=op.f("ck_rounds_vehicles_seats_positive")),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["users.id"], name=op.f("fk_rounds_vehicles_changed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_rounds_vehicles_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rounds_vehicles")),
    )
    with op.batch_alter_table("rounds_vehicles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rounds_vehicles_team_id"), ["team_id"], unique=False)
        batch_op.create_index(
            "ix_rounds_vehicles_team_seq", ["team_id", "change_seq"], unique=False
        )

    op.create_table(
        "rounds_meal_orders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("household", sa.String(length=120), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("postcode", sa.String(length=10), nullable=False),
        sa.Column("city", sa.String(length=80), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("meals", sa.Integer(), nullable=False),
        sa.Column("diet", sa.String(length=20), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=False),
        sa.Column("window_start", sa.Time(), nullable=False),
        sa.Column("window_end", sa.Time(), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("vehicle_id", sa.Uuid(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("planned_at", sa.Time(), nullable=True),
        sa.Column("unplaced", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("meals > 0", name=op.f("ck_rounds_meal_orders_meals_positive")),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["users.id"], name=op.f("fk_rounds_meal_orders_changed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_rounds_meal_orders_team_id_teams")
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"],
            ["rounds_vehicles.id"],
            name=op.f("fk_rounds_meal_orders_vehicle_id_rounds_vehicles"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rounds_meal_orders")),
    )
    with op.batch_alter_table("rounds_meal_orders", schema=None) as batch_op:
        batch_op.create_index("ix_rounds_meal_orders_team_day", ["team_id", "day"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_rounds_meal_orders_team_id"), ["team_id"], unique=False
        )
        batch_op.create_index(
            "ix_rounds_meal_orders_team_seq", ["team_id", "change_seq"], unique=False
        )

    op.create_table(
        "rounds_rides",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("person", sa.String(length=120), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("pickup_address", sa.String(length=200), nullable=False),
        sa.Column("pickup_latitude", sa.Float(), nullable=False),
        sa.Column("pickup_longitude", sa.Float(), nullable=False),
        sa.Column("dropoff_address", sa.String(length=200), nullable=False),
        sa.Column("dropoff_latitude", sa.Float(), nullable=False),
        sa.Column("dropoff_longitude", sa.Float(), nullable=False),
        sa.Column("pickup_from", sa.Time(), nullable=False),
        sa.Column("pickup_until", sa.Time(), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("wheelchair", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("vehicle_id", sa.Uuid(), nullable=True),
        sa.Column("pickup_position", sa.Integer(), nullable=True),
        sa.Column("pickup_at", sa.Time(), nullable=True),
        sa.Column("dropoff_position", sa.Integer(), nullable=True),
        sa.Column("dropoff_at", sa.Time(), nullable=True),
        sa.Column("unplaced", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("seats > 0", name=op.f("ck_rounds_rides_seats_positive")),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["users.id"], name=op.f("fk_rounds_rides_changed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_rounds_rides_team_id_teams")
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"],
            ["rounds_vehicles.id"],
            name=op.f("fk_rounds_rides_vehicle_id_rounds_vehicles"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rounds_rides")),
    )
    with op.batch_alter_table("rounds_rides", schema=None) as batch_op:
        batch_op.create_index("ix_rounds_rides_team_day", ["team_id", "day"], unique=False)
        batch_op.create_index(batch_op.f("ix_rounds_rides_team_id"), ["team_id"], unique=False)
        batch_op.create_index("ix_rounds_rides_team_seq", ["team_id", "change_seq"], unique=False)

    op.create_table(
        "rounds_stops",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("postcode", sa.String(length=10), nullable=False),
        sa.Column("city", sa.String(length=80), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["users.id"], name=op.f("fk_rounds_stops_changed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_rounds_stops_team_id_teams")
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"],
            ["rounds_vehicles.id"],
            name=op.f("fk_rounds_stops_vehicle_id_rounds_vehicles"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rounds_stops")),
    )
    with op.batch_alter_table("rounds_stops", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rounds_stops_team_id"), ["team_id"], unique=False)
        batch_op.create_index("ix_rounds_stops_team_seq", ["team_id", "change_seq"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_rounds_stops_vehicle_id"), ["vehicle_id"], unique=False
        )

    op.create_table(
        "rounds_permanences",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("stop_id", sa.Uuid(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("starts", sa.Time(), nullable=False),
        sa.Column("ends", sa.Time(), nullable=False),
        sa.Column("topic", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("starts < ends", name=op.f("ck_rounds_permanences_starts_before_ends")),
        sa.CheckConstraint(
            "weekday BETWEEN 0 AND 6", name=op.f("ck_rounds_permanences_weekday_range")
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["users.id"], name=op.f("fk_rounds_permanences_changed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["stop_id"],
            ["rounds_stops.id"],
            name=op.f("fk_rounds_permanences_stop_id_rounds_stops"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_rounds_permanences_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rounds_permanences")),
    )
    with op.batch_alter_table("rounds_permanences", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rounds_permanences_stop_id"), ["stop_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rounds_permanences_team_id"), ["team_id"], unique=False
        )
        batch_op.create_index(
            "ix_rounds_permanences_team_seq", ["team_id", "change_seq"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("rounds_permanences", schema=None) as batch_op:
        batch_op.drop_index("ix_rounds_permanences_team_seq")
        batch_op.drop_index(batch_op.f("ix_rounds_permanences_team_id"))
        batch_op.drop_index(batch_op.f("ix_rounds_permanences_stop_id"))

    op.drop_table("rounds_permanences")
    with op.batch_alter_table("rounds_stops", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rounds_stops_vehicle_id"))
        batch_op.drop_index("ix_rounds_stops_team_seq")
        batch_op.drop_index(batch_op.f("ix_rounds_stops_team_id"))

    op.drop_table("rounds_stops")
    with op.batch_alter_table("rounds_rides", schema=None) as batch_op:
        batch_op.drop_index("ix_rounds_rides_team_seq")
        batch_op.drop_index(batch_op.f("ix_rounds_rides_team_id"))
        batch_op.drop_index("ix_rounds_rides_team_day")

    op.drop_table("rounds_rides")
    with op.batch_alter_table("rounds_meal_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_rounds_meal_orders_team_seq")
        batch_op.drop_index(batch_op.f("ix_rounds_meal_orders_team_id"))
        batch_op.drop_index("ix_rounds_meal_orders_team_day")

    op.drop_table("rounds_meal_orders")
    with op.batch_alter_table("rounds_vehicles", schema=None) as batch_op:
        batch_op.drop_index("ix_rounds_vehicles_team_seq")
        batch_op.drop_index(batch_op.f("ix_rounds_vehicles_team_id"))

    op.drop_table("rounds_vehicles")
