"""Broadcasts: one message composed for an audience, expanded into the outbox by a job.

A coordinator picks an audience (beneficiaries of an antenne, staff of a team...),
writes the text in French and Dutch (English optional), looks at the preview (who gets
it, who does not and why, segments, estimated cost), then sends. `create_broadcast()`
stores one `Broadcast` row and nothing else, so 5,000 recipients never block a web
request; `expand_pending()` (a scheduler job, every few seconds) makes one outbox row
per recipient, in batches, each with the key `broadcast:<id>:<contact id>`: a crash
or a second scheduler resumes where it stopped and makes no row twice. The dispatcher
then sends them like any other message.

Which text a person gets: French or Dutch or English in their language; English
speakers get the French text when no English text was written; a person whose
language is unknown gets French, a line break, then Dutch (the usual bilingual order
in Brussels), as for templates. Placeholders are not allowed: a broadcast is the same
text for everyone.

Audiences (the contract for other domains)
------------------------------------------
An audience is registered once at import time with `register_audience(Audience(...))`:

- `code`: a short identifier stored on the broadcast ("appointments_day").
- `label`: a short English description; the web layer shows its own translation for
  the codes it knows and falls back to this text.
- `params`: the filters it takes, as `AudienceParam(name, label, kind, required,
  choices)`. Parameters arrive as strings (`Mapping[str, str]`), from a form. `kind`
  is "choice" (one of `choices(session)`, a list of (value, label) pairs), "date"
  (YYYY-MM-DD) or "text". Required, choice and date checks are done here before
  the audience is asked anything.
- `contact_ids(session, params)`: a `Select` of `Contact.id` (duplicates allowed). It
  may raise `core.errors.Invalid` naming a parameter (`{"team_id":
  FieldError("unknown_choice")}`). It is called for the preview, again when the
  broadcast is created, and once per batch while the outbox rows are made, so it
  must be a query, not a Python list, and cheap to run again.
- `describe(session, params)`: a short label of the audience stored on the broadcast
  ("Antenne Marolles"): never personal data.

Consent is not the audience's business: every recipient is checked for the
broadcast's category (`contacts.reachability` rules), and those who cannot get it are
counted by reason in the preview and get a `blocked` row in the outbox.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.orm import Session, selectinload

from core import audit, clock, organisations, phone
from core import fields as parse
from core.accounts import Team, User
from core.errors import FieldError, Invalid
from core.ids import parse_id
from notifications import scope
from notifications.contacts import stop_waiting
from notifications.models import (
    BODY_MAX,
    FINAL_STATES,
    Broadcast,
    Consent,
    Contact,
    ContactPhone,
    ContactTeam,
    Message,
)
from notifications.outbox import Outgoing, category_rules, enqueue_many, next_allowed_time
from notifications.sms import count_segments

log = logging.getLogger("terrain.sms")


# The categories a broadcast may have; an urgent one may skip the quiet hours, and only
# a service change may be urgent (a closure today, a heat-wave plan).
BROADCAST_CATEGORIES = ("service_change", "information", "reminder")
URGENT_CATEGORIES = ("service_change",)
TEXT_LANGUAGES = ("fr", "nl", "en")
REQUIRED_LANGUAGES = ("fr", "nl")
MAX_SEGMENTS = 3  # each language's text; more is not read on a basic phone
MAX_BILINGUAL_SEGMENTS = 6  # French + Dutch for people whose language is unknown
BATCH = 500
INSERT_CHUNK = 200  # outbox rows per INSERT statement
# A message the operator took but never confirmed (some networks send no delivery
# report) no longer keeps its broadcast open after this long.
SENT_SETTLES_AFTER = timedelta(hours=48)

# Progress groups of outbox statuses, in the order the result page shows them.
STATUS_GROUPS: dict[str, tuple[str, ...]] = {
    "waiting": ("pending",),
    "sending": ("sending",),
    "sent": ("queued", "sent"),
    "delivered": ("delivered",),
    "failed": ("failed", "undelivered"),
    "not_sent": ("blocked", "cancelled", "expired"),
}


# --- Audiences -----------------------------------------------------------------------


@dataclass(frozen=True)
class AudienceParam:
    name: str
    label: str
    kind: str = "choice"  # "choice", "date" or "text"
    required: bool = True
    choices: Callable[[Session], Sequence[tuple[str, str]]] | None = None
    # The team a choice belongs to (None: of no team, shared), so that an author sees
    # and chooses only their CPAS's (docs/cpas.md); None: the choices are no CPAS's.
    team_of: Callable[[Session, str], int | None] | None = None


@dataclass(frozen=True)
class Audience:
    code: str
    label: str
    params: tuple[AudienceParam, ...]
    contact_ids: Callable[[Session, Mapping[str, str]], Select]
    describe: Callable[[Session, Mapping[str, str]], str]


_AUDIENCES: dict[str, Audience] = {}


def register_audience(audience: Audience) -> Audience:
    _AUDIENCES[audience.code] = audience
    return audience


def audiences() -> list[Audience]:
    return list(_AUDIENCES.values())


def get_audience(code: str) -> Audience | None:
    return _AUDIENCES.get(code)


BENEFICIARY_TEAM_KINDS = ("antenne", "home_care", "mobile")


def team_of_choice(session: Session, value: str) -> int | None:
    """A team choice's team: its id ("all": none, every team of the author's CPAS)."""
    return int(value) if value.isdigit() else None


def choice_seen(
    session: Session, spec: AudienceParam, value: str, within: organisations.Scope | None
) -> bool:
    """Whether an author of scope `within` may see and choose `value` of `spec`."""
    if within is None or spec.team_of is None:
        return True
    return within.sees_team(spec.team_of(session, value), shared=True)


def _team_choices(kinds: Iterable[str] | None = None) -> Callable[[Session], list[tuple[str, str]]]:
    def choices(session: Session) -> list[tuple[str, str]]:
        query = select(Team.id, Team.name).order_by(Team.city, Team.name)
        if kinds is not None:
            query = query.where(Team.kind.in_(tuple(kinds)))
        return [(str(team_id), name) for team_id, name in session.execute(query)]

    return choices


def _team(session: Session, params: Mapping[str, str]) -> Team:
    try:
        team = session.get(Team, parse_id(params.get("team_id")) or -1)
    except ValueError:
        team = None
    if team is None:
        raise Invalid({"team_id": FieldError("unknown_choice")})
    return team


def _team_contacts(session: Session, params: Mapping[str, str]) -> Select:
    team = _team(session, params)
    if team.kind not in BENEFICIARY_TEAM_KINDS:
        raise Invalid({"team_id": FieldError("unknown_choice")})
    return select(ContactTeam.contact_id).where(ContactTeam.team_id == team.id)


def _team_staff(session: Session, params: Mapping[str, str]) -> Select:
    query = select(Contact.id).join(User, User.id == Contact.user_id).where(User.active)
    if params.get("team_id") == "all":
        return query.where(User.team_id.is_not(None))
    return query.where(User.team_id == _team(session, params).id)


def _describe_team(session: Session, params: Mapping[str, str]) -> str:
    if params.get("team_id") == "all":
        return "all teams"
    return _team(session, params).name


def _all_contacts(session: Session, params: Mapping[str, str]) -> Select:
    return select(Contact.id)


register_audience(
    Audience(
        code="team_contacts",
        label="Beneficiaries of an antenne or a service",
        params=(
            AudienceParam(
                "team_id",
                "Team",
                choices=_team_choices(BENEFICIARY_TEAM_KINDS),
                team_of=team_of_choice,
            ),
        ),
        contact_ids=_team_contacts,
        describe=_describe_team,
    )
)
register_audience(
    Audience(
        code="team_staff",
        label="Staff of a team",
        params=(
            AudienceParam(
                "team_id",
                "Team",
                choices=lambda session: [("all", "All teams"), *_team_choices()(session)],
                team_of=team_of_choice,
            ),
        ),
        contact_ids=_team_staff,
        describe=_describe_team,
    )
)
register_audience(
    Audience(
        code="all_contacts",
        label="Everyone who agreed to this kind of message",
        params=(),
        contact_ids=_all_contacts,
        describe=lambda session, params: "everyone",
    )
)


def _check_params(
    session: Session,
    audience: Audience,
    params: Mapping[str, str],
    within: organisations.Scope | None = None,
) -> tuple[dict[str, str], dict[str, FieldError]]:
    """The audience's own parameters, stripped, and their errors (a choice outside the
    author's scope `within`: an unknown choice)."""
    clean: dict[str, str] = {}
    errors: dict[str, FieldError] = {}
    for spec in audience.params:
        name, required = spec.name, spec.required
        if spec.kind == "choice" and spec.choices is not None:
            found = params.get(name) not in (None, "") and spec.choices(session)
            choices = [
                choice
                for choice, _label in found or ()
                if choice_seen(session, spec, choice, within)
            ]
            value = parse.choice(params, name, errors, choices=choices, default="")
        elif spec.kind == "date":
            day = parse.date(params, name, errors)
            value = day.isoformat() if day is not None else ""
        else:
            value = parse.text(params, name, errors, limit=80)
        if not value and required:
            parse.fail(errors, name, "required")
        elif value and name not in errors:
            clean[name] = value
    return clean, errors


