"""The aide's phone (issue 18): open visits offered to the aides who could take them
(the first to accept gets it), and the timesheets the aides sign.

Revision ID: 0044_hc_open
Revises: 0042_hc_proof
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "0044_hc_open"
down_revision: str | None = "0042_hc_proof"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_OFFER = "status = 'open'"


def upgrade() -> None:
    op.create_table(
        "homecare_visit_offers",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("teams.id"), nullable=False),
        sa.Column("visit_id", sa.Uuid(), sa.ForeignKey("homecare_visits.id"), nullable=False),
        sa.Column("visit_version", sa.Integer(), nullable=False),
        sa.Column("start", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("offered_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("offered_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("taken_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("taken_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'taken', 'withdrawn')",
            name=op.f("ck_homecare_visit_offers_offer_status_known"),
        ),
        sa.CheckConstraint(
            "(status = 'taken') = (taken_by_id IS NOT NULL)",
            name=op.f("ck_homecare_visit_offers_taken_has_taker"),
        ),
    )
    op.create_index("ix_homecare_visit_offers_visit_id", "homecare_visit_offers", ["visit_id"])
    op.create_index(
        "ix_homecare_visit_offers_team_seq", "homecare_visit_offers", ["team_id", "change_seq"]
    )
    op.create_index(
        "ix_homecare_visit_offers_one_open",
        "homecare_visit_offers",
        ["visit_id"],
        unique=True,
        postgresql_where=sa.text(OPEN_OFFER),
        sqlite_where=sa.text(OPEN_OFFER),
    )
    op.create_table(
        "homecare_visit_offer_aides",
        sa.Column(
            "offer_id", sa.Uuid(), sa.ForeignKey("homecare_visit_offers.id"), primary_key=True
        ),
        sa.Column("aide_id", sa.Integer(), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("travel_minutes", sa.Integer(), nullable=True),
    )
    op.create_index(
        "ix_homecare_visit_offer_aides_aide_id", "homecare_visit_offer_aides", ["aide_id"]
    )
    op.create_table(
        "homecare_timesheets",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("teams.id"), nullable=False),
        sa.Column("aide_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("km", sa.Float(), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("lines_hash", sa.String(64), nullable=False),
        sa.Column("signed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.UniqueConstraint(
            "aide_id",
            "period",
            "first_day",
            "lines_hash",
            name="one_per_content",
        ),
        sa.CheckConstraint(
            "period IN ('week', 'month')", name=op.f("ck_homecare_timesheets_period_known")
        ),
        sa.CheckConstraint(
            "first_day <= last_day", name=op.f("ck_homecare_timesheets_period_order")
        ),
    )
    op.create_index("ix_homecare_timesheets_team_id", "homecare_timesheets", ["team_id"])
    op.create_index("ix_homecare_timesheets_aide_id", "homecare_timesheets", ["aide_id"])


def downgrade() -> None:
    op.drop_table("homecare_timesheets")
    op.drop_table("homecare_visit_offer_aides")
    op.drop_table("homecare_visit_offers")
