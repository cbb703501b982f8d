"""SMS received: OUI / NON to a reminder, STOP, and everything else for reception.

`handle_inbound()` is called once per SMS Twilio forwards (and again when Twilio
retries): the row is keyed by the provider's id (MessageSid), so a replay changes
nothing and gets the same answer.

- OUI / JA / YES and NON / NEE / NO answer the last reminder sent to that number
  whose subject takes replies (an appointment): the subject's domain confirms or
  cancels it and chooses the answer.
- STOP / ARRET / ARRÊT / STOPPEN withdraw the consent for the category of the last
  message sent to that number (all categories when there was none), for every
  contact with that number, and the answer says which topic.
- Anything else waits in the reception's inbox, linked to the sender's file.

A number no contact has learns nothing: whatever it sends, it gets the same neutral
"message received" in French and Dutch, and nothing but the inbox row changes.

An SMS of no contact belongs to the CPAS whose number received it: a CPAS's own number,
or the installation's when one CPAS alone uses it (the others have their own), else the
one CPAS whose contacts have the sender's number. Otherwise it is no CPAS's: no staff
reads it, the platform administrator sees that it came and routes it
(notifications.orphans), and the sender is told once a day, in French and Dutch, to
contact their CPAS directly (`reply_no_cpas`, docs/sms.md).
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from core import audit, clock, organisations, phone
from core.accounts import Team, User
from notifications import texts
from notifications.contacts import contacts_by_phone, set_consent
from notifications.models import (
    CONSENT_CATEGORIES,
    INBOUND_BODY_MAX,
    LANGUAGES,
    Consent,
    Contact,
    ContactTeam,
    InboundSms,
    Message,
)
from notifications.outbox import Answer, subject_kind

log = logging.getLogger("terrain.sms")


CONFIRM_WORDS = frozenset({"OUI", "JA", "YES"})
CANCEL_WORDS = frozenset({"NON", "NEE", "NO"})
STOP_WORDS = frozenset({"STOP", "ARRET", "STOPPEN"})
# Words that may follow a keyword without needing a person to read the SMS.
POLITE_WORDS = frozenset(
    {"MERCI", "BEAUCOUP", "BEDANKT", "DANK", "DANKU", "U", "WEL", "THANKS", "THANK", "YOU", "OK"}
)

# How far back a reply may answer a reminder, and a STOP a message.
REPLY_WINDOW = timedelta(days=7)
STOP_WINDOW = timedelta(days=30)
SENT_STATES = ("queued", "sent", "delivered")
FROM_MAX = 20


@dataclass(frozen=True)
class InboundResult:
    reply: str | None  # the text answered in TwiML, None for no answer
    inbound: InboundSms


def keyword(body: str) -> str:
    """The first word, upper case, without accents or punctuation ("Oui!" -> "OUI")."""
    words = _words(body)
    return words[0] if words else ""


def _words(body: str) -> list[str]:
    decomposed = unicodedata.normalize("NFKD", body or "")
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    cleaned = "".join(ch if ch.isalnum() else " " for ch in plain)
    return cleaned.upper().split()


def _only_keyword(body: str) -> bool:
    """True when nothing but the keyword and polite words was written: no person needs
    to read it. "Oui mais je serai en retard" stays open in the inbox."""
    return all(word in POLITE_WORDS for word in _words(body)[1:])


def _own_number(cpas: organisations.Cpas) -> str | None:
    """The CPAS's own SMS number (its sender is a number), else None."""
    sender = (cpas.sms_sender or "").strip()
    if not sender.startswith("+"):
        return None
    try:
        return phone.normalize(sender).e164
    except phone.InvalidPhoneNumber:
        return None


def cpas_of_number(session: Session, to_number: str | None) -> int | None:
    """The CPAS whose SMS sender is this number (the `To` of an SMS received); None for
    the installation's own number, or when no CPAS's sender is it."""
    try:
        wanted = phone.normalize(to_number or "").e164
    except phone.InvalidPhoneNumber:
        return None
    for cpas in organisations.list_cpas(session):
        if _own_number(cpas) == wanted:
            return cpas.id
    return None


def shared_number_cpas(session: Session) -> int | None:
    """The CPAS an SMS to the installation's own number belongs to: the only CPAS, or
    the only one without a number of its own; None when several (or none) use it."""
    every = organisations.list_cpas(session)
    if len(every) == 1:
        return every[0].id
    users = [cpas.id for cpas in every if _own_number(cpas) is None]
    return users[0] if len(users) == 1 else None