# --- Texts -----------------------------------------------------------------------------


def texts_for(bodies: Mapping[str, str]) -> dict[str, str]:
    """The text each language group gets: fr, nl, en (French when not written), fr+nl.
    A one-language CPAS writes one text: everybody gets it (the person whose language
    is unknown too, in the regime's language)."""
    french = (bodies.get("fr") or "").strip()
    dutch = (bodies.get("nl") or "").strip()
    english = (bodies.get("en") or "").strip() or french or dutch
    both = f"{french}\n{dutch}" if french and dutch else french or dutch
    return {"fr": french or dutch, "nl": dutch or french, "en": english, "fr+nl": both}


def check_bodies(
    bodies: Mapping[str, str], required: tuple[str, ...] = REQUIRED_LANGUAGES
) -> dict[str, FieldError]:
    """Field errors of the texts: `body_fr`, `body_nl`, `body_en`, `body` (bilingual).
    `required`: the languages the CPAS's regime requires."""
    errors: dict[str, FieldError] = {}
    for language in TEXT_LANGUAGES:
        text = (bodies.get(language) or "").strip()
        name = f"body_{language}"
        if not text:
            if language in required:
                errors[name] = FieldError("required")
        elif "{" in text or "}" in text:
            errors[name] = FieldError("no_placeholders")
        elif count_segments(text).segments > MAX_SEGMENTS or len(text) > BODY_MAX:
            errors[name] = FieldError("too_many_segments", {"max": MAX_SEGMENTS})
    if not errors:
        bilingual = texts_for(bodies)["fr+nl"]
        if count_segments(bilingual).segments > MAX_SEGMENTS * 2 or len(bilingual) > BODY_MAX:
            errors["body"] = FieldError("bilingual_too_long", {"max": MAX_BILINGUAL_SEGMENTS})
    return errors


