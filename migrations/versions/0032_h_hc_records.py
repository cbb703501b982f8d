"""Who recorded the household's agreement to share its carnet de vie (issue 17 pages):
`homecare_beneficiaries.life_book_sharing_agreed_by_id`, next to the date.

Revision ID: 0032_h_hc_records
Revises: 0031_hc_board
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032_h_hc_records"
down_revision: str | None = "0031_hc_board"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("homecare_beneficiaries") as batch_op:
        batch_op.add_column(
            sa.Column("life_book_sharing_agreed_by_id", sa.Integer(), nullable=True)
        )
        batch_op.create_foreign_key(
            op.f("fk_homecare_beneficiaries_life_book_sharing_agreed_by_id_users"),
            "users",
            ["life_book_sharing_agreed_by_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("homecare_beneficiaries") as batch_op:
        batch_op.drop_constraint(
            op.f("fk_homecare_beneficiaries_life_book_sharing_agreed_by_id_users"),
            type_="foreignkey",
        )
        batch_op.drop_column("life_book_sharing_agreed_by_id")
