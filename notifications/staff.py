"""The SMS section's staff pages, one function per use case: what a page reads (with the
audit of that read) and what a form changes, committed here so that views only parse,
call one of these and render."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy.orm import Session

from core import accounts, clock, organisations
from core.accounts import Team, User
from core.errors import FieldError, Invalid
from core.ids import parse_id
from notifications import broadcasts, contacts, outbox, queries, replies, reports, scope, texts
from notifications.models import (
    CATEGORIES,
    CONSENT_CATEGORIES,
    LANGUAGES,
    MESSAGE_STATES,
    Broadcast,
    Consent,
    ConsentEvent,
    Contact,
    InboundSms,
    Message,
    Template,
)
from notifications.sms import SegmentCount, count_segments, spelling_suggestion


def _users(session: Session, ids: Sequence[int | None]) -> dict[int, User]:
    wanted = {user_id for user_id in ids if user_id is not None}
    return {user_id: user for user_id in wanted if (user := accounts.get_user(session, user_id))}


# --- The outbox and one message ----------------------------------------------------------


@dataclass(frozen=True)
class Outbox:
    """The outbox page: a page of messages, the count per state, each kind's rules."""

    page: queries.OutboxPage
    counts: dict[str, int]
    rules: dict[str, outbox.CategoryRules]
    errors: dict[str, FieldError]  # an unknown filter: an empty page and why


def outbox_page(
    session: Session,
    filters: queries.OutboxFilter,
    *,
    page: int,
    viewer: User,
    cursor: queries.Cursor | None = None,
) -> Outbox:
    errors: dict[str, FieldError] = {}
    contacts = scope.visible_contacts(session, viewer)
    try:
        found = queries.list_messages(session, filters, page=page, cursor=cursor, contacts=contacts)
        counts = queries.count_by_status(session, filters, contacts=contacts)
    except Invalid as invalid:
        errors = dict(invalid.errors)
        found = queries.OutboxPage([], 0, 1, queries.PER_PAGE)
        counts = dict.fromkeys(MESSAGE_STATES, 0)
    rules = {category: outbox.category_rules(session, category) for category in CATEGORIES}
    return Outbox(found, counts, rules, errors)


WaitReason = Literal["busy", "quiet_hours", "reminder", "planned"]


def why_waiting(message: Message, rules: outbox.CategoryRules | None) -> WaitReason | None:
    """Why a waiting message has not left yet (`rules`: its kind's); None when it leaves
    now or does not wait."""
    if message.status != "pending" or message.not_before <= clock.now():
        return None
    if message.error_code:
        return "busy"  # the operator was busy: tried again later
    # Quiet hours only when they moved it: made in them and held until their end (a
    # reminder made at night for the next afternoon is planned, not held back).
    if (
        rules is not None
        and outbox.in_quiet_hours(rules, message.created_at)
        and clock.as_utc(message.not_before)
        == outbox.next_allowed_time(rules, clock.as_utc(message.created_at))
    ):
        return "quiet_hours"
    return "reminder" if message.category == "reminder" else "planned"


@dataclass(frozen=True)
class Subject:
    """What a message is about: its kind ("appointment") and when that record happens
    (None when it no longer exists or its kind tells no moment)."""

    kind: str
    moment: datetime | None


def subject_of(session: Session, subject: str | None) -> Subject | None:
    """The record behind "appointment:12", asked of the domain that registered its kind."""
    if not subject:
        return None
    kind, record_id = outbox.subject_kind(subject)
    if kind is None:
        return Subject(subject.partition(":")[0], None)
    moment = kind.moment(session, record_id) if kind.moment is not None else None
    return Subject(kind.kind, moment)


@dataclass(frozen=True)
class MessageRecord:
    message: Message
    users: dict[int, User]
    rules: dict[str, outbox.CategoryRules]
    subject: Subject | None


def message_record(session: Session, message_id: int, *, reader: User) -> MessageRecord | None:
    """One message, its history and who made it; the read is audited (and committed).
    Another CPAS's message: None, the attempt audited."""
    if not scope.sees_message(session, reader, message_id):
        return None
    found = queries.get_message(session, message_id, reader=reader)
    if found is None:
        return None
    session.commit()  # the audited read
    return MessageRecord(
        message=found,
        users=_users(session, [found.created_by_id]),
        rules={found.category: outbox.category_rules(session, found.category)},
        subject=subject_of(session, found.subject),
    )