# --- Preview ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ExcludedPerson:
    """Someone of the audience who will not get the message: staff may phone them."""

    contact_id: int
    name: str
    reason: str
    number: str  # their first number (E.164), "" when none


@dataclass
class BroadcastPreview:
    recipients: int = 0
    excluded: Counter[str] = field(default_factory=Counter)  # reason -> people
    # By name (the first EXCLUDED_SHOWN, by name), for staff who may phone them instead.
    excluded_people: list[ExcludedPerson] = field(default_factory=list)
    languages: Counter[str] = field(default_factory=Counter)  # fr, nl, en, fr+nl -> people
    segments: dict[str, int] = field(default_factory=dict)  # fr, nl, en, fr+nl -> per SMS
    encodings: dict[str, str] = field(default_factory=dict)
    total_segments: int = 0
    estimated_cost: Decimal = Decimal(0)
    errors: dict[str, FieldError] = field(default_factory=dict)
    audience_label: str = ""
    params: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def excluded_total(self) -> int:
        return sum(self.excluded.values())


def _reason(granted: bool | None, mobiles: int, active: int, opted_out: int) -> str | None:
    """contacts.reachability's answer from counts (so 5,000 people take one query)."""
    if granted is None:
        return "no_consent"
    if not granted:
        return "withdrawn"
    if active:
        return None
    if not mobiles:
        return "no_mobile"
    return "opted_out" if opted_out else "invalid_number"


