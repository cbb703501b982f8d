"""What leaves as an SMS, and to whom: contacts, consent, templates, the outbox, replies.

Every message is one row of the outbox (`sms_messages`) with a unique business key, so
asking twice for the same reminder makes one row; dispatchers claim rows with
`FOR UPDATE SKIP LOCKED` and only a claimed row is handed to a gateway.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from core.db import Base

CHANNELS = ("sms",)
# What a message is about decides whose consent it needs. `verification` (a one-time
# code the person just asked for) needs none: sending it is the person's own request.
CATEGORIES = ("reminder", "service_change", "information", "verification")
CONSENT_CATEGORIES = ("reminder", "service_change", "information")
CONSENT_METHODS = ("form", "oral", "phone_call", "online", "sms_reply")
LANGUAGES = ("fr", "nl", "en")

# A number's state: `invalid`, `not_mobile` and `opted_out` (the carrier's STOP list,
# Twilio 21610) come from the gateway and stop every further message to it.
PHONE_STATES = ("active", "invalid", "not_mobile", "opted_out")

# Room for a reason or an operator's code ("appointment_cancelled" is 21 characters).
ERROR_CODE_MAX = 40
# Outbox states. `blocked`: never sent, and why is in `error_code` (no_consent,
# no_mobile, opted_out...): the page shows it instead of silently dropping.
MESSAGE_STATES = (
    "pending",
    "sending",
    "queued",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "cancelled",
    "expired",
    "blocked",
)
# Status only moves forward: a late or replayed callback never moves it back.
STATUS_RANK = {
    "pending": 0,
    "sending": 1,
    "queued": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "cancelled": 4,
    "expired": 4,
    "blocked": 4,
}
FINAL_STATES = ("delivered", "undelivered", "failed", "cancelled", "expired", "blocked")

BODY_MAX = 918  # 6 GSM-7 segments: longer is a letter, not an SMS
INBOUND_BODY_MAX = 1600
BROADCAST_STATES = ("queued", "sending", "done", "cancelled")
INBOUND_OUTCOMES = ("confirmed", "cancelled", "stopped", "inbox", "ignored")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Contact(Base):
    """Someone Terrain may text: a beneficiary, a member of staff, a subscriber."""

    __tablename__ = "notification_contacts"
    __table_args__ = (
        CheckConstraint(f"language IS NULL OR {_in('language', LANGUAGES)}", name="language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(120))
    # None: unknown, so messages go out in French and Dutch.
    language: Mapped[str | None] = mapped_column(String(2))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    # The domain record this contact belongs to ("appointments.person:12"), if any.
    reference: Mapped[str | None] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)

    phones: Mapped[list[ContactPhone]] = relationship(
        back_populates="contact", order_by="ContactPhone.position", cascade="all, delete-orphan"
    )
    consents: Mapped[list[Consent]] = relationship(cascade="all, delete-orphan")
    teams: Mapped[list[ContactTeam]] = relationship(cascade="all, delete-orphan")


class ContactTeam(Base):
    """The antennes and services a contact belongs to (the audiences of broadcasts)."""

    __tablename__ = "notification_contact_teams"

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("notification_contacts.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True, index=True)


class ContactPhone(Base):
    __tablename__ = "notification_phones"
    __table_args__ = (
        UniqueConstraint("contact_id", "e164"),
        CheckConstraint(_in("state", PHONE_STATES), name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("notification_contacts.id", ondelete="CASCADE")
    )
    e164: Mapped[str] = mapped_column(String(20), index=True)
    is_mobile: Mapped[bool]
    position: Mapped[int] = mapped_column(default=0)  # 0 = the number to use first
    state: Mapped[str] = mapped_column(String(12), default="active")
    state_reason: Mapped[str | None] = mapped_column(String(40))
    state_at: Mapped[datetime | None]

    contact: Mapped[Contact] = relationship(back_populates="phones")

    @property
    def can_receive_sms(self) -> bool:
        return self.is_mobile and self.state == "active"


class Consent(Base):
    """The current answer of a contact for one channel and one category."""

    __tablename__ = "notification_consents"
    __table_args__ = (
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
        CheckConstraint(_in("category", CONSENT_CATEGORIES), name="category"),
        CheckConstraint(_in("method", CONSENT_METHODS), name="method"),
    )

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("notification_contacts.id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    category: Mapped[str] = mapped_column(String(20), primary_key=True)
    granted: Mapped[bool]
    at: Mapped[datetime]
    method: Mapped[str] = mapped_column(String(20))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(String(200), default="")


class ConsentEvent(Base):
    """Every consent given or withdrawn, kept: when, how and by whom."""

    __tablename__ = "notification_consent_events"
    __table_args__ = (Index("ix_notification_consent_events_contact", "contact_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("notification_contacts.id", ondelete="CASCADE")
    )
    channel: Mapped[str] = mapped_column(String(10))
    category: Mapped[str] = mapped_column(String(20))
    granted: Mapped[bool]
    at: Mapped[datetime]
    method: Mapped[str] = mapped_column(String(20))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(String(200), default="")


class Template(Base):
    """A text edited by the CPAS; without a row, the built-in default text is used."""

    __tablename__ = "sms_templates"
    __table_args__ = (CheckConstraint(_in("language", LANGUAGES), name="language"),)

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    language: Mapped[str] = mapped_column(String(2), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CategorySetting(Base):
    """Quiet hours and validity of one category (the defaults apply without a row)."""

    __tablename__ = "sms_category_settings"
    __table_args__ = (
        CheckConstraint(_in("category", CATEGORIES), name="category"),
        CheckConstraint("quiet_from BETWEEN 0 AND 1439", name="quiet_from_range"),
        CheckConstraint("quiet_until BETWEEN 0 AND 1439", name="quiet_until_range"),
        CheckConstraint("validity_hours BETWEEN 1 AND 72", name="validity_range"),
    )

    category: Mapped[str] = mapped_column(String(20), primary_key=True)
    # Minutes after midnight, Europe/Brussels; from == until means no quiet hours.
    quiet_from: Mapped[int] = mapped_column(Integer)
    quiet_until: Mapped[int] = mapped_column(Integer)
    urgent_may_bypass: Mapped[bool]
    validity_hours: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Broadcast(Base):
    """One message composed for an audience; its rows in the outbox are made by a job."""

    __tablename__ = "sms_broadcasts"
    __table_args__ = (
        CheckConstraint(_in("status", BROADCAST_STATES), name="status"),
        CheckConstraint(_in("category", CONSENT_CATEGORIES), name="category"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(20))
    audience: Mapped[str] = mapped_column(String(40))
    audience_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    audience_label: Mapped[str] = mapped_column(String(200))
    bodies: Mapped[dict[str, str]] = mapped_column(JSON)  # language -> text
    urgent: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(12), default="queued")
    recipients: Mapped[int] = mapped_column(default=0)  # counted at sending time
    excluded: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    expanded_at: Mapped[datetime | None]


class Message(Base):
    """One SMS in the outbox, from its creation to its last delivery report."""

    __tablename__ = "sms_messages"
    __table_args__ = (
        CheckConstraint(_in("status", MESSAGE_STATES), name="status"),
        CheckConstraint(_in("category", CATEGORIES), name="category"),
        Index("ix_sms_messages_due", "status", "not_before"),
        Index("ix_sms_messages_to_sent", "to", "sent_at"),
        # The outbox list (newest first) and the report's month.
        Index("ix_sms_messages_created", "created_at", "id"),
        # A month's appointment reminders found by subject (notifications.reports
        # .reminder_states): only the reminders that have one (migration 0046).
        Index(
            "ix_sms_messages_reminder_subject",
            "subject",
            postgresql_where=text("category = 'reminder' AND subject IS NOT NULL"),
            sqlite_where=text("category = 'reminder' AND subject IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("notification_contacts.id", ondelete="CASCADE"), index=True
    )
    to: Mapped[str] = mapped_column(String(20), default="")
    language: Mapped[str] = mapped_column(String(5))  # fr, nl, en or fr+nl
    category: Mapped[str] = mapped_column(String(20))
    # What staff see: a one-time code or a manage link is masked here (••••••, /r/…).
    body: Mapped[str] = mapped_column(Text)
    # Where the masks sit and the seeds the dispatcher derives the secrets from with the
    # application's key (notifications.masking); wiped once the message has left or will
    # never leave. None: the body is the text sent.
    secret_slots: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Of the text sent (the real one: masks and secrets differ in length and alphabet).
    segments: Mapped[int] = mapped_column(default=0)
    encoding: Mapped[str] = mapped_column(String(5), default="GSM-7")
    # The record the message is about ("appointment:1234"): replies and staleness.
    subject: Mapped[str | None] = mapped_column(String(80), index=True)
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("sms_broadcasts.id"), index=True)
    # The CPAS it speaks for: it leaves with that CPAS's SMS sender (docs/cpas.md); None:
    # the installation's sender (TWILIO_FROM).
    cpas_id: Mapped[int | None] = mapped_column(ForeignKey("cpas.id"), index=True)
    urgent: Mapped[bool] = mapped_column(default=False)
    # The answer to what the person just did (the confirmation of a booking they made):
    # it leaves at once, quiet hours or not (docs/sms.md).
    requested: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    not_before: Mapped[datetime]  # not sent earlier (quiet hours, reminder time, retry delay)
    valid_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    gateway: Mapped[str | None] = mapped_column(String(10))
    provider_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    error_code: Mapped[str | None] = mapped_column(String(ERROR_CODE_MAX))
    error_detail: Mapped[str | None] = mapped_column(String(200))
    price: Mapped[Decimal | None] = mapped_column(Numeric(8, 4))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[datetime | None]
    status_at: Mapped[datetime] = mapped_column(default=clock.now)

    contact: Mapped[Contact] = relationship()
    events: Mapped[list[MessageEvent]] = relationship(
        order_by="MessageEvent.id", cascade="all, delete-orphan"
    )


class MessageCount(Base):
    """How many messages a contact has in a category and state: the outbox's counts and
    pager (issue 20). Kept by triggers on `sms_messages` (migration 0046) in the
    transaction that changes a message; never written by the application."""

    __tablename__ = "sms_message_counts"

    contact_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    category: Mapped[str] = mapped_column(String(20), primary_key=True)
    status: Mapped[str] = mapped_column(String(12), primary_key=True)
    messages: Mapped[int] = mapped_column(BigInteger)


class MonthFigures(Base):
    """A contact's messages of one UTC month (by `created_at`) with the same category,
    state, error code and whether the operator has them: how many, their segments and
    price; the monthly report's figures (issue 20). Kept by triggers on `sms_messages`
    (migration 0055) in the transaction that changes a message; never written by the
    application. UTC months, not Brussels ones: the database needs no time zone, and the
    report adds and takes away the hour or two where the two differ (notifications.reports)."""

    __tablename__ = "sms_month_figures"

    month: Mapped[date] = mapped_column(primary_key=True)  # the 1st of the UTC month
    contact_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    category: Mapped[str] = mapped_column(String(20), primary_key=True)
    status: Mapped[str] = mapped_column(String(12), primary_key=True)
    error_code: Mapped[str] = mapped_column(String(ERROR_CODE_MAX), primary_key=True)  # "": none
    handed_over: Mapped[bool] = mapped_column(primary_key=True)  # provider_id is set
    messages: Mapped[int] = mapped_column(BigInteger)
    segments: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[Decimal] = mapped_column(Numeric(16, 4))  # of those with a price
    unpriced_segments: Mapped[int] = mapped_column(BigInteger)  # of those without


class MessageEvent(Base):
    """Each step of a message (claimed, sent, delivered, retry...), visible per message."""

    __tablename__ = "sms_message_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("sms_messages.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=clock.now)
    status: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(12))  # dispatcher, callback, reconcile, job, staff
    error_code: Mapped[str | None] = mapped_column(String(ERROR_CODE_MAX))


class InboundSms(Base):
    """An SMS received: a reply to a reminder, a STOP, or anything else for reception."""

    __tablename__ = "sms_inbound"
    __table_args__ = (CheckConstraint(_in("outcome", INBOUND_OUTCOMES), name="outcome"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(64), unique=True)
    from_e164: Mapped[str] = mapped_column(String(20), index=True)
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification_contacts.id", ondelete="SET NULL")
    )
    in_reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("sms_messages.id"))
    # The CPAS whose number it was sent to (its sender is a number): that CPAS's staff
    # only read it; None: the installation's number.
    cpas_id: Mapped[int | None] = mapped_column(ForeignKey("cpas.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(12))
    reply: Mapped[str] = mapped_column(Text, default="")
    handled_at: Mapped[datetime | None]
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    contact: Mapped[Contact | None] = relationship()
