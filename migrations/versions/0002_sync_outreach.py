"""Offline sync (op ledger, per-team change counters) and the street-outreach records.

Revision ID: 0002_sync_outreach
Revises: 0001_foundation
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "0002_sync_outreach"
down_revision: str | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sync_counters",
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_sync_counters")),
    )
    op.create_table(
        "outreach_people",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("nickname", sa.String(length=60), nullable=False),
        sa.Column("age_band", sa.String(length=10), nullable=False),
        sa.Column("gender", sa.String(length=10), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("first_seen_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["users.id"], name=op.f("fk_outreach_people_changed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_outreach_people_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_outreach_people_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_people")),
    )
    with op.batch_alter_table("outreach_people", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outreach_people_team_seq", ["team_id", "change_seq"], unique=False
        )

    op.create_table(
        "outreach_places",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("last_visit_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "latitude BETWEEN -90 AND 90", name=op.f("ck_outreach_places_latitude_range")
        ),
        sa.CheckConstraint(
            "longitude BETWEEN -180 AND 180", name=op.f("ck_outreach_places_longitude_range")
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["users.id"], name=op.f("fk_outreach_places_changed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_outreach_places_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_outreach_places_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_places")),
    )
    with op.batch_alter_table("outreach_places", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outreach_places_team_seq", ["team_id", "change_seq"], unique=False
        )

    op.create_table(
        "sync_operations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("op_type", sa.String(length=60), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.Column("client_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("received_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sync_operations_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_operations")),
    )
    with op.batch_alter_table("sync_operations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_operations_user_id"), ["user_id"], unique=False)

    op.create_table(
        "outreach_encounters",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("place_id", sa.Uuid(), nullable=True),
        sa.Column("occurred_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("contact_type", sa.String(length=20), nullable=False),
        sa.Column("needs", sa.JSON(), nullable=False),
        sa.Column("given", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["users.id"], name=op.f("fk_outreach_encounters_changed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["outreach_people.id"],
            name=op.f("fk_outreach_encounters_person_id_outreach_people"),
        ),
        sa.ForeignKeyConstraint(
            ["place_id"],
            ["outreach_places.id"],
            name=op.f("fk_outreach_encounters_place_id_outreach_places"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_outreach_encounters_recorded_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_outreach_encounters_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_encounters")),
    )
    with op.batch_alter_table("outreach_encounters", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outreach_encounters_person_at", ["person_id", "occurred_at"], unique=False
        )
        batch_op.create_index(
            "ix_outreach_encounters_team_seq", ["team_id", "change_seq"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("outreach_encounters", schema=None) as batch_op:
        batch_op.drop_index("ix_outreach_encounters_team_seq")
        batch_op.drop_index("ix_outreach_encounters_person_at")

    op.drop_table("outreach_encounters")
    with op.batch_alter_table("sync_operations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_operations_user_id"))

    op.drop_table("sync_operations")
    with op.batch_alter_table("outreach_places", schema=None) as batch_op:
        batch_op.drop_index("ix_outreach_places_team_seq")

    op.drop_table("outreach_places")
    with op.batch_alter_table("outreach_people", schema=None) as batch_op:
        batch_op.drop_index("ix_outreach_people_team_seq")

    op.drop_table("outreach_people")
    op.drop_table("sync_counters")
