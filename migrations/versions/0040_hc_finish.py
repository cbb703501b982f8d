"""Home care transfers (issue 17): a care plan needing two aides at once, carried to its
visits, and the second aide planned on a visit.

Revision ID: 0040_hc_finish
Revises: 0035_aide_phone
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0040_hc_finish"
down_revision: str | None = "0035_aide_phone"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("homecare_care_plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("aides", sa.Integer(), server_default="1", nullable=False))
        batch_op.create_check_constraint(
            op.f("ck_homecare_care_plans_aides_one_or_two"), "aides IN (1, 2)"
        )
    with op.batch_alter_table("homecare_visits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("aides", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("second_aide_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_homecare_visits_second_aide_id_users"),
            "users",
            ["second_aide_id"],
            ["id"],
        )
        batch_op.create_index(
            batch_op.f("ix_homecare_visits_second_aide_id"), ["second_aide_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("homecare_visits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_homecare_visits_second_aide_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_homecare_visits_second_aide_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("second_aide_id")
        batch_op.drop_column("aides")
    with op.batch_alter_table("homecare_care_plans", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_homecare_care_plans_aides_one_or_two"), type_="check")
        batch_op.drop_column("aides")
