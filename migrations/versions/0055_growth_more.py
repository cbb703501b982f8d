# ruff: noqa: S608
"""The monthly SMS report's figures kept by the database (issue 20, growth): per UTC month
of `created_at`, contact, category, state, error code and whether the operator has the
message, how many messages, their segments, the price the operator gave and the
segments of those without one; maintained by triggers on `sms_messages` in the
transaction that inserts, updates or deletes a message, so the report reads the month's
few summary rows instead of the month's messages (80,000 at 100× the demo).

As `sms_message_counts` (0046): PostgreSQL, one trigger per statement (transition
tables), the statement's changes summed per key and applied in key order; an update
that moves no figure (attempts, claims) writes nothing. SQLite: one trigger per row.
No foreign key to the contact: its messages' deletion brings its figures to 0.

Revision ID: 0055_growth_more
Revises: 0052_cpas_place_team
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0055_growth_more"
down_revision: str | None = "0052_cpas_place_team"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Constant SQL text only, never a value (hence the file-wide noqa: S608 above).
KEY = "month, contact_id, category, status, error_code, handed_over"
SUMS = "messages, segments, price, unpriced_segments"
# One row of a transition table as (key..., sign): its contribution to its figures.
_ROW = (
    "SELECT CAST(date_trunc('month', created_at AT TIME ZONE 'UTC') AS date) AS month, "
    "contact_id, category, status, coalesce(error_code, '') AS error_code, "
    "provider_id IS NOT NULL AS handed_over, segments, price, {sign} AS sign FROM {rows}"
)
_APPLY = (
    f"INSERT INTO sms_month_figures AS f ({KEY}, {SUMS}) "
    f"SELECT {KEY}, sum(sign), sum(sign * segments), sum(sign * coalesce(price, 0)), "
    "sum(CASE WHEN price IS NULL THEN sign * segments ELSE 0 END) "
    "FROM ({changes}) AS changes "
    f"GROUP BY {KEY} "
    "HAVING sum(sign) <> 0 OR sum(sign * segments) <> 0 OR sum(sign * coalesce(price, 0)) <> 0 "
    "OR sum(CASE WHEN price IS NULL THEN sign * segments ELSE 0 END) <> 0 "
    f"ORDER BY {KEY} "
    f"ON CONFLICT ({KEY}) DO UPDATE SET messages = f.messages + EXCLUDED.messages, "
    "segments = f.segments + EXCLUDED.segments, price = f.price + EXCLUDED.price, "
    "unpriced_segments = f.unpriced_segments + EXCLUDED.unpriced_segments;"
)
_NEW = _ROW.format(sign=1, rows="new_rows")
_OLD = _ROW.format(sign=-1, rows="old_rows")
POSTGRESQL = (
    f"""
    CREATE FUNCTION sms_month_figures_apply() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        {_APPLY.format(changes=_NEW)}
      ELSIF TG_OP = 'DELETE' THEN
        {_APPLY.format(changes=_OLD)}
      ELSE
        {_APPLY.format(changes=_NEW + " UNION ALL " + _OLD)}
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER sms_month_figures_insert AFTER INSERT ON sms_messages
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sms_month_figures_apply()
    """,
    """
    CREATE TRIGGER sms_month_figures_update AFTER UPDATE ON sms_messages
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sms_month_figures_apply()
    """,
    """
    CREATE TRIGGER sms_month_figures_delete AFTER DELETE ON sms_messages
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sms_month_figures_apply()
    """,
)


def _sqlite_key(row: str) -> str:
    # SQLite keeps UTC moments as naive text ("2026-12-06 05:52:19.000000").
    return (
        f"substr({row}.created_at, 1, 7) || '-01', {row}.contact_id, {row}.category, "
        f"{row}.status, coalesce({row}.error_code, ''), {row}.provider_id IS NOT NULL"
    )


_SQLITE_ADD = (
    f"INSERT INTO sms_month_figures ({KEY}, {SUMS}) "
    f"VALUES ({_sqlite_key('NEW')}, 1, NEW.segments, coalesce(NEW.price, 0), "
    "CASE WHEN NEW.price IS NULL THEN NEW.segments ELSE 0 END) "
    f"ON CONFLICT ({KEY}) DO UPDATE SET messages = messages + 1, "
    "segments = segments + excluded.segments, price = price + excluded.price, "
    "unpriced_segments = unpriced_segments + excluded.unpriced_segments;"
)
_SQLITE_REMOVE = (
    "UPDATE sms_month_figures SET messages = messages - 1, segments = segments - OLD.segments, "
    "price = price - coalesce(OLD.price, 0), unpriced_segments = unpriced_segments "
    "- CASE WHEN OLD.price IS NULL THEN OLD.segments ELSE 0 END "
    f"WHERE ({KEY}) = ({_sqlite_key('OLD')});"
)
_FIGURE_COLUMNS = (
    "created_at",
    "contact_id",
    "category",
    "status",
    "error_code",
    "provider_id",
    "segments",
    "price",
)
SQLITE = (
    f"CREATE TRIGGER sms_month_figures_insert AFTER INSERT ON sms_messages BEGIN {_SQLITE_ADD} END",
    f"CREATE TRIGGER sms_month_figures_update AFTER UPDATE OF {', '.join(_FIGURE_COLUMNS)} "
    "ON sms_messages WHEN "
    + " OR ".join(f"OLD.{name} IS NOT NEW.{name}" for name in _FIGURE_COLUMNS)
    + f" BEGIN {_SQLITE_REMOVE} {_SQLITE_ADD} END",
    "CREATE TRIGGER sms_month_figures_delete AFTER DELETE ON sms_messages "
    f"BEGIN {_SQLITE_REMOVE} END",
)


def upgrade() -> None:
    op.create_table(
        "sms_month_figures",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("error_code", sa.String(length=40), nullable=False),
        sa.Column("handed_over", sa.Boolean(), nullable=False),
        sa.Column("messages", sa.BigInteger(), nullable=False),
        sa.Column("segments", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.Numeric(precision=16, scale=4), nullable=False),
        sa.Column("unpriced_segments", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "month",
            "contact_id",
            "category",
            "status",
            "error_code",
            "handed_over",
            name=op.f("pk_sms_month_figures"),
        ),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        changes = _NEW.replace("new_rows", "sms_messages")
    else:
        changes = (
            "SELECT substr(created_at, 1, 7) || '-01' AS month, contact_id, category, status, "
            "coalesce(error_code, '') AS error_code, provider_id IS NOT NULL AS handed_over, "
            "segments, price, 1 AS sign FROM sms_messages"
        )
    op.execute(
        f"INSERT INTO sms_month_figures ({KEY}, {SUMS}) "
        f"SELECT {KEY}, sum(sign), sum(sign * segments), sum(sign * coalesce(price, 0)), "
        "sum(CASE WHEN price IS NULL THEN sign * segments ELSE 0 END) "
        f"FROM ({changes}) AS changes GROUP BY {KEY}"
    )
    for statement in POSTGRESQL if dialect == "postgresql" else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in ("insert", "update", "delete"):
        op.execute(
            f"DROP TRIGGER sms_month_figures_{name}" + (" ON sms_messages" if postgresql else "")
        )
    if postgresql:
        op.execute("DROP FUNCTION sms_month_figures_apply()")
    op.drop_table("sms_month_figures")