def cancel_message(session: Session, message_id: int, *, actor: User) -> bool | None:
    """Cancel a waiting message: True when done, False when it no longer waits, None when
    there is no such message (or it is another CPAS's)."""
    if not scope.sees_message(session, actor, message_id):
        return None
    if session.get(Message, message_id) is None:
        return None
    if queries.cancel_message(session, message_id, actor=actor):
        session.commit()
        return True
    session.rollback()
    return False


# --- Contacts -----------------------------------------------------------------------------


def contact_list(session: Session, text: str, *, viewer: User) -> list[Contact]:
    """The contacts of the viewer's CPAS matching `text` (`contacts.search_contacts`)."""
    return contacts.search_contacts(session, text, within=scope.contacts_filter(session, viewer))


@dataclass(frozen=True)
class ContactForm:
    """The contact form: the contact changed (None for a new one) and the teams offered;
    after a save, the contact saved or the errors (nothing kept)."""

    contact: Contact | None
    teams: list[Team]
    saved: Contact | None = None
    errors: dict[str, FieldError] = field(default_factory=dict)


def contact_form(
    session: Session, contact_id: int | None = None, *, reader: User | None = None
) -> ContactForm | None:
    """The form for a new contact, or for `contact_id` (None when there is none; opening
    it is audited and committed)."""
    existing = None
    if contact_id is not None:
        if not scope.sees_contact(session, reader, contact_id):
            return None
        existing = contacts.get_contact(session, contact_id, reader=reader)
        if existing is None:
            return None
        session.commit()  # the audited read
    return ContactForm(existing, _teams_offered(session, reader))


def _teams_offered(session: Session, viewer: User | None) -> list[Team]:
    """The teams a contact may be given: those of the viewer's CPAS."""
    within = organisations.scope_of(session, viewer)
    return [team for team in contacts.teams_for_contacts(session) if within.sees_team(team.id)]


def _team_ids(raw: Sequence[str], known: set[int]) -> list[int]:
    ids = []
    for value in raw:
        if parse_id(value) not in known:
            raise Invalid({"teams": FieldError("unknown_choice")})
        ids.append(int(value))
    return ids


def save_contact(
    session: Session,
    contact_id: int | None,
    *,
    actor: User,
    display_name: str,
    language: str | None,
    phones: Sequence[str],
    teams: Sequence[str],
) -> ContactForm | None:
    """Create a contact (`contact_id` None) or change one (None when there is none)."""
    existing = None
    if contact_id is not None:
        if not scope.sees_contact(session, actor, contact_id):
            return None
        existing = contacts.get_contact(session, contact_id)
        if existing is None:
            return None
    offered = _teams_offered(session, actor)
    errors: dict[str, FieldError] = {}
    try:
        team_ids = _team_ids(teams, {team.id for team in offered})
    except Invalid as invalid:
        errors.update(invalid.errors)
        team_ids = []
    # With several CPAS a contact of no team would be every CPAS's: one of the author's
    # CPAS's teams is required (docs/cpas.md).
    if (
        not team_ids
        and "teams" not in errors
        and not organisations.scope_of(session, actor).everything
    ):
        errors["teams"] = FieldError("required")
    fields: dict[str, Any] = {
        "actor": actor,
        "display_name": display_name,
        "language": language,
        "phones": list(phones),
        "team_ids": team_ids,
    }
    saved = None
    try:
        if existing is None:
            saved = contacts.create_contact(session, **fields)
        else:
            saved = contacts.update_contact(session, existing, **fields)
    except Invalid as invalid:
        errors = {**invalid.errors, **errors}
    if errors:
        session.rollback()
        return ContactForm(existing, offered, None, errors)
    session.commit()
    return ContactForm(existing, offered, saved)


@dataclass(frozen=True)
class ContactRecord:
    contact: Contact
    consents: dict[str, Consent]
    history: list[ConsentEvent]
    reach: dict[str, contacts.Reachability]
    teams: list[str]  # the names of its teams
    users: dict[int, User]  # who recorded its consents
    messages: list[Message]


