"""Contacts: who may be texted, on which number, in which language, with which consent.

No consent, no send: `reachability()` is the one place that decides, and says why not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, inspect, or_, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from core import audit, clock, phone
from core import fields as parse
from core.accounts import Team, User
from core.errors import FieldError, Invalid
from core.text import single_line
from notifications.models import (
    CHANNELS,
    CONSENT_CATEGORIES,
    CONSENT_METHODS,
    ERROR_CODE_MAX,
    LANGUAGES,
    Consent,
    ConsentEvent,
    Contact,
    ContactPhone,
    ContactTeam,
    Message,
    MessageEvent,
)

NAME_MAX = 120
NOTE_MAX = 200
MAX_PHONES = 3


# Why a message cannot go to a contact (shown to staff as a sentence).
BLOCK_REASONS = ("no_consent", "withdrawn", "no_mobile", "opted_out", "invalid_number")


@dataclass(frozen=True)
class PhoneInput:
    e164: str
    is_mobile: bool


def read_phones(raw_numbers: Iterable[str]) -> list[PhoneInput]:
    """Normalise the numbers typed by staff; raises Invalid naming the bad one."""
    numbers: list[PhoneInput] = []
    for index, raw in enumerate(raw_numbers):
        if not (raw or "").strip():
            continue  # an empty field; the index still names the field the error is for
        try:
            parsed = phone.normalize(raw)
        except phone.InvalidPhoneNumber:
            raise Invalid({f"phone_{index}": FieldError("invalid_phone")}) from None
        if all(existing.e164 != parsed.e164 for existing in numbers):
            numbers.append(PhoneInput(parsed.e164, parsed.is_mobile))
    if len(numbers) > MAX_PHONES:
        raise Invalid({"phones": FieldError("too_many", {"max": MAX_PHONES})})
    return numbers


def _read_contact(
    display_name: str, language: str | None, phones: Sequence[str]
) -> list[PhoneInput]:
    """Every field error of a contact form at once, or its numbers normalised."""
    errors = _check_identity(display_name, language)
    try:
        numbers = read_phones(phones)
    except Invalid as invalid:
        errors.update(invalid.errors)
    if errors:
        raise Invalid(errors)
    return numbers


def _check_identity(display_name: str, language: str | None) -> dict[str, FieldError]:
    errors: dict[str, FieldError] = {}
    data = {"display_name": display_name, "language": language}
    parse.text(data, "display_name", errors, limit=NAME_MAX, required=True)
    parse.choice(data, "language", errors, choices=LANGUAGES, default="")
    return errors


def create_contact(
    session: Session,
    *,
    actor: User | None,
    display_name: str,
    language: str | None,
    phones: Sequence[str],
    team_ids: Iterable[int] = (),
    user_id: int | None = None,
    reference: str | None = None,
) -> Contact:
    display_name = single_line(display_name)
    numbers = _read_contact(display_name, language, phones)
    contact = Contact(
        display_name=display_name.strip(), language=language, user_id=user_id, reference=reference
    )
    contact.phones = [
        ContactPhone(e164=number.e164, is_mobile=number.is_mobile, position=position)
        for position, number in enumerate(numbers)
    ]
    contact.teams = [ContactTeam(team_id=team_id) for team_id in sorted(set(team_ids))]
    session.add(contact)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity_type="sms_contact",
        entity_id=contact.id,
        details={"phones": len(numbers), "teams": len(contact.teams)},
    )
    return contact


def update_contact(
    session: Session,
    contact: Contact,
    *,
    actor: User,
    display_name: str,
    language: str | None,
    phones: Sequence[str],
    team_ids: Iterable[int],
) -> Contact:
    """Change name, language, numbers (kept in the order given) and teams."""
    display_name = single_line(display_name)
    numbers = _read_contact(display_name, language, phones)
    changed = []
    if contact.display_name != display_name.strip():
        contact.display_name = display_name.strip()
        changed.append("display_name")
    if contact.language != language:
        contact.language = language
        changed.append("language")
    existing = {p.e164: p for p in contact.phones}
    wanted = [n.e164 for n in numbers]
    if wanted != [p.e164 for p in contact.phones]:
        changed.append("phones")
        # A known number keeps its state: a number the carrier refused stays refused.
        contact.phones = [
            existing.get(n.e164) or ContactPhone(e164=n.e164, is_mobile=n.is_mobile)
            for n in numbers
        ]
        for position, number in enumerate(contact.phones):
            number.position = position
    new_teams = sorted(set(team_ids))
    if new_teams != sorted(t.team_id for t in contact.teams):
        changed.append("teams")
        contact.teams = [ContactTeam(team_id=team_id) for team_id in new_teams]
    if changed:
        contact.updated_at = clock.now()
        audit.record_change(session, actor, "sms_contact", contact.id, changed)
    return contact


def get_contact(session: Session, contact_id: int, *, reader: User | None = None) -> Contact | None:
    """A contact with numbers and consents; opening it for a member of staff is audited."""
    contact = session.scalar(
        select(Contact)
        .where(Contact.id == contact_id)
        .options(selectinload(Contact.phones), selectinload(Contact.consents))
    )
    if contact is not None and reader is not None:
        audit.record_read(session, reader, "sms_contact", contact.id)
    return contact


def join_team(session: Session, contact: Contact, team_id: int | None) -> None:
    """Give the contact this team (and so its CPAS) if it has not got it yet."""
    if team_id is not None and team_id not in {team.team_id for team in contact.teams}:
        contact.teams.append(ContactTeam(team_id=team_id))
        session.flush()


def contact_for_user(session: Session, user_id: int) -> Contact | None:
    return session.scalar(select(Contact).where(Contact.user_id == user_id))


def contact_by_reference(
    session: Session, reference: str, *, with_consents: bool = False
) -> Contact | None:
    """`with_consents`: its numbers, consents and teams read in the same query (what
    `reachability` and `join_team` read then costs nothing more)."""
    query = select(Contact).where(Contact.reference == reference)
    if with_consents:
        query = query.options(
            joinedload(Contact.phones), joinedload(Contact.consents), joinedload(Contact.teams)
        )
    return session.scalars(query).unique().one_or_none()


def search_contacts(
    session: Session,
    text: str = "",
    limit: int = 50,
    *,
    within: ColumnElement[bool] | None = None,
) -> list[Contact]:
    """By name (any part) or by number (digits, national or international form);
    `within`: the viewer's CPAS (notifications.scope.contacts_filter)."""
    query = select(Contact).options(selectinload(Contact.phones))
    if within is not None:
        query = query.where(within)
    text = text.strip()
    if text:
        digits = "".join(ch for ch in text if ch.isdigit())
        conditions = [func.lower(Contact.display_name).contains(text.lower())]
        if len(digits) >= 4:
            tail = digits.lstrip("0")
            conditions.append(
                Contact.id.in_(
                    select(ContactPhone.contact_id).where(ContactPhone.e164.contains(tail))
                )
            )
        query = query.where(or_(*conditions))
    return list(session.scalars(query.order_by(Contact.display_name, Contact.id).limit(limit)))


