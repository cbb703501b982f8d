"""Outreach: notes on a place ("ask the night guard; come before 7").

Revision ID: 0010_place_notes
Revises: 0009_service_texts
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_place_notes"
down_revision: str | None = "0009_service_texts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outreach_places", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notes", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("outreach_places", schema=None) as batch_op:
        batch_op.drop_column("notes")
