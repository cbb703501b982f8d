"""Reading the outbox for staff: lists with filters, counts, one message's history.

Also the one change staff make to a message: cancel it while it still waits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.orm import Session, selectinload

from core import audit
from core import fields as parse
from core.accounts import User
from core.errors import FieldError, Invalid
from notifications.contacts import stop_waiting
from notifications.models import CATEGORIES, MESSAGE_STATES, Contact, Message, MessageCount

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
class Cursor:
    """Where a page of the outbox starts (keyset paging): the messages strictly older
    (`older`) or newer than the message created at `at` with id `id`."""

    at: datetime
    id: int
    older: bool = True

    def token(self) -> str:
        return f"{round(self.at.timestamp() * 1_000_000)}-{self.id}"

    @classmethod
    def read(cls, token: str | None, *, older: bool) -> Cursor | None:
        """The cursor a link carries, None when missing or not one of ours."""
        micros, _, message_id = (token or "").partition("-")
        if not (micros.isdigit() and message_id.isdigit()) or len(token or "") > 40:
            return None
        try:
            at = datetime.fromtimestamp(int(micros) / 1_000_000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
        return cls(at, int(message_id), older)


@dataclass(frozen=True)
class OutboxPage:
    messages: list[Message]
    total: int
    page: int
    per_page: int
    has_newer: bool = False
    has_older: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def newer(self) -> str | None:
        """The link's cursor to the page before (newer messages)."""
        if not self.has_newer or not self.messages:
            return None
        first = self.messages[0]
        return Cursor(first.created_at, first.id, older=False).token()

    @property
    def older(self) -> str | None:
        """The link's cursor to the page after (older messages)."""
        if not self.has_older or not self.messages:
            return None
        last = self.messages[-1]
        return Cursor(last.created_at, last.id).token()


def _filtered(
    query: Select,
    filters: OutboxFilter,
    *,
    with_status: bool = True,
    contacts: Select | None = None,
    table: type[Message] | type[MessageCount] = Message,
) -> Select:
    if contacts is not None:  # the viewer's CPAS (notifications.scope.visible_contacts)
        query = query.where(table.contact_id.in_(contacts))
    if with_status and filters.status:
        query = query.where(table.status == filters.status)
    if filters.category:
        query = query.where(table.category == filters.category)
    if filters.contact_id is not None:
        query = query.where(table.contact_id == filters.contact_id)
    if filters.broadcast_id is not None:
        query = query.where(Message.broadcast_id == filters.broadcast_id)
    text = filters.text.strip().lower()
    if text:
        query = query.where(
            table.contact_id.in_(
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
    cursor: Cursor | None = None,
    contacts: Select | None = None,
) -> OutboxPage:
    """Messages newest first, with their contact; raises Invalid for an unknown filter.

    `cursor` (the links of the page): the page of messages just older or newer than a
    message, read through the (created_at, id) index whatever the page's depth; without
    one, `page` counts from the newest (OFFSET: addresses typed by hand). `page` is
    carried along for "page 3 of 12". `contacts`: the viewer's (None: every contact).
    """
    filters.check()
    total = _total(session, filters, contacts)
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    query = _filtered(select(Message), filters, contacts=contacts).options(
        selectinload(Message.contact).selectinload(Contact.phones)
    )
    newest_first = (Message.created_at.desc(), Message.id.desc())
    if cursor is None:
        found = list(
            session.scalars(
                query.order_by(*newest_first).offset((page - 1) * per_page).limit(per_page + 1)
            )
        )
        has_newer, has_older = page > 1, len(found) > per_page
        found = found[:per_page]
    elif cursor.older:
        found = list(
            session.scalars(
                query.where(tuple_(Message.created_at, Message.id) < (cursor.at, cursor.id))
                .order_by(*newest_first)
                .limit(per_page + 1)
            )
        )
        has_newer, has_older = True, len(found) > per_page
        found = found[:per_page]
    else:
        found = list(
            session.scalars(
                query.where(tuple_(Message.created_at, Message.id) > (cursor.at, cursor.id))
                .order_by(Message.created_at, Message.id)
                .limit(per_page + 1)
            )
        )
        has_newer, has_older = len(found) > per_page, True
        found = list(reversed(found[:per_page]))
    if not has_newer:
        page = 1
    return OutboxPage(found, total, page, per_page, has_newer=has_newer, has_older=has_older)


def _total(session: Session, filters: OutboxFilter, contacts: Select | None) -> int:
    if filters.broadcast_id is not None:  # one broadcast's messages: few, counted
        query = select(func.count(Message.id))
        return session.scalar(_filtered(query, filters, contacts=contacts)) or 0
    query = select(func.coalesce(func.sum(MessageCount.messages), 0))
    return int(session.scalar(_filtered(query, filters, contacts=contacts, table=MessageCount)))


def count_by_status(
    session: Session,
    filters: OutboxFilter = OutboxFilter(),
    *,
    contacts: Select | None = None,
) -> dict[str, int]:
    """How many messages are in each state (every state present, 0 when none); the
    status filter itself is ignored so the counts stay a menu of the others.

    Read from `sms_message_counts` (a row per contact, category and state, kept by the
    database's triggers in the transaction that changes a message), not by counting the
    outbox; one broadcast's messages are counted."""
    filters.check()
    if filters.broadcast_id is not None:
        query = select(Message.status, func.count(Message.id)).group_by(Message.status)
        query = _filtered(query, filters, with_status=False, contacts=contacts)
    else:
        query = select(MessageCount.status, func.sum(MessageCount.messages))
        query = _filtered(
            query, filters, with_status=False, contacts=contacts, table=MessageCount
        ).group_by(MessageCount.status)
    counts = dict.fromkeys(MESSAGE_STATES, 0)
    for status, count in session.execute(query):
        counts[status] = int(count)
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