def contact_record(
    session: Session, contact_id: int, *, reader: User | None = None
) -> ContactRecord | None:
    """A contact's file: consents and their history, reach per kind, teams, last
    messages; opened by `reader`, the read is audited and committed. Another CPAS's
    contact: None, the attempt audited."""
    if reader is not None and not scope.sees_contact(session, reader, contact_id):
        return None
    found = contacts.get_contact(session, contact_id, reader=reader)
    if found is None:
        return None
    if reader is not None:
        session.commit()  # the audited read
    consents = {consent.category: consent for consent in found.consents}
    history = contacts.consent_history(session, found.id)
    team_names = {team.id: team.name for team in contacts.teams_for_contacts(session)}
    return ContactRecord(
        contact=found,
        consents=consents,
        history=history,
        reach={
            category: contacts.reachability(session, found, category)
            for category in CONSENT_CATEGORIES
        },
        teams=[team_names[team.team_id] for team in found.teams if team.team_id in team_names],
        users=_users(
            session,
            [consent.recorded_by_id for consent in consents.values()]
            + [event.recorded_by_id for event in history],
        ),
        messages=queries.contact_messages(session, found.id),
    )


def record_consent(
    session: Session,
    contact_id: int,
    *,
    category: str,
    granted: bool | None,
    method: str,
    note: str,
    actor: User,
) -> dict[str, FieldError] | None:
    """Consent given (True) or withdrawn (False); `granted` None is a choice nobody
    offered. None when there is no such contact (or another CPAS's), else the errors
    (none: committed)."""
    if not scope.sees_contact(session, actor, contact_id):
        return None
    found = contacts.get_contact(session, contact_id)
    if found is None:
        return None
    errors: dict[str, FieldError] = {}
    if granted is None:
        errors["granted"] = FieldError("unknown_choice")
    try:
        contacts.set_consent(
            session,
            found,
            category=category,
            granted=bool(granted),
            method=method,
            note=note,
            actor=actor,
        )
    except Invalid as invalid:
        errors = {**invalid.errors, **errors}
    if errors:
        session.rollback()
        return errors
    session.commit()
    return {}


# --- Templates and the segment counter ----------------------------------------------------


@dataclass(frozen=True)
class SegmentCounter:
    """What the live counter under a text shows."""

    count: SegmentCount
    suggestion: str | None  # a GSM-7 text, offered only when it saves segments
    saves: tuple[int, int] | None  # (segments as written, with the suggestion)
    # Words whose accent SMS cannot carry and that no rewording we know replaces.
    reword: Sequence[str]
    with_examples: bool  # counted with the kind's example values


def _sample(kind: texts.TemplateKind | None, body: str) -> str:
    """The text as sent: placeholders filled with the kind's example values."""
    if kind is None:
        return body
    try:
        texts.placeholders_of(body)
        return texts.fill(body, kind.example or {name: "" for name in kind.placeholders})
    except (ValueError, IndexError, KeyError, AttributeError):
        return body


def segment_counter(body: str, kind: texts.TemplateKind | None = None) -> SegmentCounter:
    sample = _sample(kind, body)
    count = count_segments(sample)
    offered = spelling_suggestion(body)
    suggestion = offered.text
    saves = None
    if suggestion is not None:
        with_suggestion = count_segments(_sample(kind, suggestion)).segments
        if with_suggestion < count.segments:
            saves = (count.segments, with_suggestion)
        else:
            suggestion = None
    return SegmentCounter(
        count=count,
        suggestion=suggestion,
        saves=saves,
        reword=offered.reword if count.encoding == "UCS-2" else (),
        with_examples=kind is not None and sample != body,
    )


@dataclass(frozen=True)
class TemplateRow:
    kind: texts.TemplateKind
    language: str
    body: str
    edited: bool
    count: SegmentCount


