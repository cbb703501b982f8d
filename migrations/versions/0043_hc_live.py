"""The coordinator's live day (issue 18): which validation made a visit count (the
aide's verified report, the coordinator's review of an unverified one, or her own "mark
done"), and the review of an unverified report (accepted, corrected or rejected, why,
by whom, when).

Revision ID: 0043_hc_live
Revises: 0040_hc_finish
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "0043_hc_live"
down_revision: str | None = "0040_hc_finish"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("homecare_visits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("validation", sa.String(12), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_homecare_visits_validation_known"),
            "validation IS NULL OR validation IN ('report', 'review', 'coordinator')",
        )
    # Visits done before: by a verified report of the aide's phone, else by the
    # coordinator's "mark done".
    op.execute(
        "UPDATE homecare_visits SET validation = CASE WHEN EXISTS (SELECT 1 FROM "
        "homecare_visit_reports r WHERE r.visit_id = homecare_visits.id AND r.verified "
        "AND r.submitted AND r.outcome = 'normal') THEN 'report' ELSE 'coordinator' END "
        "WHERE status = 'done'"
    )
    with op.batch_alter_table("homecare_visit_reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review", sa.String(10), nullable=True))
        batch_op.add_column(sa.Column("review_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("reviewed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("reviewed_at", core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_homecare_visit_reports_reviewed_by_id_users"),
            "users",
            ["reviewed_by_id"],
            ["id"],
        )
        batch_op.create_check_constraint(
            op.f("ck_homecare_visit_reports_review_known"),
            "review IS NULL OR review IN ('accepted', 'corrected', 'rejected')",
        )


def downgrade() -> None:
    with op.batch_alter_table("homecare_visit_reports", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_homecare_visit_reports_review_known"), type_="check"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_homecare_visit_reports_reviewed_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("reviewed_by_id")
        batch_op.drop_column("review_reason")
        batch_op.drop_column("review")
    with op.batch_alter_table("homecare_visits", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_homecare_visits_validation_known"), type_="check")
        batch_op.drop_column("validation")
