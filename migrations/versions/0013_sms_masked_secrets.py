"""SMS: one-time codes and manage links kept masked in the outbox.

Adds `sms_messages.secret_slots` (where the masks sit and the seeds the dispatcher
derives the secrets from, notifications.masking) and masks what older rows hold in
clear: the 6-digit code of a `phone-check:<id>` message becomes `••••••`, the token of
a `…/r/<token>` link becomes `…`. Such a row still waiting (`pending`, or `sending`
when the upgrade stopped a dispatcher mid-send) cannot be sent any more (its code or
token was random and only its hash is kept): it becomes `cancelled` with the reason
`secret_masked` and a history event. A person then asks for a new code; a lost
confirmation does not lose the appointment (its reminders still come, and staff see
it on the desk). The masking cannot be undone: the downgrade only drops the column.

Revision ID: 0013_sms_masked_secrets
Revises: 0012_waiting_list_once
Create Date: 2026-12-05
"""

import re
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision: str = "0013_sms_masked_secrets"
down_revision: str | None = "0012_waiting_list_once"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CODE = re.compile(r"(?<![0-9])[0-9]{6}(?![0-9])")
LINK = re.compile(r"/r/[A-Za-z0-9_-]+")
BATCH = 500

messages = sa.table(
    "sms_messages",
    sa.column("id", sa.Integer),
    sa.column("key", sa.String),
    sa.column("body", sa.Text),
    sa.column("status", sa.String),
    sa.column("status_at", UTCDateTime(timezone=True)),
    sa.column("error_code", sa.String),
)
events = sa.table(
    "sms_message_events",
    sa.column("message_id", sa.Integer),
    sa.column("at", UTCDateTime(timezone=True)),
    sa.column("status", sa.String),
    sa.column("source", sa.String),
    sa.column("error_code", sa.String),
)


def masked(key: str, body: str) -> str:
    """The body with its code (a phone check's message) or manage-link tokens masked."""
    if key.startswith("phone-check:"):
        return CODE.sub("••••••", body)
    return LINK.sub("/r/…", body)


def upgrade() -> None:
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("secret_slots", sa.JSON(), nullable=True))
    bind = op.get_bind()
    now = datetime.now(UTC)
    last_id = 0
    while True:
        rows = bind.execute(
            sa.select(messages.c.id, messages.c.key, messages.c.body, messages.c.status)
            .where(
                messages.c.id > last_id,
                # Only the messages that carry a code or a manage link: a broadcast may
                # hold some other site's "/r/" path, which stays as it is.
                sa.or_(
                    messages.c.key.like("phone-check:%"),
                    messages.c.key.like("confirmation:%"),
                    messages.c.key.like("changed:%"),
                ),
            )
            .order_by(messages.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        last_id = rows[-1].id
        for row in rows:
            body = masked(row.key, row.body)
            if body == row.body:
                continue
            values: dict[str, object] = {"body": body}
            if row.status in ("pending", "sending"):
                values.update(status="cancelled", status_at=now, error_code="secret_masked")
                bind.execute(
                    events.insert().values(
                        message_id=row.id,
                        at=now,
                        status="cancelled",
                        source="job",
                        error_code="secret_masked",
                    )
                )
            bind.execute(messages.update().where(messages.c.id == row.id).values(**values))


def downgrade() -> None:
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.drop_column("secret_slots")
