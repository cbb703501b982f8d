"""Antenne-local roles (issue 15): an administrator may grant a reception agent or a
social worker the desks, agendas and contacts of more teams of the same CPAS
(`user_team_grants`); without a grant they see their own antenne's only.

Revision ID: 0039_cpas_admin
Revises: 0037_growth_indexes (the lead re-chains)
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0039_cpas_admin"
down_revision: str | None = "0037_growth_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_team_grants",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_team_grants_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_user_team_grants_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("user_id", "team_id", name=op.f("pk_user_team_grants")),
    )


def downgrade() -> None:
    op.drop_table("user_team_grants")
