"""The offline sync engine: op types registered by the domains, each op applied exactly
once, and a per-team change feed that phones pull.

Exactly once: the client-made op id is the primary key of `sync_operations`, written in
the same transaction as the change it made (a request's ops share one transaction:
`apply_batch`). A second copy (a retry, a double tap, the same batch from three threads)
either finds the row, or fails on the key and is rolled back as a whole; it answers
`duplicate` with the stored answer.

Order: every change a domain makes goes through `stamp()`, which raises the record's
version; just before the commit the record takes the next number of its team's
counter. The counter row stays locked until that commit, so within a team, changes
commit in the order of their numbers and a feed reader never skips one. For the same
record, a stale op from the user who changed it last (the phone made A then B, the
network delivered B first) is answered but changes nothing: the state the user made
last wins, by the phone's clock. A change made since `base_version` by somebody else is
a conflict.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    String,
    Uuid,
    event,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column

from core import audit, clock, text
from core.db import Base
from core.errors import Conflict, FieldError, Invalid
from core.roles import Permission, can

if TYPE_CHECKING:
    from core.accounts import User

log = logging.getLogger(__name__)

MAX_OPS_PER_BATCH = 200
MAX_BATCH_BYTES = 1024 * 1024
FEED_PAGE_SIZE = 500
FEED_TOKEN_FORMAT = "1"  # noqa: S105 - a format number, not a secret

STATUSES = ("applied", "duplicate", "conflict", "rejected")


# --- Records that sync ----------------------------------------------------------------


class Synced:
    """Columns of every record that phones download and change offline."""

    version: Mapped[int] = mapped_column(default=0)
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    changed_at: Mapped[datetime]  # when the last change was made (the phone's clock)
    updated_at: Mapped[datetime]  # when the server stored it

    @declared_attr
    def changed_by_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("users.id"))


class SyncCounter(Base):
    """The change number of one scope (a team); its row lock orders that team's commits."""

    __tablename__ = "sync_counters"

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class SyncOperation(Base):
    """One op received from a phone, with the answer it got (for its duplicates)."""

    __tablename__ = "sync_operations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # made by the phone
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    op_type: Mapped[str] = mapped_column(String(60))
    record_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10))
    answer: Mapped[dict[str, Any]] = mapped_column(JSON)
    client_at: Mapped[datetime | None]
    received_at: Mapped[datetime]


def team_scope(team_id: int) -> str:
    return f"team:{team_id}"


def reserve_seqs(session: Session, scope: str, count: int = 1) -> int:
    """Take `count` change numbers of `scope`; returns the last. The counter row stays
    locked until the commit."""
    value = session.execute(
        update(SyncCounter)
        .where(SyncCounter.scope == scope)
        .values(value=SyncCounter.value + count)
        .returning(SyncCounter.value)
    ).scalar_one_or_none()
    if value is not None:
        return value
    try:
        with session.begin_nested():
            session.add(SyncCounter(scope=scope, value=count))
        return count
    except IntegrityError:
        return reserve_seqs(session, scope, count)


_PENDING = "terrain_sync_pending"


def _number_at_commit(session: Session, record: Synced, scope: str) -> None:
    # The number is taken just before the commit, so the team's counter row is locked
    # for the commit only, not for the whole op: a team's ops overlap until then.
    session.info.setdefault(_PENDING, {}).setdefault(scope, {})[id(record)] = record


@event.listens_for(Session, "before_commit")
def _number_changes(session: Session) -> None:
    pending: dict[str, dict[int, Synced]] = session.info.pop(_PENDING, {})
    for scope in sorted(pending):  # always in the same order: no deadlock between teams
        records = [
            record
            for record in pending[scope].values()
            if (state := inspect(record)).persistent or state.pending
        ]
        if not records:
            continue
        with session.no_autoflush:  # new rows then get their number in their INSERT
            last = reserve_seqs(session, scope, len(records))
        for offset, record in enumerate(records):
            record.change_seq = last - len(records) + 1 + offset
    session.flush()


@event.listens_for(Session, "after_rollback")
def _forget_changes(session: Session) -> None:
    session.info.pop(_PENDING, None)


