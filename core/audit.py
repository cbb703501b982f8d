"""The audit log: who did what to which record, when, from which role.

Append-only: the ORM refuses to update or delete an entry, and so do database
triggers (see the migration). Services write it, never views. Details hold field
names and codes, never the personal data itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import clock
from core.db import Base

if TYPE_CHECKING:
    from core.accounts import User

ACTIONS = (
    "read",
    "create",
    "update",
    "delete",
    "login",
    "login_failed",
    "login_brake",
    "logout",
    "password_change",
    "activate",
    "deactivate",
    "refused",  # a record outside the user's CPAS asked for (core.organisations.refuse)
)
# The kinds of record the log speaks of: core's own ("sync_feed": a phone downloading its
# offline data; "cpas", "cpas_holiday": core/organisations.py); core.plugins.install()
# adds those each domain declares.
ENTITY_TYPES = ["user", "team", "sync_feed", "cpas", "cpas_holiday"]


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_entity", "entity_type", "entity_id"),
        Index("ix_audit_entries_actor_at", "actor_id", "at"),
    )

    # BigInteger on PostgreSQL, INTEGER on SQLite so it stays the rowid alias.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
    client_at: Mapped[datetime | None]  # when the change was made on the phone (offline sync)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(30))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AuditLogIsAppendOnly(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_entries(session: Session, _context: Any, _instances: Any) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, AuditEntry):
            raise AuditLogIsAppendOnly("audit entries are never changed or deleted")


# Entries held back by `hold()`: the sync engine's batch adds them all at once before its
# commit (one multi-row INSERT for a whole request instead of one per op).
_HELD = "terrain_audit_held"


def hold(session: Session) -> list[AuditEntry]:
    """From now on, entries recorded in `session` wait in the returned list (the caller
    may drop the last ones when the change they describe is rolled back) until
    `release()`, or the commit, writes them."""
    held: list[AuditEntry] = session.info.setdefault(_HELD, [])
    return held


_COLUMNS = (
    "at",
    "client_at",
    "actor_id",
    "actor_role",
    "action",
    "entity_type",
    "entity_id",
    "details",
)


def release(session: Session) -> None:
    """Write the held entries, all in one multi-row INSERT (they stay out of the session:
    nothing reads an entry back in the transaction that wrote it)."""
    rows = take(session)
    if rows:
        session.execute(insert(AuditEntry.__table__), rows)


def hold_here(session: Session) -> bool:
    """`hold()` unless a caller holds the entries already (they are then its to write);
    whether this call started holding."""
    if _HELD in session.info:
        return False
    hold(session)
    return True


def take(session: Session) -> list[dict[str, Any]]:
    """The held entries as rows of `audit_entries`, no longer held: the caller inserts
    them in one of its own statements of this transaction (a booking's messages)."""
    return [
        {name: getattr(entry, name) for name in _COLUMNS} for entry in session.info.pop(_HELD, [])
    ]


@event.listens_for(Session, "before_commit")
def _release_at_commit(session: Session) -> None:
    release(session)  # a held entry is committed with its change, never lost


@event.listens_for(Session, "after_rollback")
def _forget_held(session: Session) -> None:
    session.info.pop(_HELD, None)


def record(
    session: Session,
    *,
    actor: User | None,
    action: str,
    entity_type: str,
    entity_id: object,
    details: dict[str, Any] | None = None,
    client_at: datetime | None = None,
) -> AuditEntry:
    """Append one entry; it is committed with the change it describes."""
    entry = AuditEntry(
        at=clock.now(),
        client_at=client_at,
        actor_id=actor.id if actor is not None else None,
        actor_role=actor.role if actor is not None else None,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        details=details,
    )
    held = session.info.get(_HELD)
    if held is not None:
        held.append(entry)
    else:
        session.add(entry)
    return entry


def record_change(
    session: Session,
    actor: User | None,
    entity_type: str,
    entity_id: object,
    fields: Iterable[str],
    *,
    action: str = "update",
    client_at: datetime | None = None,
    **details: Any,
) -> AuditEntry:
    """Append the entry of a record made or changed: which fields, never their values
    (`details` adds codes such as a status or a source)."""
    return record(
        session,
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        details={"fields": list(fields), **details},
        client_at=client_at,
    )


def assign(record: object, values: Mapping[str, Any]) -> list[str]:
    """Set `values` on `record`; the names of those that changed, in `values`' order
    (for record_change)."""
    changed = [name for name, value in values.items() if getattr(record, name) != value]
    for name in changed:
        setattr(record, name, values[name])
    return changed


def record_read(session: Session, actor: User, entity_type: str, entity_id: object) -> None:
    """Log that `actor` opened a personal file (the CPAS documents require it)."""
    record(session, actor=actor, action="read", entity_type=entity_type, entity_id=entity_id)


@dataclass(frozen=True)
class AuditFilter:
    actor_id: int | None = None
    action: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def search(
    session: Session,
    filters: AuditFilter,
    page: int = 1,
    per_page: int = 50,
    *,
    within: Any = None,
) -> AuditPage:
    """Newest first, filtered; `until` is exclusive; `within`: a WHERE clause keeping
    the entries the reader may see (core.accounts.audit_scope_filter)."""
    query = select(AuditEntry)
    if within is not None:
        query = query.where(within)
    if filters.actor_id is not None:
        query = query.where(AuditEntry.actor_id == filters.actor_id)
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.entity_type:
        query = query.where(AuditEntry.entity_type == filters.entity_type)
    if filters.entity_id:
        query = query.where(AuditEntry.entity_id == filters.entity_id)
    if filters.since is not None:
        query = query.where(AuditEntry.at >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEntry.at < filters.until)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = max(1, page)
    rows = session.scalars(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return AuditPage(entries=list(rows), total=total, page=page, per_page=per_page)
