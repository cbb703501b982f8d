"""Rounds (issue 19): a weekly meal order's pauses (its care plan suspended).

Revision ID: 0059_rounds_more
Revises: 0058_rounds_follow
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "0059_rounds_more"
down_revision: str | None = "0058_rounds_follow"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rounds_weekly_meal_pauses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("weekly_id", sa.Uuid(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "starts_on <= ends_on", name=op.f("ck_rounds_weekly_meal_pauses_dates_order")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_rounds_weekly_meal_pauses_created_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_rounds_weekly_meal_pauses_team_id_teams")
        ),
        sa.ForeignKeyConstraint(
            ["weekly_id"],
            ["rounds_weekly_meal_orders.id"],
            name=op.f("fk_rounds_weekly_meal_pauses_weekly_id_rounds_weekly_meal_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rounds_weekly_meal_pauses")),
    )
    with op.batch_alter_table("rounds_weekly_meal_pauses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rounds_weekly_meal_pauses_team_id"), ["team_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rounds_weekly_meal_pauses_weekly_id"), ["weekly_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("rounds_weekly_meal_pauses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rounds_weekly_meal_pauses_weekly_id"))
        batch_op.drop_index(batch_op.f("ix_rounds_weekly_meal_pauses_team_id"))
    op.drop_table("rounds_weekly_meal_pauses")