def template_rows(session: Session) -> list[TemplateRow]:
    """Every kind's text in every language, as the CPAS wrote it or by default."""
    edited = texts.edited_templates(session)
    rows = []
    for kind in texts.kinds():
        for language in LANGUAGES:
            body = texts.template_text(session, kind.code, language)
            rows.append(
                TemplateRow(
                    kind,
                    language,
                    body,
                    (kind.code, language) in edited,
                    count_segments(_sample(kind, body)),
                )
            )
    return rows


@dataclass(frozen=True)
class TemplateForm:
    kind: texts.TemplateKind
    language: str
    body: str
    default: str
    edited: bool  # the CPAS has its own wording
    counter: SegmentCounter


def template_form(
    session: Session, code: str, language: str, body: str | None = None
) -> TemplateForm | None:
    """The form for one text (`body`: as typed, else the current text); None for a kind
    or language that does not exist."""
    kind = texts.get_kind(code)
    if kind is None or language not in LANGUAGES:
        return None
    if body is None:
        body = texts.template_text(session, code, language)
    return TemplateForm(
        kind=kind,
        language=language,
        body=body,
        default=kind.defaults[language],
        edited=session.get(Template, (kind.code, language)) is not None,
        counter=segment_counter(body, kind),
    )


def save_template(
    session: Session, *, code: str, language: str, body: str, actor: User
) -> dict[str, FieldError]:
    """The CPAS's wording of one text; the errors (none: committed)."""
    try:
        texts.save_template(session, code=code, language=language, body=body, actor_id=actor.id)
    except Invalid as invalid:
        session.rollback()
        return dict(invalid.errors)
    session.commit()
    return {}


def reset_template(session: Session, *, code: str, language: str) -> None:
    """Back to the built-in wording."""
    texts.reset_template(session, code=code, language=language)
    session.commit()


# --- Quiet hours --------------------------------------------------------------------------


def _minutes_to_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _parse_time(raw: str) -> int | None:
    hours, _sep, minutes = raw.strip().partition(":")
    if not (hours.isdigit() and minutes[:2].isdigit()):
        return None
    value = int(hours) * 60 + int(minutes[:2])
    return value if int(hours) < 24 and int(minutes[:2]) < 60 else None


def quiet_hours(session: Session) -> dict[str, dict[str, Any]]:
    """Each kind's rules as the form shows them ("21:00", "24")."""
    values = {}
    for category in CATEGORIES:
        rules = outbox.category_rules(session, category)
        values[category] = {
            "quiet_from": _minutes_to_text(rules.quiet_from),
            "quiet_until": _minutes_to_text(rules.quiet_until),
            "urgent_may_bypass": rules.urgent_may_bypass,
            "validity_hours": str(rules.validity_hours),
        }
    return values


def save_quiet_hours(
    session: Session, values: Mapping[str, Mapping[str, Any]], *, actor: User
) -> dict[str, FieldError]:
    """Every kind's rules as typed (`values[category]`: quiet_from, quiet_until as
    "HH:MM", urgent_may_bypass, validity_hours); the errors keyed "<category>-<field>"
    (none: all saved and committed, else nothing kept)."""
    errors: dict[str, FieldError] = {}
    for category in CATEGORIES:
        row = values[category]
        quiet_from = _parse_time(row["quiet_from"])
        quiet_until = _parse_time(row["quiet_until"])
        for name, parsed in (("quiet_from", quiet_from), ("quiet_until", quiet_until)):
            if parsed is None:
                errors[f"{category}-{name}"] = FieldError("invalid_time")
        validity = row["validity_hours"].strip()
        if not validity.isdigit():
            errors[f"{category}-validity_hours"] = FieldError("out_of_range", {"min": 1, "max": 72})
        if quiet_from is None or quiet_until is None or not validity.isdigit():
            continue
        try:
            outbox.save_category_rules(
                session,
                outbox.CategoryRules(
                    category, quiet_from, quiet_until, row["urgent_may_bypass"], int(validity)
                ),
                actor=actor,
            )
        except Invalid as invalid:
            errors.update({f"{category}-{name}": error for name, error in invalid.errors.items()})
    if errors:
        session.rollback()
        return errors
    session.commit()
    return {}


# --- Broadcasts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BroadcastList:
    items: list[Broadcast]
    counts: dict[int, dict[str, int]]
    more: bool  # an older page exists


