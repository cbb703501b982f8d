"""Rounds (issue 19): round templates, dated rounds and their stops, SMS subscriptions to
a public stop, and the crew role. The permanences become the minibus templates' stops:
each vehicle's permanences of one weekday are gathered into one template.

Revision ID: 0047_rounds_dated
Revises: 0041_cpas_finish
Create Date: 2026-12-06
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import core.db

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
ROLES_BEFORE = (
    "role IN ('admin', 'coordinator', 'social_worker', 'reception', 'aide', 'street_educator')"
)
ROLES_AFTER = (
    "role IN ('admin', 'coordinator', 'social_worker', 'reception', 'aide', "
    "'street_educator', 'crew')"
)

revision: str = "0047_rounds_dated"
down_revision: str | None = "0041_cpas_finish"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rounds_templates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("starts", sa.Time(), nullable=False),
        sa.Column("ends", sa.Time(), nullable=False),
        sa.Column("active_from", sa.Date(), nullable=False),
        sa.Column("active_until", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('minibus', 'meals', 'rides')", name=op.f("ck_rounds_templates_kind_known")
        ),
        sa.CheckConstraint(
            "active_until IS NULL OR active_from <= active_until",
            name=op.f("ck_rounds_templates_active_in_order"),
        ),
        sa.CheckConstraint("starts < ends", name=op.f("ck_rounds_templates_starts_before_ends")),
        sa.CheckConstraint(
            "weekday BETWEEN 0 AND 6", name=op.f("ck_rounds_templates_weekday_range")
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["users.id"], name=op.f("fk_rounds_templates_changed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_rounds_templates_team_id_teams")
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"],
            ["rounds_vehicles.id"],
            name=op.f("fk_rounds_templates_vehicle_id_rounds_vehicles"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rounds_templates")),
    )
    with op.batch_alter_table("rounds_templates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rounds_templates_team_id"), ["team_id"], unique=False)
        batch_op.create_index(
            "ix_rounds_templates_team_seq", ["team_id", "change_seq"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rounds_templates_vehicle_id"), ["vehicle_id"], unique=False
        )

    op.create_table(
        "rounds_rounds",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.Uuid(), nullable=False),
        sa.Column("template_id", sa.Uuid(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("starts", sa.Time(), nullable=False),
        sa.Column("ends", sa.Time(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("cancel_kind", sa.String(length=20), nullable=False),
        sa.Column("cancel_reason", sa.String(length=200), nullable=False),
        sa.Column("started_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("km_start", sa.Integer(), nullable=True),
        sa.Column("km_end", sa.Integer(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('minibus', 'meals', 'rides')", name=op.f("ck_rounds_rounds_kind_known")
        ),
        sa.CheckConstraint(
            "cancel_kind IN ('', 'holiday', 'decision')",
            name=op.f("ck_rounds_rounds_cancel_kind_known"),
        ),
        sa.CheckConstraint(
            "status IN ('planned', 'started', 'finished', 'cancelled')",
            name=op.f("ck_rounds_rounds_status_known"),
        ),
        sa.CheckConstraint(
            "km_end IS NULL OR km_start IS NULL OR km_end >= km_start",
            name=op.f("ck_rounds_rounds_km_in_order"),
        ),
        sa.CheckConstraint("starts < ends", name=op.f("ck_rounds_rounds_starts_before_ends")),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["users.id"], name=op.f("fk_rounds_rounds_changed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_rounds_rounds_team_id_teams")
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["rounds_templates.id"],
            name=op.f("fk_rounds_rounds_template_id_rounds_templates"),
        ),
        sa.ForeignKeyConstraint(
            ["vehicle_id"],
            ["rounds_vehicles.id"],
            name=op.f("fk_rounds_rounds_vehicle_id_rounds_vehicles"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rounds_rounds")),
        sa.UniqueConstraint("template_id", "day", name="uq_rounds_rounds_template_day"),
    )
    with op.batch_alter_table("rounds_rounds", schema=None) as batch_op:
        batch_op.create_index("ix_rounds_rounds_team_day", ["team_id", "day"], unique=False)
        batch_op.create_index(batch_op.f("ix_rounds_rounds_team_id"), ["team_id"], unique=False)
        batch_op.create_index("ix_rounds_rounds_team_seq", ["team_id", "change_seq"], unique=False)
        batch_op.create_index("ix_rounds_rounds_vehicle_day", ["vehicle_id", "day"], unique=False)

    op.create_table(
        "rounds_stop_subscriptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("stop_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "language IN ('fr', 'nl', 'en')",
            name=op.f("ck_rounds_stop_subscriptions_language_known"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["notification_contacts.id"],
            name=op.f("fk_rounds_stop_subscriptions_contact_id_notification_contacts"),
        ),
        sa.ForeignKeyConstraint(
            ["stop_id"],
            ["rounds_stops.id"],
            name=op.f("fk_rounds_stop_subscriptions_stop_id_rounds_stops"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_rounds_stop_subscriptions_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rounds_stop_subscriptions")),
    )
    with op.batch_alter_table("rounds_stop_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rounds_stop_subscriptions_contact_id"), ["contact_id"], unique=False
        )
        batch_op.create_index(
            "ix_rounds_stop_subscriptions_stop", ["stop_id", "stopped_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rounds_stop_subscriptions_team_id"), ["team_id"], unique=False
        )
        batch_op.create_index(
            "uq_rounds_stop_subscriptions_running",
            ["stop_id", "contact_id"],
            unique=True,
            postgresql_where=sa.text("stopped_at IS NULL"),
            sqlite_where=sa.text("stopped_at IS NULL"),
        )

    op.create_table(
        "rounds_round_stops",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("stop_id", sa.Uuid(), nullable=True),
        sa.Column("meal_order_id", sa.Uuid(), nullable=True),
        sa.Column("ride_id", sa.Uuid(), nullable=True),
        sa.Column("topic", sa.String(length=20), nullable=False),
        sa.Column("planned_arrival", sa.Time(), nullable=True),
        sa.Column("planned_departure", sa.Time(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("arrived_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("left_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("people_seen", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("moved_to", sa.Time(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(kind = 'public_stop' AND stop_id IS NOT NULL) OR (kind = 'household' AND meal_order_id IS NOT NULL) OR (kind IN ('pickup', 'dropoff') AND ride_id IS NOT NULL)",
            name=op.f("ck_rounds_round_stops_target_of_kind"),
        ),
        sa.CheckConstraint(
            "kind IN ('public_stop', 'household', 'pickup', 'dropoff')",
            name=op.f("ck_rounds_round_stops_kind_known"),
        ),
        sa.CheckConstraint(
            "status IN ('planned', 'skipped', 'moved', 'arrived', 'left')",
            name=op.f("ck_rounds_round_stops_status_known"),
        ),
        sa.CheckConstraint(
            "people_seen IS NULL OR people_seen >= 0",
            name=op.f("ck_rounds_round_stops_people_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["users.id"], name=op.f("fk_rounds_round_stops_changed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["meal_order_id"],
            ["rounds_meal_orders.id"],
            name=op.f("fk_rounds_round_stops_meal_order_id_rounds_meal_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["ride_id"],
            ["rounds_rides.id"],
            name=op.f("fk_rounds_round_stops_ride_id_rounds_rides"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["rounds_rounds.id"],
            name=op.f("fk_rounds_round_stops_round_id_rounds_rounds"),
        ),
        sa.ForeignKeyConstraint(
            ["stop_id"],
            ["rounds_stops.id"],
            name=op.f("fk_rounds_round_stops_stop_id_rounds_stops"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_rounds_round_stops_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rounds_round_stops")),
    )
    with op.batch_alter_table("rounds_round_stops", schema=None) as batch_op:
        batch_op.create_index("ix_rounds_round_stops_round", ["round_id", "position"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_rounds_round_stops_team_id"), ["team_id"], unique=False
        )
        batch_op.create_index(
            "ix_rounds_round_stops_team_seq", ["team_id", "change_seq"], unique=False
        )

    with op.batch_alter_table("rounds_permanences", schema=None) as batch_op:
        batch_op.add_column(sa.Column("template_id", sa.Uuid(), nullable=True))
    _gather_permanences()
    with op.batch_alter_table("rounds_permanences", schema=None) as batch_op:
        batch_op.alter_column("template_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.create_index(
            batch_op.f("ix_rounds_permanences_template_id"), ["template_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_rounds_permanences_template_id_rounds_templates"),
            "rounds_templates",
            ["template_id"],
            ["id"],
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_role_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_users_role_known"), ROLES_AFTER)


def _gather_permanences() -> None:
    """One minibus template per vehicle and weekday holding that day's permanences, from
    the earliest of the driver's day and the first permanence to the latest of both."""
    bind = op.get_bind()
    stops = sa.table("rounds_stops", sa.column("id", sa.Uuid()), sa.column("vehicle_id", sa.Uuid()))
    vehicles = sa.table(
        "rounds_vehicles",
        sa.column("id", sa.Uuid()),
        sa.column("name", sa.String()),
        sa.column("day_start", sa.Time()),
        sa.column("day_end", sa.Time()),
    )
    permanences = sa.table(
        "rounds_permanences",
        sa.column("id", sa.Uuid()),
        sa.column("team_id", sa.Integer()),
        sa.column("stop_id", sa.Uuid()),
        sa.column("weekday", sa.Integer()),
        sa.column("starts", sa.Time()),
        sa.column("ends", sa.Time()),
        sa.column("template_id", sa.Uuid()),
    )
    templates = sa.table(
        "rounds_templates",
        *(
            sa.column(name, kind)
            for name, kind in (
                ("id", sa.Uuid()),
                ("team_id", sa.Integer()),
                ("vehicle_id", sa.Uuid()),
                ("name", sa.String()),
                ("kind", sa.String()),
                ("weekday", sa.Integer()),
                ("starts", sa.Time()),
                ("ends", sa.Time()),
                ("active_from", sa.Date()),
                ("active_until", sa.Date()),
                ("version", sa.Integer()),
                ("change_seq", sa.BigInteger()),
                ("changed_at", core.db.UTCDateTime(timezone=True)),
                ("updated_at", core.db.UTCDateTime(timezone=True)),
            )
        ),
    )
    rows = bind.execute(
        sa.select(
            permanences.c.id,
            permanences.c.team_id,
            permanences.c.weekday,
            permanences.c.starts,
            permanences.c.ends,
            vehicles.c.id,
            vehicles.c.name,
            vehicles.c.day_start,
            vehicles.c.day_end,
        )
        .select_from(permanences)
        .join(stops, stops.c.id == permanences.c.stop_id)
        .join(vehicles, vehicles.c.id == stops.c.vehicle_id)
    ).all()
    groups: dict[tuple, list] = {}
    for row in rows:
        groups.setdefault((row[1], row[5], row[2]), []).append(row)
    now = datetime.now(UTC)
    for (team_id, vehicle_id, weekday), found in groups.items():
        template_id = uuid.uuid4()
        first = found[0]
        bind.execute(
            templates.insert().values(
                id=template_id,
                team_id=team_id,
                vehicle_id=vehicle_id,
                name=f"{first[6]} – {WEEKDAYS[weekday]}",
                kind="minibus",
                weekday=weekday,
                starts=min([first[7], *(r[3] for r in found)]),
                ends=max([first[8], *(r[4] for r in found)]),
                active_from=now.date(),
                active_until=None,
                version=1,
                change_seq=0,
                changed_at=now,
                updated_at=now,
            )
        )
        bind.execute(
            permanences.update()
            .where(permanences.c.id.in_([r[0] for r in found]))
            .values(template_id=template_id)
        )


