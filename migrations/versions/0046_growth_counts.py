"""The SMS outbox's counts kept by the database (issue 20, growth), and a partial index
of the reminders by subject (the appointment indicators): how many messages
each contact has per category and state, maintained by triggers on `sms_messages` in the
transaction that inserts, updates or deletes a message, so the outbox's counts and pager
read a few hundred rows instead of counting the whole outbox.

PostgreSQL: one trigger per statement (transition tables), the statement's changes
summed per key and applied in key order (`ON CONFLICT ... DO UPDATE`): a bulk update
takes the count rows' locks in one order, as every other statement does. SQLite: one
trigger per row (SQLite has no statement triggers; its writers take turns anyway).

No foreign key to the contact: deleting a contact deletes its messages (cascade), whose
triggers bring its counts to 0, in whatever order the database runs the cascades.

Revision ID: 0046_growth_counts
Revises: 0047_rounds_dated
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0046_growth_counts"
down_revision: str | None = "0047_rounds_dated"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTGRESQL = (
    """
    CREATE FUNCTION sms_message_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        INSERT INTO sms_message_counts AS c (contact_id, category, status, messages)
        SELECT contact_id, category, status, count(*) FROM new_rows GROUP BY contact_id, category, status ORDER BY contact_id, category, status
        ON CONFLICT (contact_id, category, status) DO UPDATE SET messages = c.messages + EXCLUDED.messages;
      ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO sms_message_counts AS c (contact_id, category, status, messages)
        SELECT contact_id, category, status, -count(*) FROM old_rows GROUP BY contact_id, category, status ORDER BY contact_id, category, status
        ON CONFLICT (contact_id, category, status) DO UPDATE SET messages = c.messages + EXCLUDED.messages;
      ELSE
        INSERT INTO sms_message_counts AS c (contact_id, category, status, messages)
        SELECT contact_id, category, status, sum(change) FROM (
          SELECT contact_id, category, status, 1 AS change FROM new_rows
          UNION ALL
          SELECT contact_id, category, status, -1 AS change FROM old_rows
        ) AS changes
        GROUP BY contact_id, category, status HAVING sum(change) <> 0 ORDER BY contact_id, category, status
        ON CONFLICT (contact_id, category, status) DO UPDATE SET messages = c.messages + EXCLUDED.messages;
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER sms_message_counts_insert AFTER INSERT ON sms_messages
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sms_message_counts_apply()
    """,
    """
    CREATE TRIGGER sms_message_counts_update AFTER UPDATE ON sms_messages
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sms_message_counts_apply()
    """,
    """
    CREATE TRIGGER sms_message_counts_delete AFTER DELETE ON sms_messages
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sms_message_counts_apply()
    """,
)

_ADD = (
    "INSERT INTO sms_message_counts (contact_id, category, status, messages) "
    "VALUES (NEW.contact_id, NEW.category, NEW.status, 1) "
    "ON CONFLICT (contact_id, category, status) DO UPDATE SET messages = messages + 1;"
)
_REMOVE = (
    "UPDATE sms_message_counts SET messages = messages - 1 "
    "WHERE contact_id = OLD.contact_id AND category = OLD.category AND status = OLD.status;"
)
SQLITE = (
    f"CREATE TRIGGER sms_message_counts_insert AFTER INSERT ON sms_messages BEGIN {_ADD} END",
    "CREATE TRIGGER sms_message_counts_update AFTER UPDATE OF contact_id, category, status "
    "ON sms_messages WHEN OLD.contact_id IS NOT NEW.contact_id "
    "OR OLD.category IS NOT NEW.category OR OLD.status IS NOT NEW.status "
    f"BEGIN {_REMOVE} {_ADD} END",
    f"CREATE TRIGGER sms_message_counts_delete AFTER DELETE ON sms_messages BEGIN {_REMOVE} END",
)


def upgrade() -> None:
    op.create_table(
        "sms_message_counts",
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("messages", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "contact_id", "category", "status", name=op.f("pk_sms_message_counts")
        ),
    )
    op.execute(
        "INSERT INTO sms_message_counts (contact_id, category, status, messages) "
        "SELECT contact_id, category, status, count(*) FROM sms_messages GROUP BY contact_id, category, status"
    )
    dialect = op.get_bind().dialect.name
    for statement in POSTGRESQL if dialect == "postgresql" else SQLITE:
        op.execute(statement)
    # The appointment indicators' reminders, by subject (the LIKE on every reminder of
    # the outbox it replaces read them all).
    where = sa.text("category = 'reminder' AND subject IS NOT NULL")
    op.create_index(
        "ix_sms_messages_reminder_subject",
        "sms_messages",
        ["subject"],
        postgresql_where=where,
        sqlite_where=where,
    )


def downgrade() -> None:
    op.drop_index("ix_sms_messages_reminder_subject", table_name="sms_messages")
    for name in ("insert", "update", "delete"):
        op.execute(
            f"DROP TRIGGER sms_message_counts_{name}"
            + (" ON sms_messages" if op.get_bind().dialect.name == "postgresql" else "")
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION sms_message_counts_apply()")
    op.drop_table("sms_message_counts")
