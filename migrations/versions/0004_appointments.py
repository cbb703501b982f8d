"""Appointments: services, locations, opening hours, closures, working plans, absences, bookings.

Revision ID: 0004_appointments
Revises: 0003_notifications
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "0004_appointments"
down_revision: str | None = "0003_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "appointment_people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_people")),
    )
    with op.batch_alter_table("appointment_people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appointment_people_phone"), ["phone"], unique=False)

    op.create_table(
        "appointment_services",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_fr", sa.String(length=120), nullable=False),
        sa.Column("name_nl", sa.String(length=120), nullable=False),
        sa.Column("name_en", sa.String(length=120), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("buffer_minutes", sa.Integer(), nullable=False),
        sa.Column("booking_mode", sa.String(length=10), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("min_notice_hours", sa.Integer(), nullable=False),
        sa.Column("max_horizon_days", sa.Integer(), nullable=False),
        sa.Column("reminder_day_before_at", sa.Time(), nullable=True),
        sa.Column("reminder_hours_before", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "booking_mode IN ('online', 'phone', 'walk_in')",
            name=op.f("ck_appointment_services_booking_mode"),
        ),
        sa.CheckConstraint(
            "buffer_minutes BETWEEN 0 AND 120", name=op.f("ck_appointment_services_buffer_range")
        ),
        sa.CheckConstraint(
            "duration_minutes BETWEEN 5 AND 240",
            name=op.f("ck_appointment_services_duration_range"),
        ),
        sa.CheckConstraint(
            "max_horizon_days BETWEEN 1 AND 365", name=op.f("ck_appointment_services_horizon_range")
        ),
        sa.CheckConstraint(
            "min_notice_hours BETWEEN 0 AND 720", name=op.f("ck_appointment_services_notice_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_services")),
        sa.UniqueConstraint("code", name=op.f("uq_appointment_services_code")),
    )
    op.create_table(
        "appointment_locations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("postcode", sa.String(length=10), nullable=False),
        sa.Column("city", sa.String(length=80), nullable=False),
        sa.Column("latitude", sa.Double(), nullable=True),
        sa.Column("longitude", sa.Double(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('antenne', 'mobile_stop')", name=op.f("ck_appointment_locations_kind")
        ),
        sa.CheckConstraint(
            "latitude IS NULL OR latitude BETWEEN -90 AND 90",
            name=op.f("ck_appointment_locations_latitude"),
        ),
        sa.CheckConstraint(
            "longitude IS NULL OR longitude BETWEEN -180 AND 180",
            name=op.f("ck_appointment_locations_longitude"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_appointment_locations_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_locations")),
        sa.UniqueConstraint("code", name=op.f("uq_appointment_locations_code")),
    )
    op.create_table(
        "appointment_agent_absences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.CheckConstraint("starts_at < ends_at", name=op.f("ck_appointment_agent_absences_order")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_appointment_agent_absences_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_agent_absences")),
    )
    with op.batch_alter_table("appointment_agent_absences", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appointment_agent_absences_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "appointment_agent_locks",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("bookings", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_appointment_agent_locks_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_appointment_agent_locks")),
    )
    op.create_table(
        "appointment_agent_services",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["appointment_services.id"],
            name=op.f("fk_appointment_agent_services_service_id_appointment_services"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_appointment_agent_services_user_id_users")
        ),
        sa.PrimaryKeyConstraint(
            "user_id", "service_id", name=op.f("pk_appointment_agent_services")
        ),
    )
    op.create_table(
        "appointment_closures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=120), nullable=False),
        sa.CheckConstraint("first_day <= last_day", name=op.f("ck_appointment_closures_order")),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["appointment_locations.id"],
            name=op.f("fk_appointment_closures_location_id_appointment_locations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_closures")),
    )
    op.create_table(
        "appointment_opening_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("opens", sa.Time(), nullable=False),
        sa.Column("closes", sa.Time(), nullable=False),
        sa.CheckConstraint("opens < closes", name=op.f("ck_appointment_opening_hours_order")),
        sa.CheckConstraint(
            "weekday BETWEEN 0 AND 6", name=op.f("ck_appointment_opening_hours_weekday")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["appointment_locations.id"],
            name=op.f("fk_appointment_opening_hours_location_id_appointment_locations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_opening_hours")),
    )
    with op.batch_alter_table("appointment_opening_hours", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appointment_opening_hours_location_id"), ["location_id"], unique=False
        )

    op.create_table(
        "appointment_service_locations",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["appointment_locations.id"],
            name=op.f("fk_appointment_service_locations_location_id_appointment_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["appointment_services.id"],
            name=op.f("fk_appointment_service_locations_service_id_appointment_services"),
        ),
        sa.PrimaryKeyConstraint(
            "service_id", "location_id", name=op.f("pk_appointment_service_locations")
        ),
    )
    op.create_table(
        "appointment_waiting_list",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("offered_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('waiting', 'offered', 'booked', 'withdrawn')",
            name=op.f("ck_appointment_waiting_list_status"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["appointment_locations.id"],
            name=op.f("fk_appointment_waiting_list_location_id_appointment_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["appointment_people.id"],
            name=op.f("fk_appointment_waiting_list_person_id_appointment_people"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["appointment_services.id"],
            name=op.f("fk_appointment_waiting_list_service_id_appointment_services"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_waiting_list")),
    )
    with op.batch_alter_table("appointment_waiting_list", schema=None) as batch_op:
        batch_op.create_index(
            "ix_appointment_waiting_list_service",
            ["service_id", "status", "created_at"],
            unique=False,
        )

    op.create_table(
        "appointment_working_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("starts", sa.Time(), nullable=False),
        sa.Column("ends", sa.Time(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.CheckConstraint("starts < ends", name=op.f("ck_appointment_working_plans_order")),
        sa.CheckConstraint(
            "valid_until IS NULL OR valid_from <= valid_until",
            name=op.f("ck_appointment_working_plans_validity"),
        ),
        sa.CheckConstraint(
            "weekday BETWEEN 0 AND 6", name=op.f("ck_appointment_working_plans_weekday")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["appointment_locations.id"],
            name=op.f("fk_appointment_working_plans_location_id_appointment_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_appointment_working_plans_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_working_plans")),
    )
    with op.batch_alter_table("appointment_working_plans", schema=None) as batch_op:
        batch_op.create_index(
            "ix_appointment_working_plans_location_day", ["location_id", "weekday"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_appointment_working_plans_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("start_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("busy_until", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("manage_token_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("checked_in_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(length=10), nullable=True),
        sa.Column("confirmed_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "cancelled_by IS NULL OR cancelled_by IN ('person', 'staff', 'sms')",
            name=op.f("ck_appointments_cancelled_by"),
        ),
        sa.CheckConstraint(
            "source IN ('online', 'phone', 'desk', 'walk_in')", name=op.f("ck_appointments_source")
        ),
        sa.CheckConstraint(
            "status IN ('booked', 'checked_in', 'done', 'no_show', 'cancelled')",
            name=op.f("ck_appointments_status"),
        ),
        sa.CheckConstraint(
            "start_at < end_at AND end_at <= busy_until", name=op.f("ck_appointments_times")
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["users.id"], name=op.f("fk_appointments_agent_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_appointments_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["appointment_locations.id"],
            name=op.f("fk_appointments_location_id_appointment_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["appointment_people.id"],
            name=op.f("fk_appointments_person_id_appointment_people"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["appointment_services.id"],
            name=op.f("fk_appointments_service_id_appointment_services"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
        sa.UniqueConstraint("manage_token_hash", name=op.f("uq_appointments_manage_token_hash")),
    )
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.create_index("ix_appointments_agent_start", ["agent_id", "start_at"], unique=False)
        batch_op.create_index(
            "ix_appointments_location_start", ["location_id", "start_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_appointments_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointments_person_id"))
        batch_op.drop_index("ix_appointments_location_start")
        batch_op.drop_index("ix_appointments_agent_start")

    op.drop_table("appointments")
    with op.batch_alter_table("appointment_working_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_working_plans_user_id"))
        batch_op.drop_index("ix_appointment_working_plans_location_day")

    op.drop_table("appointment_working_plans")
    with op.batch_alter_table("appointment_waiting_list", schema=None) as batch_op:
        batch_op.drop_index("ix_appointment_waiting_list_service")

    op.drop_table("appointment_waiting_list")
    op.drop_table("appointment_service_locations")
    with op.batch_alter_table("appointment_opening_hours", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_opening_hours_location_id"))

    op.drop_table("appointment_opening_hours")
    op.drop_table("appointment_closures")
    op.drop_table("appointment_agent_services")
    op.drop_table("appointment_agent_locks")
    with op.batch_alter_table("appointment_agent_absences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_agent_absences_user_id"))

    op.drop_table("appointment_agent_absences")
    op.drop_table("appointment_locations")
    op.drop_table("appointment_services")
    with op.batch_alter_table("appointment_people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_people_phone"))

    op.drop_table("appointment_people")
