"""Teams: their name in Dutch (`teams.name_nl`), for Dutch-speaking staff.

Empty for existing teams (the French name is shown until one is given); the demo's
seed fills the Dutch names of its own teams.

Revision ID: 0018_team_name_nl
Revises: 0013_sms_masked_secrets
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_team_name_nl"
down_revision: str | None = "0013_sms_masked_secrets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("teams") as batch_op:
        batch_op.add_column(
            sa.Column("name_nl", sa.String(length=120), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("teams") as batch_op:
        batch_op.drop_column("name_nl")
