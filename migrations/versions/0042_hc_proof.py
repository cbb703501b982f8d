"""The aide's phone, proof (issue 18): household proof cards (short code + QR, rotated),
the "code" proof mode, and on each visit report the code given, the phone's clock
offset and time flag, and the over/under-run reason.

Revision ID: 0042_hc_proof
Revises: 0043_hc_live
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "0042_hc_proof"
down_revision: str | None = "0043_hc_live"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "homecare_proof_cards",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("beneficiary_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("issued_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=False),
        sa.Column("replaced_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"],
            ["homecare_beneficiaries.id"],
            name=op.f("fk_homecare_proof_cards_beneficiary_id_homecare_beneficiaries"),
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_id"], ["users.id"], name=op.f("fk_homecare_proof_cards_issued_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_homecare_proof_cards_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_homecare_proof_cards")),
        sa.UniqueConstraint("team_id", "code", name="code_unique_in_team"),
    )
    op.create_index(
        "ix_homecare_proof_cards_current",
        "homecare_proof_cards",
        ["beneficiary_id"],
        unique=True,
        sqlite_where=sa.text("replaced_at IS NULL"),
        postgresql_where=sa.text("replaced_at IS NULL"),
    )
    with op.batch_alter_table("homecare_proof_rules", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_homecare_proof_rules_proof_mode_known"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_homecare_proof_rules_proof_mode_known"), "mode IN ('none', 'code', 'gps')"
        )
    with op.batch_alter_table("homecare_visit_reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("proof_code", sa.String(16), nullable=True))
        batch_op.add_column(sa.Column("clock_offset_s", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("time_flag", sa.String(20), nullable=True))
        batch_op.add_column(sa.Column("variance_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("variance_reason", sa.String(20), nullable=True))
        batch_op.add_column(
            sa.Column("variance_note", sa.Text(), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("homecare_visit_reports", schema=None) as batch_op:
        for name in (
            "variance_note",
            "variance_reason",
            "variance_minutes",
            "time_flag",
            "clock_offset_s",
            "proof_code",
        ):
            batch_op.drop_column(name)
    with op.batch_alter_table("homecare_proof_rules", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_homecare_proof_rules_proof_mode_known"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_homecare_proof_rules_proof_mode_known"), "mode IN ('none', 'gps')"
        )
    op.drop_index("ix_homecare_proof_cards_current", table_name="homecare_proof_cards")
    op.drop_table("homecare_proof_cards")