def downgrade() -> None:
    # The crew role goes: its accounts become inactive aides (they are kept for the audit log)
    op.execute("UPDATE users SET role = 'aide', active = false WHERE role = 'crew'")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_role_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_users_role_known"), ROLES_BEFORE)
    with op.batch_alter_table("rounds_permanences", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_rounds_permanences_template_id_rounds_templates"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_rounds_permanences_template_id"))
        batch_op.drop_column("template_id")

    with op.batch_alter_table("rounds_round_stops", schema=None) as batch_op:
        batch_op.drop_index("ix_rounds_round_stops_team_seq")
        batch_op.drop_index(batch_op.f("ix_rounds_round_stops_team_id"))
        batch_op.drop_index("ix_rounds_round_stops_round")

    op.drop_table("rounds_round_stops")
    with op.batch_alter_table("rounds_stop_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_rounds_stop_subscriptions_running",
            postgresql_where=sa.text("stopped_at IS NULL"),
            sqlite_where=sa.text("stopped_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_rounds_stop_subscriptions_team_id"))
        batch_op.drop_index("ix_rounds_stop_subscriptions_stop")
        batch_op.drop_index(batch_op.f("ix_rounds_stop_subscriptions_contact_id"))

    op.drop_table("rounds_stop_subscriptions")
    with op.batch_alter_table("rounds_rounds", schema=None) as batch_op:
        batch_op.drop_index("ix_rounds_rounds_vehicle_day")
        batch_op.drop_index("ix_rounds_rounds_team_seq")
        batch_op.drop_index(batch_op.f("ix_rounds_rounds_team_id"))
        batch_op.drop_index("ix_rounds_rounds_team_day")

    op.drop_table("rounds_rounds")
    with op.batch_alter_table("rounds_templates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rounds_templates_vehicle_id"))
        batch_op.drop_index("ix_rounds_templates_team_seq")
        batch_op.drop_index(batch_op.f("ix_rounds_templates_team_id"))

    op.drop_table("rounds_templates")