def stamp(
    session: Session, record: Synced, scope: str, actor: User, client_at: datetime | None
) -> None:
    """Mark `record` changed now by `actor`: new version; a change number at commit."""
    now = clock.now()
    record.version = (record.version or 0) + 1
    record.changed_at = client_at or now
    record.changed_by_id = actor.id
    record.updated_at = now
    _number_at_commit(session, record, scope)


def touch(session: Session, record: Synced, scope: str) -> None:
    """A derived field changed (a "last seen" date): phones must hear of it, but it is
    nobody's edit, so the version that conflicts are judged by stays as it is."""
    record.updated_at = clock.now()
    _number_at_commit(session, record, scope)


def is_stale(record: Synced, actor: User, client_at: datetime | None) -> bool:
    """An older change from the user who made the record's latest one: it changes nothing."""
    return (
        client_at is not None
        and record.changed_by_id == actor.id
        and record.changed_at is not None
        and client_at < record.changed_at
    )


def check_base_version(
    record: Synced, actor: User, base_version: int | None, serialize: Callable[[], dict]
) -> None:
    """Raise Conflict when somebody else changed `record` since `base_version`."""
    if base_version is None or record.version == base_version:
        return
    if record.changed_by_id != actor.id:
        raise Conflict(serialize())


# --- Op types -------------------------------------------------------------------------


@dataclass(frozen=True)
class OpContext:
    session: Session
    actor: User
    op_id: uuid.UUID
    base_version: int | None
    client_at: datetime | None  # when the user made the change, by the phone's clock
    # The phone's clock minus the server's when the batch was sent (its `client_time`);
    # None when the phone did not say (an older app, a form posted without JavaScript).
    clock_offset: timedelta | None = None

    @property
    def written_at(self) -> datetime | None:
        """When the user made the change, by our clock: `client_at` less the phone's clock
        offset when known; None when the phone did not say."""
        if self.client_at is None or self.clock_offset is None:
            return self.client_at
        return self.client_at - self.clock_offset


@dataclass(frozen=True)
class Applied:
    record_id: str
    record: dict[str, Any]
    superseded: bool = False  # a newer change by the same user was already there


@dataclass(frozen=True)
class OpType:
    name: str  # "<domain>.<record>.<verb>"
    permission: Permission
    summary: str
    data_schema: dict[str, Any]  # JSON Schema of `data`, published in /api/openapi.json
    apply: Callable[[OpContext, dict[str, Any]], Applied]
    # Plain data that applies as it is to the demo data (the OpenAPI example). It names
    # the demo's fixed record ids and never reads the database: /api/openapi.json is
    # public. Times are ExampleTime, rendered relative to today.
    example: Mapping[str, Any]
    example_base_version: int | None = None  # the demo record's version after seeding
    # Called once per request with the `data` of its ops of this type (not yet checked)
    # before they are applied: lock and load ahead the records they name
    # (`lock_ahead`), so that each op finds them without a query of its own.
    prefetch: Callable[[Session, list[dict[str, Any]]], None] | None = None

    def __post_init__(self) -> None:
        if callable(self.example) or callable(self.example_base_version):
            raise TypeError(f"{self.name}: an example is plain data, not a function")


@dataclass(frozen=True)
class ExampleTime:
    """A time in an op example: `days_ago` days before today, at `hour` (Brussels), so
    the example stays valid (past, within a year) without reading anything stored."""

    days_ago: int
    hour: int = 12

    def render(self, today: date) -> str:
        day = today - timedelta(days=self.days_ago)
        moment = datetime(day.year, day.month, day.day, self.hour, tzinfo=clock.BRUSSELS)
        return moment.isoformat(timespec="minutes")


