"""Notifications: SMS contacts, consent per category, templates, outbox, inbound SMS, broadcasts.

Revision ID: 0003_notifications
Revises: 0002_sync_outreach
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

revision: str = "0003_notifications"
down_revision: str | None = "0002_sync_outreach"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("reference", sa.String(length=80), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "language IS NULL OR language IN ('fr', 'nl', 'en')",
            name=op.f("ck_notification_contacts_language"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notification_contacts_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_contacts")),
        sa.UniqueConstraint("reference", name=op.f("uq_notification_contacts_reference")),
        sa.UniqueConstraint("user_id", name=op.f("uq_notification_contacts_user_id")),
    )
    op.create_table(
        "sms_broadcasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("audience", sa.String(length=40), nullable=False),
        sa.Column("audience_params", sa.JSON(), nullable=False),
        sa.Column("audience_label", sa.String(length=200), nullable=False),
        sa.Column("bodies", sa.JSON(), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("excluded", sa.JSON(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("expanded_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "category IN ('reminder', 'service_change', 'information')",
            name=op.f("ck_sms_broadcasts_category"),
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'done', 'cancelled')",
            name=op.f("ck_sms_broadcasts_status"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_sms_broadcasts_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_broadcasts")),
    )
    op.create_table(
        "sms_category_settings",
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("quiet_from", sa.Integer(), nullable=False),
        sa.Column("quiet_until", sa.Integer(), nullable=False),
        sa.Column("urgent_may_bypass", sa.Boolean(), nullable=False),
        sa.Column("validity_hours", sa.Integer(), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "category IN ('reminder', 'service_change', 'information', 'verification')",
            name=op.f("ck_sms_category_settings_category"),
        ),
        sa.CheckConstraint(
            "quiet_from BETWEEN 0 AND 1439", name=op.f("ck_sms_category_settings_quiet_from_range")
        ),
        sa.CheckConstraint(
            "quiet_until BETWEEN 0 AND 1439",
            name=op.f("ck_sms_category_settings_quiet_until_range"),
        ),
        sa.CheckConstraint(
            "validity_hours BETWEEN 1 AND 72", name=op.f("ck_sms_category_settings_validity_range")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_sms_category_settings_updated_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("category", name=op.f("pk_sms_category_settings")),
    )
    op.create_table(
        "sms_templates",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "language IN ('fr', 'nl', 'en')", name=op.f("ck_sms_templates_language")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_sms_templates_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("code", "language", name=op.f("pk_sms_templates")),
    )
    op.create_table(
        "notification_consent_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["notification_contacts.id"],
            name=op.f("fk_notification_consent_events_contact_id_notification_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_notification_consent_events_recorded_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_consent_events")),
    )
    with op.batch_alter_table("notification_consent_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notification_consent_events_contact", ["contact_id", "at"], unique=False
        )

    op.create_table(
        "notification_consents",
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "category IN ('reminder', 'service_change', 'information')",
            name=op.f("ck_notification_consents_category"),
        ),
        sa.CheckConstraint("channel IN ('sms')", name=op.f("ck_notification_consents_channel")),
        sa.CheckConstraint(
            "method IN ('form', 'oral', 'phone_call', 'online', 'sms_reply')",
            name=op.f("ck_notification_consents_method"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["notification_contacts.id"],
            name=op.f("fk_notification_consents_contact_id_notification_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_notification_consents_recorded_by_id_users"),
        ),
        sa.PrimaryKeyConstraint(
            "contact_id", "channel", "category", name=op.f("pk_notification_consents")
        ),
    )
    op.create_table(
        "notification_contact_teams",
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["notification_contacts.id"],
            name=op.f("fk_notification_contact_teams_contact_id_notification_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_notification_contact_teams_team_id_teams")
        ),
        sa.PrimaryKeyConstraint(
            "contact_id", "team_id", name=op.f("pk_notification_contact_teams")
        ),
    )
    with op.batch_alter_table("notification_contact_teams", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_contact_teams_team_id"), ["team_id"], unique=False
        )

    op.create_table(
        "notification_phones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("e164", sa.String(length=20), nullable=False),
        sa.Column("is_mobile", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("state_reason", sa.String(length=40), nullable=True),
        sa.Column("state_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('active', 'invalid', 'not_mobile', 'opted_out')",
            name=op.f("ck_notification_phones_state"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["notification_contacts.id"],
            name=op.f("fk_notification_phones_contact_id_notification_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_phones")),
        sa.UniqueConstraint(
            "contact_id", "e164", name=op.f("uq_notification_phones_contact_id_e164")
        ),
    )
    with op.batch_alter_table("notification_phones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notification_phones_e164"), ["e164"], unique=False)

    op.create_table(
        "sms_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("to", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.Column("encoding", sa.String(length=5), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=True),
        sa.Column("broadcast_id", sa.Integer(), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("not_before", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=80), nullable=True),
        sa.Column("gateway", sa.String(length=10), nullable=True),
        sa.Column("provider_id", sa.String(length=64), nullable=True),
        sa.Column("error_code", sa.String(length=20), nullable=True),
        sa.Column("error_detail", sa.String(length=200), nullable=True),
        sa.Column("price", sa.Numeric(precision=8, scale=4), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "category IN ('reminder', 'service_change', 'information', 'verification')",
            name=op.f("ck_sms_messages_category"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'queued', 'sent', 'delivered', 'undelivered', 'failed', 'cancelled', 'expired', 'blocked')",
            name=op.f("ck_sms_messages_status"),
        ),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["sms_broadcasts.id"],
            name=op.f("fk_sms_messages_broadcast_id_sms_broadcasts"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["notification_contacts.id"],
            name=op.f("fk_sms_messages_contact_id_notification_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_sms_messages_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_messages")),
        sa.UniqueConstraint("key", name=op.f("uq_sms_messages_key")),
        sa.UniqueConstraint("provider_id", name=op.f("uq_sms_messages_provider_id")),
    )
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sms_messages_broadcast_id"), ["broadcast_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sms_messages_contact_id"), ["contact_id"], unique=False
        )
        batch_op.create_index("ix_sms_messages_due", ["status", "not_before"], unique=False)
        batch_op.create_index(batch_op.f("ix_sms_messages_subject"), ["subject"], unique=False)
        batch_op.create_index("ix_sms_messages_to_sent", ["to", "sent_at"], unique=False)

    op.create_table(
        "sms_inbound",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("from_e164", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column(
            "in_reply_to_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("handled_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("handled_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('confirmed', 'cancelled', 'stopped', 'inbox', 'ignored')",
            name=op.f("ck_sms_inbound_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["notification_contacts.id"],
            name=op.f("fk_sms_inbound_contact_id_notification_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["handled_by_id"], ["users.id"], name=op.f("fk_sms_inbound_handled_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["in_reply_to_id"],
            ["sms_messages.id"],
            name=op.f("fk_sms_inbound_in_reply_to_id_sms_messages"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_inbound")),
        sa.UniqueConstraint("provider_id", name=op.f("uq_sms_inbound_provider_id")),
    )
    with op.batch_alter_table("sms_inbound", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sms_inbound_from_e164"), ["from_e164"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sms_inbound_received_at"), ["received_at"], unique=False
        )

    op.create_table(
        "sms_message_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("error_code", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["sms_messages.id"],
            name=op.f("fk_sms_message_events_message_id_sms_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_message_events")),
    )
    with op.batch_alter_table("sms_message_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sms_message_events_message_id"), ["message_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("sms_message_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sms_message_events_message_id"))

    op.drop_table("sms_message_events")
    with op.batch_alter_table("sms_inbound", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sms_inbound_received_at"))
        batch_op.drop_index(batch_op.f("ix_sms_inbound_from_e164"))

    op.drop_table("sms_inbound")
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_sms_messages_to_sent")
        batch_op.drop_index(batch_op.f("ix_sms_messages_subject"))
        batch_op.drop_index("ix_sms_messages_due")
        batch_op.drop_index(batch_op.f("ix_sms_messages_contact_id"))
        batch_op.drop_index(batch_op.f("ix_sms_messages_broadcast_id"))

    op.drop_table("sms_messages")
    with op.batch_alter_table("notification_phones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_phones_e164"))

    op.drop_table("notification_phones")
    with op.batch_alter_table("notification_contact_teams", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_contact_teams_team_id"))

    op.drop_table("notification_contact_teams")
    op.drop_table("notification_consents")
    with op.batch_alter_table("notification_consent_events", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_consent_events_contact")

    op.drop_table("notification_consent_events")
    op.drop_table("sms_templates")
    op.drop_table("sms_category_settings")
    op.drop_table("sms_broadcasts")
    op.drop_table("notification_contacts")