def audience_reach(
    session: Session, ids: Select, category: str
) -> list[tuple[int, str, str | None]]:
    """(contact id, language group, reason or None) of everyone in `ids`, in one query."""
    mobile = ContactPhone.is_mobile
    phones = (
        select(
            ContactPhone.contact_id,
            func.sum(case((mobile, 1), else_=0)).label("mobiles"),
            func.sum(case((and_(mobile, ContactPhone.state == "active"), 1), else_=0)).label(
                "active"
            ),
            func.sum(case((and_(mobile, ContactPhone.state == "opted_out"), 1), else_=0)).label(
                "opted_out"
            ),
        )
        .where(ContactPhone.contact_id.in_(ids))
        .group_by(ContactPhone.contact_id)
        .subquery()
    )
    query = (
        select(
            Contact.id,
            Contact.language,
            Consent.granted,
            phones.c.mobiles,
            phones.c.active,
            phones.c.opted_out,
        )
        .outerjoin(
            Consent,
            and_(
                Consent.contact_id == Contact.id,
                Consent.channel == "sms",
                Consent.category == category,
            ),
        )
        .outerjoin(phones, phones.c.contact_id == Contact.id)
        .where(Contact.id.in_(ids))
    )
    return [
        (
            contact_id,
            language or "fr+nl",
            _reason(granted, mobiles or 0, active or 0, opted_out or 0),
        )
        for contact_id, language, granted, mobiles, active, opted_out in session.execute(query)
    ]


def preview(
    session: Session,
    *,
    audience: str,
    params: Mapping[str, str],
    category: str,
    bodies: Mapping[str, str],
    segment_price: Decimal | str = Decimal("0.08"),
    reader: User | None = None,
    author: User | None = None,
) -> BroadcastPreview:
    """Who would get it, who would not and why (by name: `reader`, who sees the names,
    is audited), what it costs; errors instead of raising. The languages required are
    the regime of the CPAS of `author` (else of `reader`)."""
    result = BroadcastPreview()
    errors = result.errors
    if category not in BROADCAST_CATEGORIES:
        errors["category"] = FieldError("unknown_choice")
    cpas = organisations.cpas_of_user(session, author or reader)
    errors.update(check_bodies(bodies, organisations.required_languages(cpas)))
    chosen = get_audience(audience)
    if chosen is None:
        errors["audience"] = FieldError("unknown_choice")
        return result
    who = author or reader
    within = organisations.scope_of(session, who) if who is not None else None
    clean, param_errors = _check_params(session, chosen, params, within)
    result.params = clean
    # The texts follow the author's CPAS: a team of another CPAS is not theirs to address
    # (answered as an unknown team).
    team_id = parse_id(clean.get("team_id"))  # None: no team, or "all"
    if (
        cpas is not None
        and team_id is not None
        and organisations.cpas_id_of_team(session, team_id) != cpas.id
    ):
        param_errors["team_id"] = FieldError("unknown_choice")
    errors.update(param_errors)
    if param_errors:
        return result
    try:
        # Never across a CPAS: "everyone" is everyone of the author's CPAS.
        ids = scope.audience_of_author(
            session, author or reader, chosen.contact_ids(session, clean)
        )
        result.audience_label = chosen.describe(session, clean)[:200]
    except Invalid as invalid:
        errors.update(invalid.errors)
        return result
    if "category" in errors:
        return result
    texts = texts_for(bodies)
    left_out: dict[int, str] = {}
    for contact_id, language, reason in audience_reach(session, ids, category):
        if reason is None:
            result.recipients += 1
            result.languages[language] += 1
        else:
            result.excluded[reason] += 1
            if reason not in REFUSED_CONTACT:
                left_out[contact_id] = reason
    result.excluded_people = _excluded_people(session, left_out)
    if reader is not None and result.excluded_people:
        # Which people's names and numbers were shown, so "who saw X" has an answer.
        audit.record(
            session,
            actor=reader,
            action="read",
            entity_type="sms_broadcast",
            entity_id="preview",
            details={"contact_ids": [person.contact_id for person in result.excluded_people]},
        )
    for language, text in texts.items():
        count = count_segments(text)
        result.segments[language] = count.segments
        result.encodings[language] = count.encoding
    result.total_segments = sum(
        people * result.segments[language] for language, people in result.languages.items()
    )
    result.estimated_cost = result.total_segments * Decimal(segment_price)
    if not result.recipients:
        errors["audience"] = FieldError("no_recipients")
    return result


