"""Indexes the growth bench's query plans asked for (issue 20): a team's encounters and
people newest first, the SMS outbox by creation time, appointments by start.

Revision ID: 0037_growth_indexes
Revises: 0036_rounds
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0037_growth_indexes"
down_revision: str | None = "0036_rounds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_outreach_encounters_team_at", "outreach_encounters", ["team_id", "occurred_at"]),
    ("ix_outreach_people_team_seen", "outreach_people", ["team_id", "last_seen_at"]),
    ("ix_sms_messages_created", "sms_messages", ["created_at", "id"]),
    ("ix_appointments_start", "appointments", ["start_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in INDEXES:
        op.drop_index(name, table_name=table)