def contact_ids_for_references(references: Select) -> Select:
    """The ids of the contacts whose reference is among `references` (a one-column
    select): a domain's audience picks its people without reading the contacts' table."""
    return select(Contact.id).where(Contact.reference.in_(references))


def contacts_by_phone(session: Session, e164: str) -> list[Contact]:
    return list(
        session.scalars(
            select(Contact).join(ContactPhone).where(ContactPhone.e164 == e164).order_by(Contact.id)
        )
    )


def teams_for_contacts(session: Session) -> list[Team]:
    return list(session.scalars(select(Team).order_by(Team.kind, Team.name)))


# --- Consent -------------------------------------------------------------------------


def set_consent(
    session: Session,
    contact: Contact,
    *,
    category: str,
    granted: bool,
    method: str,
    actor: User | None,
    note: str = "",
    channel: str = "sms",
    at: datetime | None = None,
) -> Consent:
    """Record a consent given or withdrawn; withdrawing cancels what waits in the outbox."""
    errors: dict[str, FieldError] = {}
    data = {"channel": channel, "category": category, "method": method, "note": note}
    parse.choice(data, "channel", errors, choices=CHANNELS)
    parse.choice(data, "category", errors, choices=CONSENT_CATEGORIES)
    parse.choice(data, "method", errors, choices=CONSENT_METHODS)
    parse.text(data, "note", errors, limit=NOTE_MAX, multiline=True)
    if errors:
        raise Invalid(errors)
    moment = at or clock.now()
    recorded_by = actor.id if actor is not None else None
    consent = _stored_consent(session, contact, channel, category)
    if consent is None:
        consent = Consent(contact_id=contact.id, channel=channel, category=category)
        if _consents_loaded(contact):
            contact.consents.append(consent)  # the loaded list stays the truth
        else:
            session.add(consent)
    consent.granted = granted
    consent.at = moment
    consent.method = method
    consent.recorded_by_id = recorded_by
    consent.note = note.strip()
    session.add(
        ConsentEvent(
            contact_id=contact.id,
            channel=channel,
            category=category,
            granted=granted,
            at=moment,
            method=method,
            recorded_by_id=recorded_by,
            note=note.strip(),
        )
    )
    audit.record(
        session,
        actor=actor,
        action="update",
        entity_type="sms_consent",
        entity_id=contact.id,
        details={"channel": channel, "category": category, "granted": granted, "method": method},
    )
    if not granted:
        stop_waiting(
            session,
            (Message.contact_id == contact.id) & (Message.category == category),
            status="blocked",
            reason="withdrawn",
            source="consent",
        )
    return consent