EXCLUDED_SHOWN = 200
# People who said no (STOP, consent withdrawn) are counted but never listed by name with
# a number to phone: that would invite contacting someone who refused it.
REFUSED_CONTACT = frozenset({"opted_out", "withdrawn"})


def _excluded_people(session: Session, reasons: Mapping[int, str]) -> list[ExcludedPerson]:
    """The first `EXCLUDED_SHOWN` people left out, by name, with their first number."""
    if not reasons:
        return []
    people = session.execute(
        select(Contact.id, Contact.display_name)
        .where(Contact.id.in_(list(reasons)))
        .order_by(Contact.display_name, Contact.id)
        .limit(EXCLUDED_SHOWN)
    ).all()
    numbers: dict[int, str] = {}
    for contact_id, e164 in session.execute(
        select(ContactPhone.contact_id, ContactPhone.e164)
        .where(ContactPhone.contact_id.in_([row[0] for row in people]))
        .order_by(ContactPhone.contact_id, ContactPhone.position, ContactPhone.id)
    ):
        numbers.setdefault(contact_id, e164)
    return [
        ExcludedPerson(
            contact_id=contact_id,
            name=name,
            reason=reasons[contact_id],
            number=numbers.get(contact_id, ""),
        )
        for contact_id, name in people
    ]


# --- Creating and expanding --------------------------------------------------------------


def create_broadcast(
    session: Session,
    *,
    actor: User,
    audience: str,
    params: Mapping[str, str],
    category: str,
    bodies: Mapping[str, str],
    urgent: bool = False,
) -> Broadcast:
    """Store the broadcast (status `queued`); the outbox rows are made by the job."""
    checked = preview(
        session,
        audience=audience,
        params=params,
        category=category,
        bodies=bodies,
        author=actor,
    )
    errors = dict(checked.errors)
    if urgent and category not in URGENT_CATEGORIES:
        errors["urgent"] = FieldError("urgent_not_allowed")
    if errors:
        raise Invalid(errors)
    broadcast = Broadcast(
        category=category,
        audience=audience,
        audience_params=checked.params,
        audience_label=checked.audience_label,
        bodies={
            language: (bodies.get(language) or "").strip()
            for language in TEXT_LANGUAGES
            if (bodies.get(language) or "").strip()
        },
        urgent=urgent,
        status="queued",
        recipients=checked.recipients,  # the preview's count until the rows are made
        excluded=dict(checked.excluded),
        created_at=clock.now(),
        created_by_id=actor.id,
    )
    session.add(broadcast)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity_type="sms_broadcast",
        entity_id=broadcast.id,
        details={
            "audience": audience,
            "category": category,
            "urgent": urgent,
            "recipients": checked.recipients,
        },
    )
    if urgent:
        log.info("sms broadcast %s is urgent: it may skip the quiet hours", broadcast.id)
    return broadcast


SessionFactory = Callable[[], Session]


def _lock(session: Session, broadcast_id: int) -> Broadcast | None:
    """The broadcast if still to expand or to finish, locked (PostgreSQL: skipped when
    another scheduler holds it; SQLite's BEGIN IMMEDIATE already serialises writers)."""
    query = select(Broadcast).where(
        Broadcast.id == broadcast_id, Broadcast.status.in_(("queued", "sending"))
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return session.scalar(query)


def _message_count(session: Session, broadcast_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(Message).where(Message.broadcast_id == broadcast_id)
        )
        or 0
    )


