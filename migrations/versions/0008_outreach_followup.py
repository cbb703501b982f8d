"""Street outreach follow-up: maraudes, ETHOS, minors' alerts, partners and referrals,
consent and identity, merges, retention settings and purge reports.

Revision ID: 0008_outreach_followup
Revises: 0007_phone_checks
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "0008_outreach_followup"
down_revision: str | None = "0007_phone_checks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outreach_partners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=30), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_partners")),
    )
    op.create_table(
        "outreach_retention_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("anonymous_months", sa.Integer(), nullable=False),
        sa.Column("named_months", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_retention_settings")),
    )
    op.create_table(
        "outreach_maraudes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("area", sa.String(length=120), nullable=False),
        sa.Column("member_ids", sa.JSON(), nullable=False),
        sa.Column("started_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("km", sa.Float(), nullable=True),
        sa.Column("incidents", sa.Text(), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("km IS NULL OR km >= 0", name=op.f("ck_outreach_maraudes_km_positive")),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["users.id"], name=op.f("fk_outreach_maraudes_changed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["started_by_id"], ["users.id"], name=op.f("fk_outreach_maraudes_started_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_outreach_maraudes_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_maraudes")),
    )
    with op.batch_alter_table("outreach_maraudes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outreach_maraudes_team_seq", ["team_id", "change_seq"], unique=False
        )
        batch_op.create_index(
            "ix_outreach_maraudes_team_started", ["team_id", "started_at"], unique=False
        )

    op.create_table(
        "outreach_purge_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ran_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ran_by_id", sa.Integer(), nullable=True),
        sa.Column("anonymous_cutoff", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("named_cutoff", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ran_by_id"], ["users.id"], name=op.f("fk_outreach_purge_reports_ran_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_purge_reports")),
    )
    with op.batch_alter_table("outreach_purge_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outreach_purge_reports_ran_at"), ["ran_at"], unique=False
        )

    op.create_table(
        "outreach_team_settings",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("protective_user_id", sa.Integer(), nullable=True),
        sa.Column("protective_contact", sa.String(length=200), nullable=False),
        sa.Column("anonymous_retention_months", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["protective_user_id"],
            ["users.id"],
            name=op.f("fk_outreach_team_settings_protective_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_outreach_team_settings_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_outreach_team_settings")),
    )
    op.create_table(
        "outreach_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("given_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("withdrawn_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["outreach_people.id"],
            name=op.f("fk_outreach_consents_person_id_outreach_people"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_outreach_consents_recorded_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["withdrawn_by_id"],
            ["users.id"],
            name=op.f("fk_outreach_consents_withdrawn_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_consents")),
    )
    with op.batch_alter_table("outreach_consents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outreach_consents_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "outreach_merges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("survivor_id", sa.Uuid(), nullable=False),
        sa.Column("merged_id", sa.Uuid(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("merged_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("merged_by_id", sa.Integer(), nullable=False),
        sa.Column("undone_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("undone_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["merged_by_id"], ["users.id"], name=op.f("fk_outreach_merges_merged_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["merged_id"],
            ["outreach_people.id"],
            name=op.f("fk_outreach_merges_merged_id_outreach_people"),
        ),
        sa.ForeignKeyConstraint(
            ["survivor_id"],
            ["outreach_people.id"],
            name=op.f("fk_outreach_merges_survivor_id_outreach_people"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_outreach_merges_team_id_teams")
        ),
        sa.ForeignKeyConstraint(
            ["undone_by_id"], ["users.id"], name=op.f("fk_outreach_merges_undone_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_merges")),
    )
    with op.batch_alter_table("outreach_merges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outreach_merges_merged_id"), ["merged_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_outreach_merges_survivor_id"), ["survivor_id"], unique=False
        )

    op.create_table(
        "outreach_referrals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("to_team_id", sa.Integer(), nullable=True),
        sa.Column("service_code", sa.String(length=40), nullable=False),
        sa.Column("need", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("proposed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("proposed_by_id", sa.Integer(), nullable=False),
        sa.Column("accepted_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("accepted_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(partner_id IS NULL) <> (to_team_id IS NULL)",
            name=op.f("ck_outreach_referrals_one_destination"),
        ),
        sa.ForeignKeyConstraint(
            ["accepted_by_id"],
            ["users.id"],
            name=op.f("fk_outreach_referrals_accepted_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["users.id"], name=op.f("fk_outreach_referrals_closed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["outreach_partners.id"],
            name=op.f("fk_outreach_referrals_partner_id_outreach_partners"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["outreach_people.id"],
            name=op.f("fk_outreach_referrals_person_id_outreach_people"),
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"],
            ["users.id"],
            name=op.f("fk_outreach_referrals_proposed_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_outreach_referrals_team_id_teams")
        ),
        sa.ForeignKeyConstraint(
            ["to_team_id"], ["teams.id"], name=op.f("fk_outreach_referrals_to_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_referrals")),
    )
    with op.batch_alter_table("outreach_referrals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outreach_referrals_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(
            "ix_outreach_referrals_team_proposed", ["team_id", "proposed_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_outreach_referrals_to_team_id"), ["to_team_id"], unique=False
        )

    op.create_table(
        "outreach_identities",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("first_name", sa.String(length=80), nullable=False),
        sa.Column("last_name", sa.String(length=80), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("niss", sa.String(length=11), nullable=True),
        sa.Column("consent_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consent_id"],
            ["outreach_consents.id"],
            name=op.f("fk_outreach_identities_consent_id_outreach_consents"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["outreach_people.id"],
            name=op.f("fk_outreach_identities_person_id_outreach_people"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_outreach_identities_recorded_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_outreach_identities")),
    )
    op.create_table(
        "outreach_minor_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("encounter_id", sa.Uuid(), nullable=False),
        sa.Column("alert_user_id", sa.Integer(), nullable=True),
        sa.Column("alert_contact", sa.String(length=200), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"],
            ["users.id"],
            name=op.f("fk_outreach_minor_alerts_acknowledged_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["alert_user_id"],
            ["users.id"],
            name=op.f("fk_outreach_minor_alerts_alert_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["encounter_id"],
            ["outreach_encounters.id"],
            name=op.f("fk_outreach_minor_alerts_encounter_id_outreach_encounters"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["outreach_people.id"],
            name=op.f("fk_outreach_minor_alerts_person_id_outreach_people"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_outreach_minor_alerts_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_minor_alerts")),
    )
    with op.batch_alter_table("outreach_minor_alerts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outreach_minor_alerts_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_outreach_minor_alerts_team_id"), ["team_id"], unique=False
        )

    with op.batch_alter_table("outreach_encounters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("maraude_id", sa.Uuid(), nullable=True))
        # Existing rows get a value; the default is dropped below (the model has none).
        batch_op.add_column(
            sa.Column("ethos", sa.String(length=10), nullable=False, server_default="unknown")
        )
        batch_op.create_index(
            batch_op.f("ix_outreach_encounters_maraude_id"), ["maraude_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_outreach_encounters_maraude_id_outreach_maraudes"),
            "outreach_maraudes",
            ["maraude_id"],
            ["id"],
        )

    with op.batch_alter_table("outreach_people", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("minor", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("merged_into_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_outreach_people_merged_into_id_outreach_people"),
            "outreach_people",
            ["merged_into_id"],
            ["id"],
        )

    with op.batch_alter_table("outreach_encounters", schema=None) as batch_op:
        batch_op.alter_column("ethos", server_default=None)
    with op.batch_alter_table("outreach_people", schema=None) as batch_op:
        batch_op.alter_column("minor", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("outreach_people", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_outreach_people_merged_into_id_outreach_people"), type_="foreignkey"
        )
        batch_op.drop_column("merged_into_id")
        batch_op.drop_column("minor")

    with op.batch_alter_table("outreach_encounters", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_outreach_encounters_maraude_id_outreach_maraudes"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_outreach_encounters_maraude_id"))
        batch_op.drop_column("ethos")
        batch_op.drop_column("maraude_id")

    with op.batch_alter_table("outreach_minor_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outreach_minor_alerts_team_id"))
        batch_op.drop_index(batch_op.f("ix_outreach_minor_alerts_person_id"))

    op.drop_table("outreach_minor_alerts")
    op.drop_table("outreach_identities")
    with op.batch_alter_table("outreach_referrals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outreach_referrals_to_team_id"))
        batch_op.drop_index("ix_outreach_referrals_team_proposed")
        batch_op.drop_index(batch_op.f("ix_outreach_referrals_person_id"))

    op.drop_table("outreach_referrals")
    with op.batch_alter_table("outreach_merges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outreach_merges_survivor_id"))
        batch_op.drop_index(batch_op.f("ix_outreach_merges_merged_id"))

    op.drop_table("outreach_merges")
    with op.batch_alter_table("outreach_consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outreach_consents_person_id"))

    op.drop_table("outreach_consents")
    op.drop_table("outreach_team_settings")
    with op.batch_alter_table("outreach_purge_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outreach_purge_reports_ran_at"))

    op.drop_table("outreach_purge_reports")
    with op.batch_alter_table("outreach_maraudes", schema=None) as batch_op:
        batch_op.drop_index("ix_outreach_maraudes_team_started")
        batch_op.drop_index("ix_outreach_maraudes_team_seq")

    op.drop_table("outreach_maraudes")
    op.drop_table("outreach_retention_settings")
    op.drop_table("outreach_partners")