def _consents_loaded(contact: Contact) -> bool:
    return "consents" in inspect(contact).dict


def _stored_consent(
    session: Session, contact: Contact, channel: str, category: str
) -> Consent | None:
    """From the contact's consents when they are loaded already (a booking reads them
    with the contact: no query per category), else by primary key."""
    if _consents_loaded(contact):
        return next(
            (c for c in contact.consents if c.channel == channel and c.category == category),
            None,
        )
    return session.get(Consent, (contact.id, channel, category))


def consent_history(session: Session, contact_id: int) -> list[ConsentEvent]:
    return list(
        session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.contact_id == contact_id)
            .order_by(ConsentEvent.at.desc(), ConsentEvent.id.desc())
        )
    )


@dataclass(frozen=True)
class Reachability:
    phone: ContactPhone | None
    reason: str | None  # one of BLOCK_REASONS when phone is None

    @property
    def ok(self) -> bool:
        return self.phone is not None


def reachability(session: Session, contact: Contact, category: str) -> Reachability:
    """Which number a message of `category` goes to, or why it cannot go."""
    if category in CONSENT_CATEGORIES:
        consent = _stored_consent(session, contact, "sms", category)
        if consent is None:
            return Reachability(None, "no_consent")
        if not consent.granted:
            return Reachability(None, "withdrawn")
    mobiles = [p for p in contact.phones if p.is_mobile]
    usable = [p for p in mobiles if p.state == "active"]
    if usable:
        return Reachability(usable[0], None)
    if not mobiles:
        return Reachability(None, "no_mobile")
    states = {p.state for p in mobiles}
    return Reachability(None, "opted_out" if "opted_out" in states else "invalid_number")


def mark_phone(session: Session, e164: str, state: str, reason: str) -> int:
    """The gateway refused this number for good: mark it everywhere, block its waiting
    messages. Returns how many numbers changed."""
    numbers = list(
        session.scalars(
            select(ContactPhone).where(ContactPhone.e164 == e164, ContactPhone.state == "active")
        )
    )
    for number in numbers:
        number.state = state
        number.state_reason = reason
        number.state_at = clock.now()
    if numbers:
        stop_waiting(session, Message.to == e164, status="blocked", reason=state, source="gateway")
    return len(numbers)


def stop_waiting(
    session: Session, condition: Any, *, status: str, reason: str, source: str
) -> list[int]:
    """Messages still `pending` that must not leave any more become `status` (blocked,
    cancelled). One UPDATE … RETURNING: a row a dispatcher claims meanwhile is left alone.
    Returns the ids stopped."""
    now = clock.now()
    stopped = list(
        session.scalars(
            update(Message)
            .where(condition, Message.status == "pending")
            # Never leaving: the seeds of its secrets go (notifications.masking).
            .values(
                status=status, error_code=reason[:ERROR_CODE_MAX], status_at=now, secret_slots=None
            )
            .returning(Message.id)
            .execution_options(synchronize_session=False)
        )
    )
    session.add_all(
        MessageEvent(
            message_id=message_id,
            at=now,
            status=status,
            source=source,
            error_code=reason[:ERROR_CODE_MAX],
        )
        for message_id in stopped
    )
    # Objects already loaded in this session show the new state.
    for message_id in stopped:
        loaded = session.identity_map.get(session.identity_key(Message, message_id))  # type: ignore[arg-type]
        if loaded is not None:
            session.expire(loaded)
    return stopped