def _still_open(session: Session, broadcast_id: int) -> int:
    """Messages of the broadcast whose outcome is not known yet."""
    settled = clock.now() - SENT_SETTLES_AFTER
    return (
        session.scalar(
            select(func.count())
            .select_from(Message)
            .where(
                Message.broadcast_id == broadcast_id,
                Message.status.not_in(FINAL_STATES),
                ~and_(Message.status == "sent", Message.status_at < settled),
            )
        )
        or 0
    )


def _expand_batch(session: Session, broadcast: Broadcast, batch: int) -> tuple[int, int]:
    """Make the next `batch` rows: (people handled, rows made); (0, 0) when all made."""
    chosen = get_audience(broadcast.audience)
    if chosen is None:
        log.warning("sms broadcast %s: audience %s unknown", broadcast.id, broadcast.audience)
        return 0, 0
    try:
        ids = chosen.contact_ids(session, broadcast.audience_params or {})
    except Invalid:  # the team was removed since: nobody left to add
        return 0, 0
    # Never across a CPAS: the author's CPAS's contacts only.
    ids = scope.audience_of_author(session, session.get(User, broadcast.created_by_id), ids)
    made = select(Message.contact_id).where(Message.broadcast_id == broadcast.id)
    contacts = list(
        session.scalars(
            select(Contact)
            .where(Contact.id.in_(ids), Contact.id.not_in(made))
            .options(selectinload(Contact.phones), selectinload(Contact.consents))
            .order_by(Contact.id)
            .limit(batch)
        )
    )
    if not contacts:
        return 0, 0
    before = _message_count(session, broadcast.id)
    texts = texts_for(broadcast.bodies)
    # It speaks for its author's CPAS (the audience is kept to it): that CPAS's sender.
    author = session.get(User, broadcast.created_by_id)
    cpas_id = (
        organisations.cpas_id_of_team(session, author.team_id)
        if author is not None and author.team_id is not None
        else None
    )
    outgoing = [
        Outgoing(
            key=f"broadcast:{broadcast.id}:{contact.id}",
            contact=contact,
            category=broadcast.category,
            body=texts[contact.language or "fr+nl"],
            broadcast_id=broadcast.id,
            urgent=broadcast.urgent,
            actor=None,
            cpas_id=cpas_id,
        )
        for contact in contacts
    ]
    # A multi-row INSERT per chunk: one statement per person cost a round trip and a
    # compilation each (seconds for a thousand); a chunk stays under SQLite's limit of
    # bound parameters per statement.
    for start in range(0, len(outgoing), INSERT_CHUNK):
        enqueue_many(session, outgoing[start : start + INSERT_CHUNK])
    session.flush()
    return len(contacts), _message_count(session, broadcast.id) - before


def _finish_expansion(session: Session, broadcast: Broadcast) -> None:
    rows = session.execute(
        select(Message.status, Message.error_code, func.count())
        .where(Message.broadcast_id == broadcast.id)
        .group_by(Message.status, Message.error_code)
    )
    recipients, excluded = 0, Counter[str]()
    for status, error_code, count in rows:
        if status == "blocked":
            excluded[error_code or "blocked"] += count
        else:
            recipients += count
    broadcast.recipients = recipients
    broadcast.excluded = dict(excluded)
    broadcast.expanded_at = clock.now()
    broadcast.status = "sending"
    log.info("sms broadcast %s: %s messages made", broadcast.id, recipients + excluded.total())