def _cpas_of_contacts(session: Session, contacts: Sequence[Contact]) -> int | None:
    """The one CPAS all these contacts belong to (by their teams or user), else None."""
    if not contacts:
        return None
    found: set[int | None] = set()
    for contact in contacts:
        teams = {link.team_id for link in contact.teams}
        if not teams and contact.user_id is not None:
            user = session.get(User, contact.user_id)
            teams = {user.team_id} if user is not None and user.team_id is not None else set()
        if not teams:
            return None  # a contact of no team: no CPAS can be told
        found |= {organisations.cpas_id_of_team(session, team_id) for team_id in teams}
    return found.pop() if len(found) == 1 else None


def _of_cpas(session: Session, contacts: Sequence[Contact], cpas_id: int) -> list[Contact]:
    """The contacts a CPAS knows: of its teams (or a member of its staff), or who had a
    message from it."""
    ids = [contact.id for contact in contacts]
    teams = select(Team.id).where(Team.cpas_id == cpas_id)
    known = set(
        session.scalars(
            select(ContactTeam.contact_id).where(
                ContactTeam.contact_id.in_(ids), ContactTeam.team_id.in_(teams)
            )
        )
    )
    known |= set(
        session.scalars(
            select(Contact.id).where(
                Contact.id.in_(ids),
                Contact.user_id.in_(select(User.id).where(User.team_id.in_(teams))),
            )
        )
    )
    known |= set(
        session.scalars(
            select(Message.contact_id)
            .where(Message.contact_id.in_(ids), Message.cpas_id == cpas_id)
            .distinct()
        )
    )
    return [contact for contact in contacts if contact.id in known]


def handle_inbound(
    session: Session,
    *,
    provider_id: str,
    from_number: str,
    body: str,
    to_number: str | None = None,
) -> InboundResult:
    """Act on one SMS received and say what to answer. Idempotent on `provider_id`.

    `to_number`: the number it was sent to. When it is a CPAS's sender, the SMS belongs
    to that CPAS only: its staff read it, and OUI / NON / STOP act on that CPAS's
    messages and contacts only (another CPAS's reminder to the same person is left
    alone)."""
    existing = _by_provider_id(session, provider_id)
    if existing is not None:
        return InboundResult(existing.reply or None, existing)
    try:
        e164 = phone.normalize(from_number).e164
    except phone.InvalidPhoneNumber:
        e164 = None
    inbound = InboundSms(
        provider_id=provider_id[:64],
        from_e164=(e164 or (from_number or "").strip())[:FROM_MAX],
        body=(body or "")[:INBOUND_BODY_MAX],
        received_at=clock.now(),
        outcome="inbox",
        reply="",
        cpas_id=cpas_of_number(session, to_number),
    )
    # The row first, in a savepoint: the same SMS delivered twice at once (Twilio
    # retrying a slow answer) waits on the unique provider id here, then finds the
    # first one's row, so a reminder is never confirmed twice.
    try:
        with session.begin_nested():
            session.add(inbound)
            session.flush()
    except IntegrityError:
        existing = _by_provider_id(session, provider_id)
        if existing is None:
            raise
        return InboundResult(existing.reply or None, existing)

    contacts = contacts_by_phone(session, e164) if e164 else []
    if inbound.cpas_id is not None:
        contacts = _of_cpas(session, contacts, inbound.cpas_id)
    word = keyword(inbound.body)
    if not contacts:
        # Unknown number: the same neutral answer for everything, nothing else changes.
        inbound.in_reply_to_id = _last_sent_id(
            session, inbound.from_e164, STOP_WINDOW, inbound.cpas_id
        )
        reply = _neutral(session, None)
    elif word in CONFIRM_WORDS or word in CANCEL_WORDS:
        answer: Answer = "confirm" if word in CONFIRM_WORDS else "cancel"
        reply = _answer_reminder(session, inbound, contacts, answer)
    elif word in STOP_WORDS:
        reply = _stop(session, inbound, contacts)
    else:
        inbound.contact_id = contacts[0].id if len(contacts) == 1 else None
        inbound.in_reply_to_id = _last_sent_id(
            session, inbound.from_e164, STOP_WINDOW, inbound.cpas_id
        )
        reply = _neutral(session, _common_language(contacts))
    if inbound.outcome != "inbox" and _only_keyword(inbound.body):
        inbound.handled_at = inbound.received_at  # nothing left for a person to do
    if inbound.cpas_id is None and inbound.contact_id is None:
        # Set last: OUI / NON / STOP above act as before, on every CPAS's messages.
        inbound.cpas_id = shared_number_cpas(session) or _cpas_of_contacts(session, contacts)
        if inbound.cpas_id is None and inbound.outcome == "inbox":
            reply = _no_cpas_reply(session, inbound)
    inbound.reply = reply or ""
    session.flush()
    log.info("sms inbound %s: %s", inbound.id, inbound.outcome)
    return InboundResult(reply, inbound)


