"""Putting messages in the outbox: once per business key, at an allowed hour, never stale.

Domains call `enqueue()` (one message) or `schedule_reminders()` (the J-1 / H-2
reminders of an appointment) and register their subjects so that a message about a
cancelled or past appointment is dropped instead of sent late, and so that the
replies OUI / NON reach them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import (
    Boolean,
    Integer,
    Select,
    String,
    bindparam,
    cast,
    insert,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core import clock, organisations
from core.accounts import Team, User
from core.audit import AuditEntry
from core.errors import FieldError, Invalid
from notifications import masking, texts
from notifications.contacts import reachability, stop_waiting
from notifications.models import (
    BODY_MAX,
    CATEGORIES,
    CategorySetting,
    Contact,
    ContactTeam,
    Message,
    MessageEvent,
    Template,
)
from notifications.sms import count_segments

log = logging.getLogger("terrain.sms")

# --- Quiet hours and validity, per category -------------------------------------------


@dataclass(frozen=True)
class CategoryRules:
    category: str
    quiet_from: int  # minutes after midnight, Brussels
    quiet_until: int
    urgent_may_bypass: bool
    validity_hours: int


DEFAULT_RULES = {
    "reminder": CategoryRules("reminder", 21 * 60, 8 * 60, False, 24),
    "service_change": CategoryRules("service_change", 21 * 60, 8 * 60, True, 24),
    "information": CategoryRules("information", 21 * 60, 8 * 60, False, 48),
    # A code the person is waiting for right now: no quiet hours, useless after an hour.
    "verification": CategoryRules("verification", 0, 0, True, 1),
}


def category_rules(session: Session, category: str) -> CategoryRules:
    """The category's rules; read once per session (a broadcast enqueues thousands)."""
    cache = session.info.get(_RULES)
    if cache is None:
        # Every category in one query: a booking's confirmation and reminders need two.
        cache = _rules_of(
            (
                row.category,
                row.quiet_from,
                row.quiet_until,
                row.urgent_may_bypass,
                row.validity_hours,
            )
            for row in session.scalars(select(CategorySetting))
        )
        session.info[_RULES] = cache
    return cache[category]


_RULES = "sms_category_rules"  # session.info: {category: CategoryRules}


def _rules_of(rows: Iterable[tuple[str, int, int, bool, int]]) -> dict[str, CategoryRules]:
    stored = {row[0]: row for row in rows}
    return {
        name: DEFAULT_RULES[name]
        if (row := stored.get(name)) is None
        else CategoryRules(name, row[1], row[2], row[3], row[4])
        for name in DEFAULT_RULES
    }


def read_texts_and_rules(session: Session, codes: Sequence[str]) -> None:
    """`texts.read_templates(codes)` and `category_rules` in one statement (a UNION ALL:
    a booking reads both before its agent's lock); what this session read already is
    not read again."""
    templates = texts.templates_to_read(session, codes)
    if session.info.get(_RULES) is not None:
        texts.read_templates(session, templates)
        return
    if not templates:
        category_rules(session, "reminder")
        return
    text_rows = select(
        literal(0).label("kind"),
        Template.code.label("name"),
        Template.language,
        Template.body,
        cast(null(), Integer).label("quiet_from"),
        cast(null(), Integer).label("quiet_until"),
        cast(null(), Boolean).label("urgent_may_bypass"),
        cast(null(), Integer).label("validity_hours"),
    ).where(Template.code.in_(templates))
    rule_rows = select(
        literal(1),
        CategorySetting.category,
        cast(null(), String),
        cast(null(), String),
        CategorySetting.quiet_from,
        CategorySetting.quiet_until,
        CategorySetting.urgent_may_bypass,
        CategorySetting.validity_hours,
    )
    found = session.execute(union_all(text_rows, rule_rows)).all()
    texts.remember_templates(
        session, templates, ((row[1], row[2], row[3]) for row in found if row[0] == 0)
    )
    session.info[_RULES] = _rules_of(
        tuple(row[1:2]) + tuple(row[4:8]) for row in found if row[0] == 1
    )