def expand_pending(
    session_factory: SessionFactory, *, batch: int = BATCH, max_batches: int | None = None
) -> int:
    """The scheduler's job: make the outbox rows of queued broadcasts, `batch` rows per
    transaction, and close the broadcasts whose messages are all settled.

    Safe to run in several schedulers at once and after a crash: the rows are found
    again by their keys. `max_batches` bounds one run (the next run goes on where it
    stopped). Returns how many rows it made.
    """
    with session_factory() as session:
        open_ids = list(
            session.scalars(
                select(Broadcast.id)
                .where(Broadcast.status.in_(("queued", "sending")))
                .order_by(Broadcast.id)
            )
        )
    made = batches = 0
    for broadcast_id in open_ids:
        while max_batches is None or batches < max_batches:
            with session_factory() as session:
                broadcast = _lock(session, broadcast_id)
                if broadcast is None:  # cancelled, done, or another scheduler has it
                    break
                if broadcast.expanded_at is None:
                    handled, count = _expand_batch(session, broadcast, batch)
                    made += count
                    if handled:
                        session.commit()
                        batches += 1
                        continue
                    _finish_expansion(session, broadcast)
                if not _still_open(session, broadcast_id):
                    broadcast.status = "done"
                    log.info("sms broadcast %s done", broadcast_id)
                session.commit()
                break
    return made


# --- Progress, result, cancel ------------------------------------------------------------


@dataclass(frozen=True)
class BroadcastProgress:
    broadcast_id: int
    status: str  # the broadcast's: queued, sending, done, cancelled
    expanded: bool  # every outbox row made
    total: int  # outbox rows so far
    expected: int  # rows to make: people in the audience (the preview's count until made)
    expected_recipients: int  # of whom can get it (the preview's count until made)
    by_status: dict[str, int]
    groups: dict[str, int]  # STATUS_GROUPS -> messages
    # In the quiet hours of its kind of message: nothing leaves before this moment.
    waits_until: datetime | None = None

    @property
    def sendable(self) -> int:
        if not self.expanded:
            return self.expected_recipients
        return self.total - self.groups.get("not_sent", 0)

    @property
    def left(self) -> int:
        """Handled by the operator: sent, delivered or refused."""
        return sum(self.groups.get(name, 0) for name in ("sent", "delivered", "failed"))

    @property
    def percent_sent(self) -> int:
        return _percent(self.left, self.sendable)

    @property
    def percent_delivered(self) -> int:
        return _percent(self.groups.get("delivered", 0), self.sendable)

    @property
    def done(self) -> bool:
        return self.status in ("done", "cancelled")


def _percent(part: int, whole: int) -> int:
    if whole <= 0:
        return 100 if part == 0 else 0
    return min(100, round(100 * part / whole))


def get_broadcast(session: Session, broadcast_id: int) -> Broadcast | None:
    return session.get(Broadcast, broadcast_id)


def list_broadcasts(
    session: Session,
    *,
    limit: int = 50,
    offset: int = 0,
    within: ColumnElement[bool] | None = None,
) -> list[Broadcast]:
    query = select(Broadcast)
    if within is not None:  # the viewer's CPAS (notifications.scope.broadcasts_filter)
        query = query.where(within)
    return list(session.scalars(query.order_by(Broadcast.id.desc()).limit(limit).offset(offset)))