def _by_provider_id(session: Session, provider_id: str) -> InboundSms | None:
    return session.scalar(select(InboundSms).where(InboundSms.provider_id == provider_id[:64]))


def _no_cpas_reply(session: Session, inbound: InboundSms) -> str | None:
    """The answer "contact your CPAS directly", in French and Dutch, once per number and
    Brussels day: later SMS of that day get none (a number writing in a loop is not
    answered in a loop)."""
    text = texts.render(session, "reply_no_cpas", None, {})[0]
    local = clock.to_local(inbound.received_at)
    midnight = clock.as_utc(datetime.combine(local.date(), time(), tzinfo=clock.BRUSSELS))
    told = session.scalar(
        select(InboundSms.id)
        .where(
            InboundSms.from_e164 == inbound.from_e164,
            InboundSms.id != inbound.id,
            InboundSms.received_at >= midnight,
            InboundSms.reply == text,
        )
        .limit(1)
    )
    return None if told is not None else text


def _neutral(session: Session, language: str | None) -> str:
    return texts.render(session, "reply_received", language, {})[0]


def _common_language(contacts: Sequence[Contact]) -> str | None:
    """The language of the people behind a number; bilingual when they differ."""
    languages = {contact.language for contact in contacts}
    return languages.pop() if len(languages) == 1 else None


def _sent_to(e164: str, window: timedelta, cpas_id: int | None = None) -> Select[tuple[Message]]:
    """Messages sent to this number lately; `cpas_id`: that CPAS's only (a reply to its
    number answers its messages)."""
    query = select(Message).where(
        Message.to == e164,
        Message.status.in_(SENT_STATES),
        Message.sent_at >= clock.now() - window,
    )
    if cpas_id is not None:
        query = query.where(Message.cpas_id == cpas_id)
    return query.order_by(Message.sent_at.desc(), Message.id.desc())


def _last_sent_id(
    session: Session, e164: str, window: timedelta, cpas_id: int | None = None
) -> int | None:
    if not e164:
        return None
    return session.scalar(_sent_to(e164, window, cpas_id).with_only_columns(Message.id).limit(1))


def _answer_reminder(
    session: Session, inbound: InboundSms, contacts: Sequence[Contact], answer: Answer
) -> str:
    """OUI / NON: the most recent message to this number whose subject takes replies."""
    contact_ids = {contact.id for contact in contacts}
    inbound.contact_id = contacts[0].id if len(contacts) == 1 else None
    inbound.in_reply_to_id = _last_sent_id(
        session, inbound.from_e164, REPLY_WINDOW, inbound.cpas_id
    )
    for message in session.scalars(
        _sent_to(inbound.from_e164, REPLY_WINDOW, inbound.cpas_id)
        .where(Message.subject.is_not(None))
        .limit(50)
    ):
        kind, record_id = subject_kind(message.subject)
        if kind is None or kind.on_reply is None or message.contact_id not in contact_ids:
            continue
        # The reminder this reply answers: from now on the inbox speaks of it.
        inbound.in_reply_to_id = message.id
        inbound.contact_id = message.contact_id
        language = message.contact.language
        if not kind.is_current(session, record_id):
            return _neutral(session, language)  # cancelled or past: reception answers
        outcome = kind.on_reply(session, record_id, answer)
        if outcome.done:
            inbound.outcome = "confirmed" if answer == "confirm" else "cancelled"
            audit.record(
                session,
                actor=None,
                action="update",
                entity_type="sms_inbound",
                entity_id=inbound.id,
                details={"outcome": inbound.outcome, "subject": message.subject},
            )
        return texts.render(session, outcome.template, language, dict(outcome.values))[0]
    return _neutral(session, _common_language(contacts))