def broadcast_list(session: Session, *, page: int, per_page: int, viewer: User) -> BroadcastList:
    """Broadcasts of the viewer's CPAS newest first, one page, with each one's result per
    group."""
    items = broadcasts.list_broadcasts(
        session,
        limit=per_page + 1,
        offset=(page - 1) * per_page,
        within=scope.broadcasts_filter(session, viewer),
    )
    more = len(items) > per_page
    items = items[:per_page]
    return BroadcastList(items, broadcasts.group_counts(session, [item.id for item in items]), more)


@dataclass(frozen=True)
class ParamField:
    """One parameter of an audience on the form (labels as the audience gives them)."""

    name: str
    label: str
    kind: str
    required: bool
    choices: list[tuple[str, str]]
    value: str


def audience_fields(
    session: Session,
    code: str,
    values: Mapping[str, str],
    *,
    language: str,
    viewer: User | None = None,
) -> list[ParamField]:
    """The parameters of audience `code` with their choices (teams named in `language`;
    with a `viewer`, only the teams of the viewer's CPAS)."""
    within = organisations.scope_of(session, viewer) if viewer is not None else None
    audience = broadcasts.get_audience(code)
    if audience is None:
        return []
    fields = []
    for spec in audience.params:
        choices: list[tuple[str, str]] = []
        if spec.kind == "choice" and spec.choices is not None:
            # Only the viewer's CPAS's choices (a team's, a place's: `team_of`).
            choices = [
                (value, label)
                for value, label in spec.choices(session)
                if broadcasts.choice_seen(session, spec, value, within)
            ]
            if spec.name == "team_id":  # the teams' names in the page's language
                teams = {str(team.id): team for team in accounts.list_teams(session)}
                choices = [
                    (value, teams[value].label(language) if value in teams else label)
                    for value, label in choices
                ]
        fields.append(
            ParamField(
                spec.name, spec.label, spec.kind, spec.required, choices, values.get(spec.name, "")
            )
        )
    return fields


@dataclass(frozen=True)
class Sent:
    broadcast_id: int
    waits_until: datetime | None  # quiet hours: nothing leaves before


def send_broadcast(session: Session, *, actor: User, **values: Any) -> Sent:
    """Store a broadcast (the scheduler makes its messages); Invalid, nothing kept."""
    try:
        broadcast = broadcasts.create_broadcast(session, actor=actor, **values)
    except Invalid:
        session.rollback()
        raise
    session.commit()
    state = broadcasts.progress(session, broadcast.id)
    return Sent(broadcast.id, state.waits_until if state is not None else None)


@dataclass(frozen=True)
class Preview:
    checked: broadcasts.BroadcastPreview
    errors: dict[str, FieldError]


def preview_broadcast(
    session: Session,
    *,
    audience: str,
    params: Mapping[str, str],
    category: str,
    urgent: bool,
    bodies: Mapping[str, str],
    segment_price: Decimal,
    reader: User,
) -> Preview:
    """Who would get it, who not and why, what it costs; the names left out are an
    audited read (committed)."""
    checked = broadcasts.preview(
        session,
        audience=audience,
        params=params,
        category=category,
        bodies=bodies,
        segment_price=segment_price,
        reader=reader,
    )
    session.commit()  # the audited read of the names left out
    errors = dict(checked.errors)
    if urgent and category not in broadcasts.URGENT_CATEGORIES:
        errors["urgent"] = FieldError("urgent_not_allowed")
    return Preview(checked, errors)


@dataclass(frozen=True)
class BroadcastRecord:
    item: Broadcast
    author: User | None
    progress: broadcasts.BroadcastProgress | None
    people: broadcasts.RecipientPage


def broadcast_record(
    session: Session,
    broadcast_id: int,
    *,
    group: str | None,
    page: int,
    per_page: int,
    reader: User,
) -> BroadcastRecord | None:
    """A broadcast, its progress and one page of its result per person (`group`: one
    of STATUS_GROUPS or None for all); None when there is no such broadcast (or it is
    another CPAS's)."""
    if not scope.sees_broadcast(session, reader, broadcast_id):
        return None
    item = broadcasts.get_broadcast(session, broadcast_id)
    if item is None:
        return None
    return BroadcastRecord(
        item=item,
        author=accounts.get_user(session, item.created_by_id),
        progress=broadcasts.progress(session, broadcast_id),
        people=broadcasts.recipients(
            session, broadcast_id, status=group, limit=per_page, offset=(page - 1) * per_page
        ),
    )


