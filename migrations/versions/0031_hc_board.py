"""Home care planning board (issue 17): the planning runs the scheduler carries out, one
active run per team and week.

Revision ID: 0031_hc_board
Revises: 0021_protective_people
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "0031_hc_board"
down_revision: str | None = "0021_protective_people"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE_RUN = "status IN ('queued', 'running')"
T = "homecare_planning_runs"


def upgrade() -> None:
    op.create_table(
        T,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("requested_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("accepted_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("progress BETWEEN 0 AND 100", name=op.f(f"ck_{T}_progress_range")),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')",
            name=op.f(f"ck_{T}_run_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["accepted_by_id"], ["users.id"], name=op.f(f"fk_{T}_accepted_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name=op.f(f"fk_{T}_requested_by_id_users")
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f(f"fk_{T}_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{T}")),
    )
    with op.batch_alter_table(T, schema=None) as batch_op:
        batch_op.create_index(
            "ix_homecare_planning_runs_one_active",
            ["team_id", "week"],
            unique=True,
            sqlite_where=sa.text(ACTIVE_RUN),
            postgresql_where=sa.text(ACTIVE_RUN),
        )


def downgrade() -> None:
    with op.batch_alter_table(T, schema=None) as batch_op:
        batch_op.drop_index("ix_homecare_planning_runs_one_active")
    op.drop_table(T)