def group_counts(session: Session, broadcast_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Messages per STATUS_GROUPS name for each broadcast (the list page), in one query."""
    counts: dict[int, dict[str, int]] = {
        broadcast_id: dict.fromkeys(STATUS_GROUPS, 0) for broadcast_id in broadcast_ids
    }
    if not broadcast_ids:
        return counts
    group_of = {status: name for name, statuses in STATUS_GROUPS.items() for status in statuses}
    for broadcast_id, status, count in session.execute(
        select(Message.broadcast_id, Message.status, func.count())
        .where(Message.broadcast_id.in_(list(broadcast_ids)))
        .group_by(Message.broadcast_id, Message.status)
    ):
        counts[broadcast_id][group_of[status]] += count
    return counts


def progress(session: Session, broadcast_id: int) -> BroadcastProgress | None:
    """Where the broadcast is (read afresh: the job changes it from another session)."""
    broadcast = session.get(Broadcast, broadcast_id, populate_existing=True)
    if broadcast is None:
        return None
    by_status = {
        status: count
        for status, count in session.execute(
            select(Message.status, func.count())
            .where(Message.broadcast_id == broadcast_id)
            .group_by(Message.status)
        )
    }
    groups = {
        name: sum(by_status.get(status, 0) for status in statuses)
        for name, statuses in STATUS_GROUPS.items()
    }
    status = broadcast.status
    if status == "sending" and not _still_open(session, broadcast_id):
        status = "done"  # the job writes it on its next round
    waits_until = None
    if status in ("queued", "sending"):
        now = clock.now()
        rules = category_rules(session, broadcast.category)
        allowed = next_allowed_time(rules, now, urgent=broadcast.urgent)
        waits_until = allowed if allowed > now else None
    return BroadcastProgress(
        broadcast_id=broadcast_id,
        status=status,
        expanded=broadcast.expanded_at is not None,
        total=sum(by_status.values()),
        expected=broadcast.recipients + sum((broadcast.excluded or {}).values()),
        expected_recipients=broadcast.recipients,
        by_status=by_status,
        groups=groups,
        waits_until=waits_until,
    )


@dataclass(frozen=True)
class RecipientRow:
    message_id: int
    contact_id: int
    name: str
    e164: str  # "" when blocked before a number was chosen
    number: str  # the same in international format
    language: str
    status: str
    error_code: str | None
    error_detail: str | None
    status_at: Any


@dataclass(frozen=True)
class RecipientPage:
    rows: list[RecipientRow]
    total: int
    limit: int
    offset: int


def _pretty(e164: str) -> str:
    if not e164:
        return ""
    try:
        return phone.PhoneNumber(e164, True).national()
    except Exception:  # a stored number always parses; show it raw if not
        return e164


def recipients(
    session: Session,
    broadcast_id: int,
    *,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> RecipientPage:
    """One row per person: name, number, status and why not (`status`: a STATUS_GROUPS
    name, or a single outbox status)."""
    condition = Message.broadcast_id == broadcast_id
    if status:
        statuses = STATUS_GROUPS.get(status, (status,))
        condition = and_(condition, Message.status.in_(statuses))
    total = session.scalar(select(func.count()).select_from(Message).where(condition)) or 0
    rows = session.execute(
        select(
            Message.id,
            Message.contact_id,
            Contact.display_name,
            Message.to,
            Message.language,
            Message.status,
            Message.error_code,
            Message.error_detail,
            Message.status_at,
        )
        .join(Contact, Contact.id == Message.contact_id)
        .where(condition)
        .order_by(Contact.display_name, Message.id)
        .limit(limit)
        .offset(offset)
    )
    return RecipientPage(
        rows=[
            RecipientRow(
                message_id=row[0],
                contact_id=row[1],
                name=row[2],
                e164=row[3],
                number=_pretty(row[3]),
                language=row[4],
                status=row[5],
                error_code=row[6],
                error_detail=row[7],
                status_at=row[8],
            )
            for row in rows
        ],
        total=total,
        limit=limit,
        offset=offset,
    )


def cancel_broadcast(session: Session, broadcast: Broadcast, actor: User) -> int:
    """Stop what has not left yet; returns how many messages were cancelled."""
    query = select(Broadcast).where(Broadcast.id == broadcast.id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()  # wait for a batch being made
    locked = session.scalar(query.execution_options(populate_existing=True))
    if locked is None or locked.status in ("done", "cancelled"):
        raise Invalid({"broadcast": FieldError("already_finished")})
    locked.status = "cancelled"
    waiting = stop_waiting(
        session,
        Message.broadcast_id == locked.id,
        status="cancelled",
        reason="staff",
        source="staff",
    )
    audit.record(
        session,
        actor=actor,
        action="update",
        entity_type="sms_broadcast",
        entity_id=locked.id,
        details={"status": "cancelled", "messages_cancelled": len(waiting)},
    )
    return len(waiting)


__all__ = [
    "BATCH",
    "BROADCAST_CATEGORIES",
    "STATUS_GROUPS",
    "URGENT_CATEGORIES",
    "Audience",
    "AudienceParam",
    "BroadcastPreview",
    "BroadcastProgress",
    "RecipientPage",
    "RecipientRow",
    "audience_reach",
    "audiences",
    "cancel_broadcast",
    "check_bodies",
    "create_broadcast",
    "expand_pending",
    "get_audience",
    "get_broadcast",
    "group_counts",
    "list_broadcasts",
    "preview",
    "progress",
    "recipients",
    "register_audience",
    "texts_for",
]