def cancel_broadcast(session: Session, broadcast_id: int, *, actor: User) -> int | None:
    """Stop what has not left yet: how many messages were cancelled (committed); None
    when there is no such broadcast (or another CPAS's); Invalid (nothing kept) when it
    had finished."""
    if not scope.sees_broadcast(session, actor, broadcast_id):
        return None
    item = broadcasts.get_broadcast(session, broadcast_id)
    if item is None:
        return None
    try:
        stopped = broadcasts.cancel_broadcast(session, item, actor)
    except Invalid:
        session.rollback()
        raise
    session.commit()
    return stopped


@dataclass(frozen=True)
class MonthReport:
    report: reports.MonthReport
    months: list[tuple[int, int]]  # the months that have figures, for the picker


def month_report(
    session: Session,
    year: int,
    month: int,
    *,
    segment_price: Decimal,
    viewer: User,
    with_months: bool = True,
) -> MonthReport:
    """The month's SMS figures of the viewer's CPAS."""
    return MonthReport(
        reports.monthly(
            session,
            year,
            month,
            segment_price=segment_price,
            contacts=scope.visible_contacts(session, viewer),
            contacts_within=scope.contacts_filter(session, viewer),
            viewer=viewer,
        ),
        list(reports.months_available(session)) if with_months else [],
    )


# --- The reception's inbox ----------------------------------------------------------------


@dataclass(frozen=True)
class Inbox:
    messages: list[InboundSms]
    replied: dict[int, Message]  # the messages they answer
    has_more: bool
    open_count: int


def inbox_page(
    session: Session, *, show_all: bool, page: int, per_page: int, viewer: User
) -> Inbox:
    """Replies to the viewer's CPAS newest first (the open ones only, unless
    `show_all`), one page."""
    within = scope.inbound_filter(session, viewer)
    rows = replies.inbox(
        session,
        open_only=not show_all,
        limit=per_page + 1,
        offset=(page - 1) * per_page,
        within=within,
    )
    shown = rows[:per_page]
    return Inbox(
        shown,
        replies.replied_to(session, shown),
        len(rows) > per_page,
        replies.open_count(session, within=within),
    )


@dataclass(frozen=True)
class InboundRecord:
    message: InboundSms
    candidates: list[Contact]  # who may have sent it, when no contact is known
    handled_by: User | None
    replied: Message | None  # the message it answers


def inbound_record(session: Session, inbound_id: int, *, reader: User) -> InboundRecord | None:
    """One SMS received; the read is audited (and committed). Another CPAS's: None."""
    if not scope.sees_inbound(session, reader, inbound_id):
        return None
    message = replies.get_inbound(session, inbound_id, reader=reader)
    if message is None:
        return None
    candidates = [] if message.contact_id else replies.senders(session, message)
    if candidates:
        # Only the reader's CPAS's contacts with that number: another's are unknown here.
        within = scope.visible_contact_ids(session, reader).where(
            Contact.id.in_([contact.id for contact in candidates])
        )
        kept = set(session.scalars(within))
        candidates = [contact for contact in candidates if contact.id in kept]
    handled_by = (
        accounts.get_user(session, message.handled_by_id) if message.handled_by_id else None
    )
    replied = replies.replied_to(session, [message]).get(message.in_reply_to_id or 0)
    session.commit()  # the audited read
    return InboundRecord(message, candidates, handled_by, replied)


def mark_handled(session: Session, inbound_id: int, *, actor: User) -> bool | None:
    """Reception dealt with it: True now, False when it already was, None when there is
    no such SMS (or another CPAS's)."""
    if not scope.sees_inbound(session, actor, inbound_id):
        return None
    message = replies.get_inbound(session, inbound_id)
    if message is None:
        return None
    if not replies.mark_handled(session, message, actor):
        return False
    session.commit()
    return True