def _stop(session: Session, inbound: InboundSms, contacts: Sequence[Contact]) -> str:
    """STOP: withdraw the category of the last message sent (or all), say which."""
    last = session.scalar(
        _sent_to(inbound.from_e164, STOP_WINDOW, inbound.cpas_id)
        .where(Message.category.in_(CONSENT_CATEGORIES))
        .limit(1)
    )
    categories = (last.category,) if last is not None else CONSENT_CATEGORIES
    inbound.in_reply_to_id = last.id if last is not None else None
    inbound.contact_id = contacts[0].id if len(contacts) == 1 else None
    inbound.outcome = "stopped"
    for contact in contacts:
        for category in categories:
            current = session.get(Consent, (contact.id, "sms", category))
            if current is not None and not current.granted:
                continue  # already withdrawn: no second event
            set_consent(
                session,
                contact,
                category=category,
                granted=False,
                method="sms_reply",
                actor=None,
                at=inbound.received_at,
            )

    def topics(language: str) -> dict[str, str]:
        names = texts.CATEGORY_TOPICS[language]
        return {"topic": ", ".join(names[category] for category in categories)}

    return _render_each(session, "reply_stopped", _common_language(contacts), topics)


def _render_each(
    session: Session,
    code: str,
    language: str | None,
    values: Callable[[str], Mapping[str, str]],
) -> str:
    """Like texts.render, with values that depend on the language (a topic's name)."""
    if language in LANGUAGES:
        return texts.render(session, code, language, values(language))[0]
    french = texts.fill(texts.template_text(session, code, "fr"), values("fr"))
    dutch = texts.fill(texts.template_text(session, code, "nl"), values("nl"))
    return f"{french}\n{dutch}"


# --- The reception's inbox -------------------------------------------------------------


def inbox(
    session: Session,
    *,
    open_only: bool = True,
    limit: int = 50,
    offset: int = 0,
    within: ColumnElement[bool] | None = None,
) -> list[InboundSms]:
    """Replies received, newest first; `open_only`: those nobody has handled yet;
    `within`: the viewer's CPAS (notifications.scope.inbound_filter)."""
    query = select(InboundSms).options(selectinload(InboundSms.contact))
    if within is not None:
        query = query.where(within)
    if open_only:
        query = query.where(InboundSms.handled_at.is_(None))
    return list(
        session.scalars(
            query.order_by(InboundSms.received_at.desc(), InboundSms.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )


def open_count(session: Session, *, within: ColumnElement[bool] | None = None) -> int:
    query = select(func.count()).select_from(InboundSms).where(InboundSms.handled_at.is_(None))
    if within is not None:
        query = query.where(within)
    return session.scalar(query) or 0


def get_inbound(
    session: Session, inbound_id: int, *, reader: User | None = None
) -> InboundSms | None:
    """One SMS received; opening it for a member of staff is audited."""
    inbound = session.scalar(
        select(InboundSms)
        .where(InboundSms.id == inbound_id)
        .options(selectinload(InboundSms.contact))
    )
    if inbound is not None and reader is not None:
        audit.record_read(session, reader, "sms_inbound", inbound.id)
    return inbound


def mark_handled(session: Session, inbound: InboundSms, actor: User) -> bool:
    """Reception has dealt with it. Idempotent: False when it already was handled."""
    if inbound.handled_at is not None:
        return False
    inbound.handled_at = clock.now()
    inbound.handled_by_id = actor.id
    audit.record(
        session,
        actor=actor,
        action="update",
        entity_type="sms_inbound",
        entity_id=inbound.id,
        details={"handled": True},
    )
    return True


def replied_to(session: Session, rows: Sequence[InboundSms]) -> dict[int, Message]:
    """The messages these SMS answer, by id (for "reply to the SMS of ...")."""
    ids = {row.in_reply_to_id for row in rows if row.in_reply_to_id is not None}
    if not ids:
        return {}
    return {m.id: m for m in session.scalars(select(Message).where(Message.id.in_(ids)))}


def senders(session: Session, inbound: InboundSms) -> list[Contact]:
    """The contacts who have the number an SMS came from (reception picks one)."""
    return contacts_by_phone(session, inbound.from_e164)
