"""The protective path for minors names several people (issue 16): the team's one
`protective_user_id` moves to outreach_protective_people, and each alert's one
`alert_user_id` to outreach_minor_alert_recipients; both columns go.

Revision ID: 0021_protective_people
Revises: 0020_homecare
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_protective_people"
down_revision: str | None = "0020_homecare"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outreach_protective_people",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_outreach_protective_people_team_id_teams")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_outreach_protective_people_user_id_users")
        ),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_outreach_protective_people")),
    )
    op.create_table(
        "outreach_minor_alert_recipients",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["outreach_minor_alerts.id"],
            name=op.f("fk_outreach_minor_alert_recipients_alert_id_outreach_minor_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_outreach_minor_alert_recipients_user_id_users"),
        ),
        sa.PrimaryKeyConstraint(
            "alert_id", "user_id", name=op.f("pk_outreach_minor_alert_recipients")
        ),
    )
    with op.batch_alter_table("outreach_minor_alert_recipients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outreach_minor_alert_recipients_user_id"), ["user_id"], unique=False
        )
    op.execute(
        "INSERT INTO outreach_protective_people (team_id, user_id) SELECT team_id,"
        " protective_user_id FROM outreach_team_settings WHERE protective_user_id IS NOT NULL"
    )
    op.execute(
        "INSERT INTO outreach_minor_alert_recipients (alert_id, user_id) SELECT id,"
        " alert_user_id FROM outreach_minor_alerts WHERE alert_user_id IS NOT NULL"
    )
    with op.batch_alter_table("outreach_team_settings", schema=None) as batch_op:
        batch_op.drop_constraint(
            "fk_outreach_team_settings_protective_user_id_users", type_="foreignkey"
        )
        batch_op.drop_column("protective_user_id")
    with op.batch_alter_table("outreach_minor_alerts", schema=None) as batch_op:
        batch_op.drop_constraint("fk_outreach_minor_alerts_alert_user_id_users", type_="foreignkey")
        batch_op.drop_column("alert_user_id")


def downgrade() -> None:
    # Back to one person: the first named (lowest id) of each team and alert.
    with op.batch_alter_table("outreach_minor_alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alert_user_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_outreach_minor_alerts_alert_user_id_users", "users", ["alert_user_id"], ["id"]
        )
    with op.batch_alter_table("outreach_team_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("protective_user_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_outreach_team_settings_protective_user_id_users",
            "users",
            ["protective_user_id"],
            ["id"],
        )
    op.execute(
        "UPDATE outreach_minor_alerts SET alert_user_id = (SELECT min(r.user_id) FROM"
        " outreach_minor_alert_recipients r WHERE r.alert_id = outreach_minor_alerts.id)"
    )
    op.execute(
        "UPDATE outreach_team_settings SET protective_user_id = (SELECT min(p.user_id) FROM"
        " outreach_protective_people p WHERE p.team_id = outreach_team_settings.team_id)"
    )
    with op.batch_alter_table("outreach_minor_alert_recipients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outreach_minor_alert_recipients_user_id"))
    op.drop_table("outreach_minor_alert_recipients")
    op.drop_table("outreach_protective_people")