def render_example(value: Any, today: date) -> Any:
    """The example as JSON: its ExampleTimes written out for `today`."""
    if isinstance(value, ExampleTime):
        return value.render(today)
    if isinstance(value, Mapping):
        return {key: render_example(item, today) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [render_example(item, today) for item in value]
    return value


# --- Records locked ahead for a whole request --------------------------------------------

_AHEAD = "terrain_sync_ahead"


def lock_ahead(session: Session, model: type[Any], ids: Sequence[Any]) -> None:
    """Lock (`FOR UPDATE`, in id order) and load the rows of `model` these ids name (the
    ids that are not uuids are left out: the op's own check refuses them), and remember
    which do not exist: `locked_get` then answers for them without a query. Forgotten at
    the end of the transaction."""
    wanted: set[uuid.UUID] = set()
    for value in ids:
        if isinstance(value, uuid.UUID):
            wanted.add(value)
        elif isinstance(value, str) and len(value) <= 40:
            try:
                wanted.add(uuid.UUID(value))
            except ValueError:
                continue
    if not wanted:
        return
    found = session.scalars(
        select(model)
        .where(model.id.in_(sorted(wanted)))
        .order_by(model.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    ahead = session.info.setdefault(_AHEAD, {"made": [], "added": {}}).setdefault(model, {})
    ahead.update(dict.fromkeys(wanted))
    ahead.update({record.id: record for record in found})  # held: never collected


def locked_get(
    session: Session, model: type[Any], record_id: uuid.UUID, *, populate_existing: bool = False
) -> Any:
    """`session.get(model, record_id, with_for_update=True)`, without a query when
    `lock_ahead` locked it (or found it missing) in this transaction."""
    ahead = session.info.get(_AHEAD, {}).get(model)
    if ahead is None or record_id not in ahead:
        return session.get(
            model, record_id, with_for_update=True, populate_existing=populate_existing
        )
    record = ahead[record_id]
    if record is not None:
        return record
    # Missing when the request began: made since by an op of this request (still pending,
    # or flushed), or not. A record made in a savepoint rolled back is out of the session.
    made = session.info[_AHEAD]["added"].get((model, record_id))
    if made is not None and made in session:
        return made
    return session.identity_map.get(inspect(model).identity_key_from_primary_key([record_id]))


@event.listens_for(Session, "transient_to_pending")
def _note_added(session: Session, instance: Any) -> None:
    # A pending record is in no identity map: `locked_get` finds it here (records are
    # flushed at the commit, in one INSERT per table, not op by op).
    ahead = session.info.get(_AHEAD)
    if ahead is not None and type(instance) in ahead:
        ahead["added"][(type(instance), getattr(instance, "id", None))] = instance


@event.listens_for(Session, "before_flush")
def _hold_made(session: Session, _context: Any, _instances: Any) -> None:
    # Records made while some are locked ahead stay in the identity map (it holds them
    # weakly) until the commit, so `locked_get` finds them there.
    ahead = session.info.get(_AHEAD)
    if ahead is not None:
        ahead["made"].extend(session.new)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_ahead(session: Session) -> None:
    session.info.pop(_AHEAD, None)


# Filled when the domains' sync modules are imported (core.plugins.install names them).
_OP_TYPES: dict[str, OpType] = {}


def register(op_type: OpType) -> OpType:
    if op_type.name in _OP_TYPES and _OP_TYPES[op_type.name] is not op_type:
        raise ValueError(f"op type registered twice: {op_type.name}")
    _OP_TYPES[op_type.name] = op_type
    return op_type


def op_types() -> list[OpType]:
    return sorted(_OP_TYPES.values(), key=lambda op_type: op_type.name)


def get_op_type(name: str) -> OpType | None:
    return _OP_TYPES.get(name)


# --- Applying ops ---------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    id: uuid.UUID
    type: str
    data: dict[str, Any]
    base_version: int | None = None
    client_at: datetime | None = None
    clock_offset: timedelta | None = None


def parse_op(
    raw: Any, received_at: datetime, clock_offset: timedelta | None = None
) -> Op | dict[str, Any]:
    """An Op, or the `rejected` answer of an op whose envelope is wrong."""
    if not isinstance(raw, dict):
        return _rejected(None, {"op": FieldError("not_an_object")})
    raw_id = raw.get("id")
    try:
        op_id = uuid.UUID(str(raw_id)) if isinstance(raw_id, str) else None
    except ValueError:
        op_id = None
    shown_id = str(op_id) if op_id else (raw_id if isinstance(raw_id, str) else None)
    errors: dict[str, FieldError] = {}
    if op_id is None:
        errors["id"] = FieldError("invalid_uuid")
    op_type = raw.get("type")
    if not isinstance(op_type, str) or get_op_type(op_type) is None:
        errors["type"] = FieldError("unknown_op_type")
    base_version = raw.get("base_version")
    if base_version is not None and (
        not isinstance(base_version, int) or isinstance(base_version, bool) or base_version < 0
    ):
        errors["base_version"] = FieldError("invalid_version")
    data = raw.get("data")
    if not isinstance(data, dict):
        errors["data"] = FieldError("not_an_object")
    else:
        # What no field can store (a lone surrogate, a number beyond 64 bits) refuses the
        # op with the field it is in; control characters are dropped as from any form.
        data = text.clean_json(data)
        errors.update({name: FieldError(code) for name, code in text.json_problems(data).items()})
    client_at = None
    if raw.get("client_at") is not None:
        client_at = parse_client_time(raw.get("client_at"))
        if client_at is None:
            errors["client_at"] = FieldError("invalid_datetime")
        elif client_at > received_at:
            # A phone clock ahead of ours: the change cannot be later than its arrival.
            client_at = received_at
    if errors:
        return _rejected(shown_id, errors)
    assert op_id is not None and isinstance(op_type, str) and isinstance(data, dict)
    return Op(op_id, op_type, data, base_version, client_at, clock_offset)


def parse_client_time(value: Any) -> datetime | None:
    """An ISO 8601 time with its offset (a naive time is ambiguous: refused)."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return clock.as_utc(parsed) if parsed.tzinfo is not None else None
    except (ValueError, OverflowError):  # not a time, or out of range once in UTC
        return None


def clock_offset(client_time: Any, received_at: datetime) -> timedelta | None:
    """The phone's clock minus ours, from the `client_time` a batch carries (the
    phone's clock when it sent it); None when absent or not a time with its offset."""
    sent = parse_client_time(client_time) if client_time is not None else None
    return sent - received_at if sent is not None else None


BATCH_ATTEMPTS = 3


class _Isolate(Exception):
    """An op failed in a batch applied without savepoints: start again with one per op."""


@dataclass(frozen=True)
class _Stored:
    """What the ledger holds of an op (a row read, or one written by this request)."""

    user_id: int
    op_type: str
    status: str
    answer: dict[str, Any]


def apply_batch(
    session: Session, actor: User, raw_ops: Sequence[Any], client_time: Any = None
) -> list[dict[str, Any]]:
    """Answer each op in order, the whole request in one transaction.

    One query reads the ledger rows of every op of the request (their duplicates are
    answered from it); the others are applied in order; their ledger rows go in with one
    multi-row INSERT, their audit entries with another, the team's change numbers are
    taken with one UPDATE, and one commit stores it all. An op that is refused (invalid,
    conflict, a bug) must change nothing: the request is first applied without
    savepoints, and if an op fails it is rolled back and applied again with one savepoint
    per op, so that op alone is undone. A concurrent copy of the same ops (its commit
    hits the ledger's primary key or a new record's), a deadlock, or SQLite busy: rolled
    back and applied again from what is committed then; if it keeps failing, each op in
    its own transaction as `apply_op()` does. `client_time`: the phone's clock at send
    time (optional), measured against ours.
    """
    received_at = clock.now()
    offset = clock_offset(client_time, received_at)
    ops = [parse_op(raw, received_at, offset) for raw in raw_ops]
    if session.in_transaction():
        session.commit()  # the caller's own work is not the batch's to roll back
    isolated = False
    attempt = 0
    while attempt < BATCH_ATTEMPTS:
        try:
            return _apply_together(session, actor, ops, isolated)
        except _Isolate:
            session.rollback()
            isolated = True
        except (IntegrityError, OperationalError):
            session.rollback()
            attempt += 1
    return [op if isinstance(op, dict) else _apply_alone(session, actor, op) for op in ops]


def _apply_together(
    session: Session, actor: User, ops: list[Op | dict[str, Any]], isolated: bool
) -> list[dict[str, Any]]:
    ledger = SyncOperation.__table__
    wanted = list({op.id for op in ops if isinstance(op, Op)})
    stored: dict[uuid.UUID, _Stored] = (
        {
            row.id: _Stored(row.user_id, row.op_type, row.status, row.answer)
            for row in session.execute(
                select(
                    ledger.c.id,
                    ledger.c.user_id,
                    ledger.c.op_type,
                    ledger.c.status,
                    ledger.c.answer,
                ).where(ledger.c.id.in_(wanted))
            )
        }
        if wanted
        else {}
    )
    to_apply: dict[str, list[dict[str, Any]]] = {}
    for op in ops:
        if isinstance(op, Op) and op.id not in stored:
            to_apply.setdefault(op.type, []).append(op.data)
    for name in sorted(to_apply):
        op_type = get_op_type(name)
        if (
            op_type is not None
            and op_type.prefetch is not None
            and can(actor.role, op_type.permission)
        ):
            op_type.prefetch(session, to_apply[name])
    answers: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    held = audit.hold(session)
    try:
        for op in ops:
            if isinstance(op, dict):
                answers.append(op)  # its envelope was refused: nothing to store
                continue
            known = stored.get(op.id)
            if known is not None:
                answers.append(_duplicate(known, actor, op))
                continue
            received_at = clock.now()
            outcome = _apply_in_batch(session, actor, op, isolated, held)
            if outcome is None:  # a bug: answered, not stored (the phone may retry)
                answers.append(_rejected(str(op.id), {"op": FieldError("server_error")}))
                continue
            answer, record_id = outcome
            rows.append(
                {
                    "id": op.id,
                    "user_id": actor.id,
                    "op_type": op.type,
                    "record_id": record_id,
                    "status": answer["status"],
                    "answer": answer,
                    "client_at": op.client_at,
                    "received_at": received_at,
                }
            )
            stored[op.id] = _Stored(actor.id, op.type, answer["status"], answer)
            answers.append(answer)
        audit.release(session)
        if rows:
            # The primary key makes each op once: a copy committed meanwhile by another
            # request fails this INSERT, and the whole request is applied again.
            session.execute(insert(ledger), rows)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return answers


def _apply_in_batch(
    session: Session, actor: User, op: Op, isolated: bool, held: list[Any]
) -> tuple[dict[str, Any], str | None] | None:
    """(answer, record id) of one op of a batch; None when a bug made it fail."""
    op_type = get_op_type(op.type)
    assert op_type is not None  # parse_op checked it
    if not can(actor.role, op_type.permission):
        return _rejected(str(op.id), {"type": FieldError("not_allowed")}), None
    context = OpContext(session, actor, op.id, op.base_version, op.client_at, op.clock_offset)
    if not isolated:
        try:
            applied = op_type.apply(context, op.data)
        except (IntegrityError, OperationalError):
            raise
        except Exception as error:
            raise _Isolate from error  # what it changed cannot be undone alone
        return _applied_answer(op, applied), applied.record_id
    mark = len(held)
    try:
        with session.begin_nested():
            applied = op_type.apply(context, op.data)
    except Invalid as invalid:
        del held[mark:]
        return _rejected(str(op.id), invalid.errors), None
    except Conflict as conflict:
        del held[mark:]
        record_id = str(conflict.record.get("id")) if conflict.record else None
        return {"id": str(op.id), "status": "conflict", "record": conflict.record}, record_id
    except (IntegrityError, OperationalError):
        raise
    except Exception:
        # A bug must not block the phone's outbox behind this op, nor lose it: it is
        # answered (not stored), kept on the phone to retry or discard.
        del held[mark:]
        log.exception("sync op %s of type %s failed", op.id, op.type)
        return None
    return _applied_answer(op, applied), applied.record_id


def _applied_answer(op: Op, applied: Applied) -> dict[str, Any]:
    answer = {"id": str(op.id), "status": "applied", "record": applied.record}
    if applied.superseded:
        answer["superseded"] = True
    return answer


def _apply_alone(session: Session, actor: User, op: Op) -> dict[str, Any]:
    """One op in its own transaction (a batch that kept failing together)."""
    try:
        return apply_op(session, actor, op)
    except OperationalError:
        raise  # the database is away: the whole request fails and the phone retries
    except Exception:
        session.rollback()
        log.exception("sync op %s of type %s failed", op.id, op.type)
        return _rejected(str(op.id), {"op": FieldError("server_error")})


def apply_op(session: Session, actor: User, op: Op, attempts: int = 5) -> dict[str, Any]:
    """Apply one op exactly once and commit; answer as the Sync API says."""
    for attempt in range(attempts):
        try:
            return _apply_once(session, actor, op)
        except (IntegrityError, OperationalError):
            # Another request stored the same op (or the same new record) first, or
            # SQLite was busy: start again from what is committed now.
            session.rollback()
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _apply_once(session: Session, actor: User, op: Op) -> dict[str, Any]:
    stored = session.get(SyncOperation, op.id, populate_existing=True)
    if stored is not None:
        answer = _duplicate(stored, actor, op)
        session.rollback()
        return answer
    op_type = get_op_type(op.type)
    assert op_type is not None  # parse_op checked it
    received_at = clock.now()
    record_id: str | None = None
    if not can(actor.role, op_type.permission):
        answer = _rejected(str(op.id), {"type": FieldError("not_allowed")})
    else:
        context = OpContext(session, actor, op.id, op.base_version, op.client_at, op.clock_offset)
        try:
            with session.begin_nested():
                applied = op_type.apply(context, op.data)
        except Invalid as invalid:
            answer = _rejected(str(op.id), invalid.errors)
        except Conflict as conflict:
            answer = {"id": str(op.id), "status": "conflict", "record": conflict.record}
            record_id = str(conflict.record.get("id")) if conflict.record else None
        else:
            record_id = applied.record_id
            answer = {"id": str(op.id), "status": "applied", "record": applied.record}
            if applied.superseded:
                answer["superseded"] = True
    session.add(
        SyncOperation(
            id=op.id,
            user_id=actor.id,
            op_type=op.type,
            record_id=record_id,
            status=answer["status"],
            answer=answer,
            client_at=op.client_at,
            received_at=received_at,
        )
    )
    session.commit()
    return answer


def _duplicate(stored: SyncOperation | _Stored, actor: User, op: Op) -> dict[str, Any]:
    if stored.user_id != actor.id or stored.op_type != op.type:
        # An id already used by another op: say so without telling whose it was.
        return _rejected(str(op.id), {"id": FieldError("id_already_used")})
    return {**stored.answer, "status": "duplicate", "original_status": stored.status}


def _rejected(op_id: str | None, errors: Mapping[str, FieldError]) -> dict[str, Any]:
    return {
        "id": op_id,
        "status": "rejected",
        "errors": {name: error.as_json() for name, error in errors.items()},
    }


# --- Change feed ----------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    seq: int
    type: str
    id: str
    record: dict[str, Any] | None  # None: the record is gone for this user


@dataclass(frozen=True)
class FeedSource:
    """One kind of record a user downloads for offline use, in one of two forms.

    `changes(session, user, since_seq, limit)` returns that user's changes with a change
    number above `since_seq`, in number order, at most `limit`, read through an index on
    (team_id, change_seq): for the small feeds whose records are built from several tables.

    Ids first, for the feeds that grow (a team's people and encounters): `keys(session,
    user, since_seq, limit)` returns only the (change number, id) of those changes, read
    from the index; `records(session, user, ids)` then loads the records of the ids that
    made it onto the page (id -> record; an id missing: no longer the user's, left out).
    A page of 500 then loads 500 records, not 500 of each source to keep the first 500.
    """

    entity_type: str
    permission: Permission
    changes: Callable[[Session, User, int, int], list[Change]] | None = None
    keys: Callable[[Session, User, int, int], list[tuple[int, str]]] | None = None
    records: Callable[[Session, User, list[str]], dict[str, dict[str, Any]]] | None = None


_FEED_SOURCES: dict[str, FeedSource] = {}


def register_feed(source: FeedSource) -> FeedSource:
    _FEED_SOURCES[source.entity_type] = source
    return source


def feed_sources() -> list[FeedSource]:
    return sorted(_FEED_SOURCES.values(), key=lambda source: source.entity_type)


@dataclass(frozen=True)
class FeedPage:
    token: str
    changes: list[Change]
    reset: bool  # the phone must replace what it holds (first pull, new day, new team)
    more: bool  # call again with `token` for the rest


def make_token(team_id: int, day: date, seq: int) -> str:
    return f"{FEED_TOKEN_FORMAT}.{team_id}.{day.strftime('%Y%m%d')}.{seq}"


def read_token(token: str | None, team_id: int, day: date) -> int | None:
    """The change number a token stands for, or None when it needs a fresh start."""
    if not token or len(token) > 60:
        return None
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != FEED_TOKEN_FORMAT:
        return None
    if parts[1] != str(team_id) or parts[2] != day.strftime("%Y%m%d"):
        return None  # another team, or a new day: windows like "next 2 days" moved
    return int(parts[3]) if parts[3].isdigit() else None


def read_changes(
    session: Session, user: User, token: str | None, limit: int = FEED_PAGE_SIZE
) -> FeedPage:
    """What `user` may see that changed since `token` (all of it when the token is old)."""
    today = clock.to_local(clock.now()).date()
    if user.team_id is None:
        return FeedPage(token="", changes=[], reset=True, more=False)
    since = read_token(token, user.team_id, today)
    reset = since is None
    since = since or 0
    # Read the counter before the records: every change up to it is committed (its row
    # lock orders the commits), so the token may move there even if none concerned us.
    committed = current_seq(session, team_scope(user.team_id))
    # (seq, type, id, record or the ids-first source whose record is loaded once paged)
    gathered: list[tuple[int, str, str, Any]] = []
    for source in feed_sources():
        if not can(user.role, source.permission):
            continue
        if source.keys is not None:
            gathered.extend(
                (seq, source.entity_type, record_id, source)
                for seq, record_id in source.keys(session, user, since, limit + 1)
            )
        elif source.changes is not None:
            gathered.extend(
                (change.seq, change.type, change.id, change.record)
                for change in source.changes(session, user, since, limit + 1)
            )
    gathered.sort(key=lambda change: (change[0], change[1], change[2]))
    more = len(gathered) > limit
    if more:
        # Never cut between changes sharing a number: the next call starts after it.
        last = gathered[limit - 1][0]
        kept = [change for change in gathered if change[0] <= last]
        upto = last
    else:
        kept = gathered
        upto = max([since, committed, *(change[0] for change in kept)])
    page = _with_records(session, user, kept)
    return FeedPage(
        token=make_token(user.team_id, today, upto), changes=page, reset=reset, more=more
    )


def _with_records(
    session: Session, user: User, kept: list[tuple[int, str, str, Any]]
) -> list[Change]:
    """The page's changes, the records of ids-first sources loaded in one call each."""
    wanted: dict[str, list[str]] = {}
    for _seq, entity_type, record_id, record in kept:
        if isinstance(record, FeedSource):
            wanted.setdefault(entity_type, []).append(record_id)
    loaded = {
        entity_type: _FEED_SOURCES[entity_type].records(session, user, ids)  # type: ignore[misc]
        for entity_type, ids in wanted.items()
    }
    page = []
    for seq, entity_type, record_id, record in kept:
        if isinstance(record, FeedSource):
            record = loaded[entity_type].get(record_id)
            if record is None:
                continue  # gone from the user's feed between the two reads
        page.append(Change(seq, entity_type, record_id, record))
    return page


def pull(session: Session, user: User, token: str | None) -> FeedPage:
    """`read_changes()` for a phone's download: records handed to a phone are reads of
    personal files, so a page with changes is logged (one entry per pull) and committed."""
    page = read_changes(session, user, token)
    if page.changes:
        counts: dict[str, int] = {}
        for change in page.changes:
            counts[change.type] = counts.get(change.type, 0) + 1
        audit.record(
            session,
            actor=user,
            action="read",
            entity_type="sync_feed",
            entity_id=user.team_id,
            details={"counts": counts, "reset": page.reset},
        )
        session.commit()
    return page


def current_seq(session: Session, scope: str) -> int:
    """The last change number committed in `scope` (0 when it never changed)."""
    value = session.scalar(select(SyncCounter.value).where(SyncCounter.scope == scope))
    return value or 0


def role_syncs(role: str) -> bool:
    """Does this role's work go through the offline sync: a change it may send, or
    records it downloads? (Only then does the header show the sync status.)"""
    return any(can(role, op.permission) for op in op_types()) or any(
        can(role, source.permission) for source in feed_sources()
    )