def save_category_rules(session: Session, rules: CategoryRules, *, actor: User) -> None:
    errors: dict[str, FieldError] = {}
    if rules.category not in CATEGORIES:
        errors["category"] = FieldError("unknown_choice")
    for name in ("quiet_from", "quiet_until"):
        if not 0 <= getattr(rules, name) < 24 * 60:
            errors[name] = FieldError("invalid_time")
    if not 1 <= rules.validity_hours <= 72:
        errors["validity_hours"] = FieldError("out_of_range", {"min": 1, "max": 72})
    if errors:
        raise Invalid(errors)
    row = session.get(CategorySetting, rules.category)
    if row is None:
        row = CategorySetting(category=rules.category)
        session.add(row)
    row.quiet_from = rules.quiet_from
    row.quiet_until = rules.quiet_until
    row.urgent_may_bypass = rules.urgent_may_bypass
    row.validity_hours = rules.validity_hours
    row.updated_at = clock.now()
    row.updated_by_id = actor.id
    session.info.pop(_RULES, None)


def in_quiet_hours(rules: CategoryRules, moment: datetime) -> bool:
    local = clock.to_local(moment)
    minute = local.hour * 60 + local.minute
    start, end = rules.quiet_from, rules.quiet_until
    if start == end:
        return False
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end


