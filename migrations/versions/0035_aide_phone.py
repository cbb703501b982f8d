"""The aide's phone (issue 18): visit reports made on the phone, and the proof a team
asks per service (none or a GPS fix at arrival and departure within a radius).

Revision ID: 0035_aide_phone
Revises: 0039_cpas_admin
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "0035_aide_phone"
down_revision: str | None = "0039_cpas_admin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "homecare_proof_rules",
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("teams.id"), primary_key=True),
        sa.Column("service", sa.String(20), primary_key=True),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("radius_m", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "mode IN ('none', 'gps')", name=op.f("ck_homecare_proof_rules_proof_mode_known")
        ),
        sa.CheckConstraint("radius_m > 0", name=op.f("ck_homecare_proof_rules_radius_positive")),
    )
    op.create_table(
        "homecare_visit_reports",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("teams.id"), nullable=False),
        sa.Column("visit_id", sa.Uuid(), sa.ForeignKey("homecare_visits.id"), nullable=False),
        sa.Column("aide_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("arrived_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("left_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("arrival_latitude", sa.Float(), nullable=True),
        sa.Column("arrival_longitude", sa.Float(), nullable=True),
        sa.Column("departure_latitude", sa.Float(), nullable=True),
        sa.Column("departure_longitude", sa.Float(), nullable=True),
        sa.Column("tasks_done", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("submitted", sa.Boolean(), nullable=False),
        sa.Column("proof", sa.String(10), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("unverified_reason", sa.String(30), nullable=True),
        sa.Column("aide_reason", sa.String(20), nullable=True),
        sa.Column("alerted_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('normal', 'nobody_answered', 'refused', 'hospital', 'incident')",
            name=op.f("ck_homecare_visit_reports_outcome_known"),
        ),
    )
    op.create_index("ix_homecare_visit_reports_visit_id", "homecare_visit_reports", ["visit_id"])
    op.create_index("ix_homecare_visit_reports_aide_id", "homecare_visit_reports", ["aide_id"])
    op.create_index(
        "ix_homecare_visit_reports_team_seq", "homecare_visit_reports", ["team_id", "change_seq"]
    )


def downgrade() -> None:
    op.drop_table("homecare_visit_reports")
    op.drop_table("homecare_proof_rules")
