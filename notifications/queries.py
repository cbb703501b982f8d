"""Reading the outbox for staff: lists with filters, counts, one message's history.

Also the one change staff make to a message: cancel it while it still waits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, selectinload

from core import audit
from core import fields as parse
from core.accounts import User
from core.errors import FieldError, Invalid
from notifications.contacts import stop_waiting
from notifications.models import CATEGORIES, MESSAGE_STATES, Contact, Message

PER_PAGE = 30
SEARCH_MAX = 80


@dataclass(frozen=True)
class OutboxFilter:
    status: str | None = None  # one of MESSAGE_STATES
    category: str | None = None  # one of CATEGORIES
    text: str = ""  # part of the contact's name
    contact_id: int | None = None
    broadcast_id: int | None = None

    def check(self) -> None:
        errors: dict[str, FieldError] = {}
        data = {"status": self.status, "category": self.category, "q": self.text}
        parse.choice(data, "status", errors, choices=MESSAGE_STATES, default="")
        parse.choice(data, "category", errors, choices=CATEGORIES, default="")
        parse.text(data, "q", errors, limit=SEARCH_MAX)
        if errors:
            raise Invalid(errors)


@dataclass(frozen=True)
class OutboxPage:
    messages: list[Message]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _filtered(
    query: Select,
    filters: OutboxFilter,
    *,
    with_status: bool = True,
    within: ColumnElement[bool] | None = None,
) -> Select:
    if within is not None:  # the viewer's CPAS (notifications.scope.messages_filter)
        query = query.where(within)
    if with_status and filters.status:
        query = query.where(Message.status == filters.status)
    if filters.category:
        query = query.where(Message.category == filters.category)
    if filters.contact_id is not None:
        query = query.where(Message.contact_id == filters.contact_id)
    if filters.broadcast_id is not None:
        query = query.where(Message.broadcast_id == filters.broadcast_id)
    text = filters.text.strip().lower()
    if text:
        query = query.where(
            Message.contact_id.in_(
                select(Contact.id).where(func.lower(Contact.display_name).contains(text))
            )
        )
    return query


def list_messages(
    session: Session,
    filters: OutboxFilter = OutboxFilter(),
    *,
    page: int = 1,
    per_page: int = PER_PAGE,
    within: ColumnElement[bool] | None = None,
) -> OutboxPage:
    """Messages newest first, with their contact; raises Invalid for an unknown filter."""
    filters.check()
    total = session.scalar(_filtered(select(func.count(Message.id)), filters, within=within)) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    query = (
        _filtered(select(Message), filters, within=within)
        .options(selectinload(Message.contact).selectinload(Contact.phones))
        .order_by(Message.created_at.desc(), Message.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return OutboxPage(list(session.scalars(query)), total, page, per_page)


def count_by_status(
    session: Session,
    filters: OutboxFilter = OutboxFilter(),
    *,
    within: ColumnElement[bool] | None = None,
) -> dict[str, int]:
    """How many messages are in each state (every state present, 0 when none); the
    status filter itself is ignored so the counts stay a menu of the others."""
    filters.check()
    query = _filtered(
        select(Message.status, func.count(Message.id)), filters, with_status=False, within=within
    ).group_by(Message.status)
    counts = dict.fromkeys(MESSAGE_STATES, 0)
    for status, count in session.execute(query):
        counts[status] = count
    return counts


def get_message(session: Session, message_id: int, *, reader: User | None = None) -> Message | None:
    """One message with its events and contact; opening it for staff is audited."""
    message = session.scalar(
        select(Message)
        .where(Message.id == message_id)
        .options(
            selectinload(Message.events),
            selectinload(Message.contact).selectinload(Contact.phones),
        )
    )
    if message is not None and reader is not None:
        audit.record_read(session, reader, "sms_message", message.id)
    return message


def contact_messages(session: Session, contact_id: int, *, limit: int = 20) -> list[Message]:
    return list(
        session.scalars(
            select(Message)
            .where(Message.contact_id == contact_id)
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(limit)
        )
    )


def cancel_message(session: Session, message_id: int, *, actor: User) -> bool:
    """Cancel a message that still waits. True when it was cancelled now; False when it
    was no longer waiting (sent, being sent, already cancelled...): nothing changes."""
    if not stop_waiting(
        session, Message.id == message_id, status="cancelled", reason="staff", source="staff"
    ):
        return False
    audit.record(
        session,
        actor=actor,
        action="update",
        entity_type="sms_message",
        entity_id=message_id,
        details={"status": "cancelled"},
    )
    return True