def next_allowed_time(rules: CategoryRules, moment: datetime, *, urgent: bool = False) -> datetime:
    """`moment`, or the end of the quiet hours it falls in (Brussels wall-clock time)."""
    if (urgent and rules.urgent_may_bypass) or not in_quiet_hours(rules, moment):
        return moment
    local = clock.to_local(moment)
    end = time(rules.quiet_until // 60, rules.quiet_until % 60)
    day = local.date()
    if local.time() >= end:
        day += timedelta(days=1)
    return clock.as_utc(datetime.combine(day, end, tzinfo=clock.BRUSSELS))


# --- Subjects: the records messages are about ----------------------------------------

Answer = Literal["confirm", "cancel"]


@dataclass(frozen=True)
class ReplyOutcome:
    """What a domain did with a reply: the reply template and its values."""

    done: bool
    template: str  # reply_confirmed, reply_cancelled, reply_received
    values: Mapping[str, str]


@dataclass(frozen=True)
class SubjectKind:
    kind: str  # "appointment"
    # Still worth a message? False when cancelled, done or past.
    is_current: Callable[[Session, str], bool]
    # OUI / NON received for this subject; None when the domain takes no replies.
    on_reply: Callable[[Session, str, Answer], ReplyOutcome] | None = None
    # When the record happens (an appointment's start), shown to staff as what a message
    # is about; None from it when the record no longer exists.
    moment: Callable[[Session, str], datetime | None] | None = None


_SUBJECT_KINDS: dict[str, SubjectKind] = {}


def register_subject_kind(kind: SubjectKind) -> None:
    _SUBJECT_KINDS[kind.kind] = kind


def subject_kind(subject: str | None) -> tuple[SubjectKind | None, str]:
    """("appointment:1234") -> (its kind, "1234")."""
    if not subject or ":" not in subject:
        return None, ""
    kind, _, record_id = subject.partition(":")
    return _SUBJECT_KINDS.get(kind), record_id


def subject_is_current(session: Session, subject: str | None) -> bool:
    kind, record_id = subject_kind(subject)
    return True if kind is None else kind.is_current(session, record_id)


# --- Enqueue ---------------------------------------------------------------------------


def enqueue(
    session: Session,
    *,
    key: str,
    contact: Contact,
    category: str,
    body: str | None = None,
    template: str | None = None,
    values: Mapping[str, str] | None = None,
    subject: str | None = None,
    not_before: datetime | None = None,
    valid_until: datetime | None = None,
    urgent: bool = False,
    broadcast_id: int | None = None,
    actor: User | None = None,
    secrets: Mapping[str, masking.Secret] | None = None,
    requested: bool = False,
    cpas_id: int | None = None,
) -> Message:
    """The outbox row for `key`: made once; asking again returns the existing row.

    Give either `body` (already in the person's language) or `template` + `values`.
    `secrets` (with a template): placeholders whose value is a one-time code or a
    manage link; the row keeps them masked and the dispatcher rebuilds them
    (notifications.masking). A contact who cannot receive it (no consent, no mobile...)
    gets a `blocked` row saying why, so staff see it instead of wondering.
    `requested`: the answer to what the person just did (a booking's confirmation):
    quiet hours keep unasked messages from waking people, not the answer they wait for,
    so it leaves at once (and so do its retries).
    `cpas_id`: the CPAS the message speaks for, whose SMS sender it leaves with; by
    default the author's CPAS, else the contact's (`message_cpas`).
    """
    return enqueue_many(
        session,
        [
            Outgoing(
                key=key,
                contact=contact,
                category=category,
                body=body,
                template=template,
                values=values,
                subject=subject,
                not_before=not_before,
                valid_until=valid_until,
                urgent=urgent,
                broadcast_id=broadcast_id,
                actor=actor,
                secrets=secrets,
                requested=requested,
                cpas_id=cpas_id,
            )
        ],
    )[0]


@dataclass(frozen=True)
class Outgoing:
    """One message for `enqueue_many`: the arguments of `enqueue`."""

    key: str
    contact: Contact
    category: str
    body: str | None = None
    template: str | None = None
    values: Mapping[str, str] | None = None
    subject: str | None = None
    not_before: datetime | None = None
    valid_until: datetime | None = None
    urgent: bool = False
    broadcast_id: int | None = None
    actor: User | None = None
    secrets: Mapping[str, masking.Secret] | None = None
    requested: bool = False
    cpas_id: int | None = None  # the CPAS it speaks for (its sender); default: message_cpas
    # The caller decided `cpas_id`, None included (a place of no CPAS: the installation's
    # sender), so no look-up is made (a booking decides it before the agent's lock).
    cpas_decided: bool = False


def message_cpas(session: Session, contact: Contact, actor: User | None) -> int | None:
    """The CPAS a message speaks for when its caller does not say: the author's (a
    member of staff of a team), else the contact's when its teams are all of one CPAS,
    else the installation's only CPAS; None (the installation's sender) otherwise."""
    if actor is not None and actor.team_id is not None:
        return organisations.cpas_id_of_team(session, actor.team_id)
    found = set(
        session.scalars(
            select(Team.cpas_id)
            .join(ContactTeam, ContactTeam.team_id == Team.id)
            .where(ContactTeam.contact_id == contact.id)
            .distinct()
        )
    )
    if not found and contact.user_id is not None:
        found = set(
            session.scalars(
                select(Team.cpas_id)
                .join(User, User.team_id == Team.id)
                .where(User.id == contact.user_id)
            )
        )
    if len(found) == 1:
        return found.pop()
    return organisations.cpas_id_of_team(session, None) if not found else None


def enqueue_many(session: Session, outgoing: Sequence[Outgoing]) -> list[Message]:
    """`enqueue` for several messages in two statements (one multi-row INSERT … ON
    CONFLICT (key) DO NOTHING RETURNING, one for their first events): a broadcast's
    chunk. The rows, in the order given; a key made before (by this caller, or another
    process just now) gives the existing row, as `enqueue`."""
    made = _enqueue(session, outgoing, load=True)
    return [made[item.key] for item in outgoing]


def enqueue_ids(
    session: Session, outgoing: Sequence[Outgoing], *, audit_rows: Sequence[dict[str, Any]] = ()
) -> list[int]:
    """`enqueue_many` for a caller that needs no `Message` object back (a booking's
    confirmation and reminders): the same rows, rules and statements (one multi-row
    INSERT … ON CONFLICT (key) DO NOTHING RETURNING, one multi-row INSERT of their first
    events; on PostgreSQL both in one statement), sent as plain Core statements, without
    the ORM's bulk layer; the ids, in the order given (a key made before: its row's id).
    `audit_rows` (`core.audit.take`): the caller's audit entries, written in the same
    statement on PostgreSQL (one round trip less), in one INSERT after it elsewhere."""
    made = _enqueue(session, outgoing, load=False, audit_rows=audit_rows)
    return [made[item.key] for item in outgoing]


def _enqueue(
    session: Session,
    outgoing: Sequence[Outgoing],
    *,
    load: bool,
    audit_rows: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The rows of `outgoing` inserted once per key, with their first events: key →
    `Message` (`load`) or its id."""
    now = clock.now()
    rows = [_outbox_row(session, item, now) for item in outgoing]
    found: dict[tuple[int, int | None], int | None] = {}  # one look-up per contact and author
    for row, item in zip(rows, outgoing, strict=True):
        if item.cpas_id is not None or item.cpas_decided:
            row["cpas_id"] = item.cpas_id
            continue
        asked = (item.contact.id, item.actor.id if item.actor is not None else None)
        if asked not in found:
            found[asked] = message_cpas(session, item.contact, item.actor)
        row["cpas_id"] = found[asked]
    together = not load and bool(rows) and session.get_bind().dialect.name == "postgresql"
    if audit_rows and not together:
        session.execute(insert(AuditEntry.__table__), list(audit_rows))
    if not rows:
        return {}
    # Each row's first event (its status; an urgent or requested message let through the
    # quiet hours says so), by key: made only for the rows this call inserts.
    firsts: dict[str, dict[str, Any]] = {}
    for row in rows:
        rules = category_rules(session, row["category"])
        bypass = (
            row["status"] == "pending"
            and (row["urgent"] or row["requested"])
            and in_quiet_hours(rules, row["not_before"])
        )
        firsts[row["key"]] = {
            "at": now,
            "status": row["status"],
            "source": "job",
            "error_code": row["error_code"] or ("quiet_bypass" if bypass else None),
            "bypass": bypass,
        }
    if together:
        made = ids = _insert_ids_with_events(session, rows, firsts, now, audit_rows)
        events = []
    else:
        if load:
            made = {message.key: message for message in _insert_once(session, rows)}
            ids = {key: message.id for key, message in made.items()}
        else:
            made = ids = _insert_ids(session, rows)
        events = [
            {"message_id": ids[key], **{k: v for k, v in first.items() if k != "bypass"}}
            for key, first in firsts.items()
            if key in ids
        ]
    for key, first in firsts.items():
        if first["bypass"] and key in ids:
            log.info("sms %s: urgent or requested, sent during quiet hours", ids[key])
    if load and len(events) == 1:
        # One message (`enqueue`, a broadcast's loop): left to the ORM, which sends the
        # events of many messages together at its next flush.
        session.add(MessageEvent(**events[0]))
    elif events:
        # A list of parameters: one multi-row INSERT ("insertmanyvalues"), its compiled
        # form cached (a `.values([...])` of many rows is compiled again each time).
        session.execute(insert(MessageEvent.__table__), events)
    missing = [row["key"] for row in rows if row["key"] not in made]
    if missing:
        if load:
            made.update(
                (message.key, message)
                for message in session.scalars(select(Message).where(Message.key.in_(missing)))
            )
        else:
            made.update(
                (key, message_id)
                for key, message_id in session.execute(
                    select(Message.key, Message.id).where(Message.key.in_(missing))
                )
            )
    return made


def _outbox_row(session: Session, item: Outgoing, now: datetime) -> dict[str, Any]:
    """The outbox row of one message (checked, rendered, its reachability decided)."""
    if item.category not in CATEGORIES:
        raise Invalid({"category": FieldError("unknown_choice")})
    sealed = None
    secrets = item.secrets or {}
    if item.template is not None:
        ordered = list(secrets.values())
        marked = {
            name: secret.prefix + masking.sentinel(index)
            for index, (name, secret) in enumerate(secrets.items())
        }
        rendered, language = texts.render(
            session, item.template, item.contact.language, {**(item.values or {}), **marked}
        )
        body, clear, sealed = masking.split(rendered.strip(), ordered)
    else:
        if secrets:
            raise ValueError("secrets need a template")
        language = item.contact.language or "fr+nl"
        body = clear = (item.body or "").strip()
    if not body:
        raise Invalid({"body": FieldError("required")})
    if len(clear) > BODY_MAX:
        raise Invalid({"body": FieldError("too_long", {"max": BODY_MAX})})
    rules = category_rules(session, item.category)
    reach = reachability(session, item.contact, item.category)
    # The cost is the real text's: "••••••" is UCS-2, "393049" GSM-7.
    count = count_segments(clear)
    earliest = max(item.not_before or now, now)
    leaves_at = (
        earliest if item.requested else next_allowed_time(rules, earliest, urgent=item.urgent)
    )
    valid_until = item.valid_until
    if valid_until is None:
        # Counted from when it may leave: quiet hours must not use up its validity.
        valid_until = leaves_at + timedelta(hours=rules.validity_hours)
    status, error = ("pending", None) if reach.ok else ("blocked", reach.reason)
    return {
        "key": item.key,
        "contact_id": item.contact.id,
        "to": reach.phone.e164 if reach.phone is not None else "",
        "language": language,
        "category": item.category,
        "body": body,
        # A blocked row never leaves: it keeps no seed.
        "secret_slots": sealed if reach.ok else None,
        "segments": count.segments,
        "encoding": count.encoding,
        "subject": item.subject,
        "broadcast_id": item.broadcast_id,
        "urgent": item.urgent,
        "requested": item.requested,
        "status": status,
        "error_code": error,
        "not_before": leaves_at,
        "valid_until": valid_until,
        "created_at": now,
        "status_at": now,
        "created_by_id": item.actor.id if item.actor is not None else None,
        "attempts": 0,
    }


@dataclass(frozen=True)
class MessageState:
    """Where a message stands, for a page that tells the person when their SMS comes."""

    status: str
    not_before: datetime


def message_state(session: Session, key: str) -> MessageState | None:
    """The state and earliest sending time of the message made with `key`, if any."""
    row = session.execute(
        select(Message.status, Message.not_before).where(Message.key == key)
    ).first()
    return None if row is None else MessageState(row.status, clock.as_utc(row.not_before))


def _insert_once(session: Session, rows: list[dict[str, Any]]) -> list[Message]:
    """INSERT … ON CONFLICT (key) DO NOTHING RETURNING, all rows in one statement: two
    schedulers making the same reminder at the same moment make one row. The rows
    made (a key that existed gives none)."""
    dialect_insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        dialect_insert(Message)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(Message)
    )
    return list(session.scalars(statement))


def _insert_ids(session: Session, rows: list[dict[str, Any]]) -> dict[str, int]:
    """`_insert_once` as a Core statement on the table: key → id of the rows made. The
    rows are given as a list of parameters, which SQLAlchemy sends as one multi-row
    INSERT … RETURNING ("insertmanyvalues", PostgreSQL and SQLite alike) from a
    compiled form it caches; the conflict rule is the same, so a key made before (or by
    another process meanwhile) makes no second row and returns nothing."""
    table = Message.__table__
    dialect_insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        dialect_insert(table)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table.c.key, table.c.id)
    )
    return {key: message_id for key, message_id in session.execute(statement, rows)}


def _insert_ids_with_events(
    session: Session,
    rows: list[dict[str, Any]],
    firsts: dict[str, dict[str, Any]],
    now: datetime,
    audit_rows: Sequence[dict[str, Any]],
) -> dict[str, int]:
    """`_insert_ids` and the first events of the rows made, in one statement
    (PostgreSQL: the events' INSERT a data-modifying CTE reading the messages' RETURNING,
    so a key made before gets no second event, as in two statements); `audit_rows` in
    a third CTE."""
    columns = tuple(rows[0])
    audit_columns = tuple(audit_rows[0]) if audit_rows else ()
    statement = _messages_statement(columns, len(rows), audit_columns, len(audit_rows))
    parameters: dict[str, Any] = {"event_at": now}
    for index, row in enumerate(rows):
        parameters.update((f"m{index}_{name}", row[name]) for name in columns)
        first = firsts[row["key"]]
        parameters[f"e{index}_key"] = row["key"]
        parameters[f"e{index}_status"] = first["status"]
        parameters[f"e{index}_error_code"] = first["error_code"]
    for index, row in enumerate(audit_rows):
        parameters.update((f"a{index}_{name}", row[name]) for name in audit_columns)
    return {key: message_id for key, message_id in session.execute(statement, parameters)}


@lru_cache(maxsize=32)
def _messages_statement(
    columns: tuple[str, ...], count: int, audit_columns: tuple[str, ...], audit_count: int
) -> Select:
    """The statement of `_insert_ids_with_events` for `count` messages and `audit_count`
    audit entries, built once (its rows are parameters, one SELECT each in a UNION ALL:
    a multi-row VALUES would be compiled again at every call)."""
    table = Message.__table__

    def rows_of(prefix: str, names: tuple[str, ...], target, count: int):
        branches = [
            select(
                *(
                    bindparam(f"{prefix}{index}_{name}", type_=target.c[name].type).label(name)
                    for name in names
                )
            )
            for index in range(count)
        ]
        return branches[0] if count == 1 else union_all(*branches)

    made = (
        pg_insert(table)
        .from_select(list(columns), rows_of("m", columns, table, count))
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table.c.key, table.c.id)
        .cte("made")
    )
    events_table = MessageEvent.__table__
    first = rows_of("e", ("key", "status", "error_code"), table, count).subquery("first")
    events = (
        insert(events_table)
        .from_select(
            ["message_id", "at", "status", "source", "error_code"],
            select(
                made.c.id,
                bindparam("event_at", type_=events_table.c.at.type),
                first.c.status,
                literal("job"),
                first.c.error_code,
            ).join(first, first.c.key == made.c.key),
        )
        .cte("events")
    )
    statement = select(made.c.key, made.c.id).add_cte(events)
    if audit_count:
        audit_table = AuditEntry.__table__
        audited = (
            insert(audit_table)
            .from_select(list(audit_columns), rows_of("a", audit_columns, audit_table, audit_count))
            .cte("audited")
        )
        statement = statement.add_cte(audited)
    return statement


# --- Reminders ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReminderRule:
    """J-1 at 17:00 (a wall-clock time the day before) or H-2 (a delay before)."""

    label: str
    days_before: int = 0
    at: time | None = None
    hours_before: float = 0

    def send_time(self, start_at: datetime) -> datetime:
        if self.at is not None:
            day = clock.to_local(start_at).date() - timedelta(days=self.days_before)
            # zoneinfo resolves a wall-clock time in a DST gap or fold (fold=0: the first).
            return clock.as_utc(datetime.combine(day, self.at, tzinfo=clock.BRUSSELS))
        return clock.as_utc(start_at) - timedelta(hours=self.hours_before)


DEFAULT_REMINDERS = (
    ReminderRule("J-1", days_before=1, at=time(17, 0)),
    ReminderRule("H-2", hours_before=2),
)


def schedule_reminders(
    session: Session,
    *,
    subject: str,
    contact: Contact,
    start_at: datetime,
    values: Mapping[str, str],
    rules: Sequence[ReminderRule] = DEFAULT_REMINDERS,
    template: str = "appointment_reminder",
    cpas_id: int | None = None,
) -> list[Message]:
    """The reminders of one appointment (keys `reminder:<subject>:<label>`); a reminder
    whose time has passed, or that would land at or after the start, is not made. Quiet
    hours count: the H-2 reminder of a 02:30 appointment would wait until 08:00, after
    the appointment, so it is not made at all."""
    return enqueue_many(
        session,
        reminders(
            session,
            subject=subject,
            contact=contact,
            start_at=start_at,
            values=values,
            rules=rules,
            template=template,
            cpas_id=cpas_id,
        ),
    )


def reminders(
    session: Session,
    *,
    subject: str,
    contact: Contact,
    start_at: datetime,
    values: Mapping[str, str],
    rules: Sequence[ReminderRule] = DEFAULT_REMINDERS,
    template: str = "appointment_reminder",
    cpas_id: int | None = None,
    cpas_decided: bool = False,
) -> list[Outgoing]:
    """What `schedule_reminders` enqueues, for a caller that enqueues it with other
    messages (a booking: its confirmation and reminders in one INSERT); `cpas_id`,
    `cpas_decided` as on `Outgoing`."""
    now = clock.now()
    made = []
    moment_values = texts.moment_values(start_at, contact.language)
    quiet = category_rules(session, "reminder")
    for rule in rules:
        at = rule.send_time(start_at)
        if at <= now or next_allowed_time(quiet, at) >= start_at:
            continue
        made.append(
            Outgoing(
                key=f"reminder:{subject}:{rule.label}",
                contact=contact,
                category="reminder",
                template=template,
                values={**moment_values, **values},
                subject=subject,
                not_before=at,
                valid_until=start_at,
                cpas_id=cpas_id,
                cpas_decided=cpas_decided,
            )
        )
    return made


def cancel_for_subject(session: Session, subject: str, *, reason: str = "subject_gone") -> int:
    """Drop what still waits about `subject` (an appointment cancelled or moved)."""
    return len(
        stop_waiting(
            session, Message.subject == subject, status="cancelled", reason=reason, source="job"
        )
    )
