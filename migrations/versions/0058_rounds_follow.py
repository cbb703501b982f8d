"""Dated rounds follow their template (issue 19): each round stop names the template's
stop it was made from (`permanence_id`, filled for the existing rounds by template, stop
and hours) and the appointments closure its skip made (`closure_id`); stops taken out of
a round are kept as removals for the crew's feed (`rounds_round_stop_removals`); a stop's
notice may be `restored`.

Revision ID: 0058_rounds_follow
Revises: 0055_growth_more
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "0058_rounds_follow"
down_revision: str | None = "0055_growth_more"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rounds_round_stops", schema=None) as batch_op:
        batch_op.add_column(sa.Column("permanence_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("closure_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_rounds_round_stops_permanence_id"), ["permanence_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_rounds_round_stops_permanence_id_rounds_permanences"),
            "rounds_permanences",
            ["permanence_id"],
            ["id"],
        )
    # The existing rounds' stops: the permanence of their template at that stop and hour.
    op.execute(
        "UPDATE rounds_round_stops SET permanence_id = ("
        " SELECT p.id FROM rounds_permanences p JOIN rounds_rounds r"
        " ON r.template_id = p.template_id"
        " WHERE r.id = rounds_round_stops.round_id AND p.stop_id = rounds_round_stops.stop_id"
        " AND p.starts = rounds_round_stops.planned_arrival LIMIT 1)"
        " WHERE kind = 'public_stop'"
    )
    op.create_table(
        "rounds_round_stop_removals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["users.id"],
            name=op.f("fk_rounds_round_stop_removals_changed_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["rounds_rounds.id"],
            name=op.f("fk_rounds_round_stop_removals_round_id_rounds_rounds"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_rounds_round_stop_removals_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rounds_round_stop_removals")),
    )
    with op.batch_alter_table("rounds_round_stop_removals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rounds_round_stop_removals_round_id"), ["round_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rounds_round_stop_removals_team_id"), ["team_id"], unique=False
        )
        batch_op.create_index(
            "ix_rounds_round_stop_removals_team_seq", ["team_id", "change_seq"], unique=False
        )
    with op.batch_alter_table("rounds_stop_notices", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_rounds_stop_notices_kind_known"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_rounds_stop_notices_kind_known"),
            "kind IN ('late', 'cancelled', 'restored')",
        )


def downgrade() -> None:
    op.execute("DELETE FROM rounds_stop_notices WHERE kind = 'restored'")
    with op.batch_alter_table("rounds_stop_notices", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_rounds_stop_notices_kind_known"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_rounds_stop_notices_kind_known"), "kind IN ('late', 'cancelled')"
        )
    with op.batch_alter_table("rounds_round_stop_removals", schema=None) as batch_op:
        batch_op.drop_index("ix_rounds_round_stop_removals_team_seq")
        batch_op.drop_index(batch_op.f("ix_rounds_round_stop_removals_team_id"))
        batch_op.drop_index(batch_op.f("ix_rounds_round_stop_removals_round_id"))
    op.drop_table("rounds_round_stop_removals")
    with op.batch_alter_table("rounds_round_stops", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_rounds_round_stops_permanence_id_rounds_permanences"),
            type_="foreignkey",
        )
        batch_op.drop_index(batch_op.f("ix_rounds_round_stops_permanence_id"))
        batch_op.drop_column("closure_id")
        batch_op.drop_column("permanence_id")
