"""The public face of a minibus stop: its page (/arret/<slug>), its poster, its live
status and the SMS subscription (issue 19).

Only what a stop shows on the street is read here: its name, address and the dated
rounds' times at it, and the CPAS's name and phone. Households (meal orders) and rides
never have a public page: `stop_by_slug` finds public stops only.

**Live status** (`live_status`) says in plain words what `rounds.live.live_status` (the
one ETA, from the crew's progress: the same the crew, the coordinator and the lateness SMS
read) finds for the stop: cancelled, skipped, here until its departure, left, finished,
planned (or moved) before the round starts, or on its way with its expected arrival.

**SMS subscription**: a one-time code through appointments' checks and throttles
(`appointments.services.send_phone_code`, purpose `stop_sms`: one budget per number,
address, network and site with the public booking), then a confirmed `StopSubscription`
for a notifications contact of that number alone (no name) with the consent
`service_change` recorded (method `online`). Leaving (the same code, or STOP by SMS,
which withdraws the consent in notifications) ends it.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from appointments import services as appointments
from core import audit, clock, organisations
from core.errors import FieldError, Invalid
from notifications import services as notify
from rounds import live
from rounds.models import SLUG_MAX, Round, RoundStop, Stop, StopSubscription

DAYS_SHOWN = 28  # the next visits a page lists: four weeks
VISITS_SHOWN = 8
LANGUAGES = ("fr", "nl", "en")
CONTACT_NAME = "SMS about a minibus stop"  # a contact for the number alone: no name
CONTACT_PREFIX = "rounds.stop-sms:"
SUBSCRIBED_TEMPLATE = "rounds_stop_subscribed"
# The answer to the subscription: what it is for, and how to leave (STOP), no name.
SUBSCRIBED_KIND = notify.TemplateKind(
    code=SUBSCRIBED_TEMPLATE,
    category="service_change",
    placeholders=("stop",),
    defaults={
        "fr": "CPAS: vous recevrez un SMS si le minibus est en retard ou ne passe pas à "
        "{stop}. Répondez STOP pour arrêter.",
        "nl": "OCMW: u krijgt een sms als de minibus te laat is of niet komt naar {stop}. "
        "Antwoord STOP om te stoppen.",
        "en": "CPAS: you will get an SMS if the minibus is late or does not come to {stop}. "
        "Reply STOP to stop.",
    },
    example={"stop": "Monceau église"},
)


def slugify(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:60] or "arret"


def unique_slug(session: Session, name: str) -> str:
    """A slug made from the name, with -2, -3… when another stop (any CPAS) has it."""
    base = slugify(name)
    taken = set(
        session.scalars(
            select(Stop.public_slug).where(
                (Stop.public_slug == base) | Stop.public_slug.like(f"{base}-%")
            )
        )
    )
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}"[:SLUG_MAX], number + 1
    return slug


def stop_by_slug(session: Session, slug: str) -> Stop | None:
    """An active public stop; None for anything else (no household, no ride)."""
    if not slug or len(slug) > SLUG_MAX or not re.fullmatch(r"[a-z0-9-]+", slug):
        return None
    return session.scalar(select(Stop).where(Stop.public_slug == slug, Stop.active))


# --- Live status ---------------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    """`code`: `cancelled`, `skipped`, `moved` (arrival at `expected`), `planned` (the
    round has not started: arrival at `expected`), `en_route` (started: arrival expected
    at `expected`, `late_minutes` behind), `here` (until `expected`, the departure),
    `left`, `finished`."""

    code: str
    expected: time | None = None
    late_minutes: int = 0


def _local_time(moment: datetime | None) -> time | None:
    if moment is None:
        return None
    return clock.to_local(moment).time().replace(second=0, microsecond=0)


def live_status(session: Session, rnd: Round, stop: RoundStop, now: datetime) -> Status:
    """The status of `stop` in the dated round `rnd`, from the one ETA of the crew's
    progress (`rounds.live.live_status`)."""
    line = live.live_status(session, stop.id, now)
    if line is None or line.status == "cancelled" or rnd.status == "cancelled":
        return Status("cancelled")
    if line.status == "skipped":
        return Status("skipped")
    if line.status == "left":
        return Status("left")
    if line.status == "arrived":
        return Status("here", stop.planned_departure)
    if rnd.status == "finished" or (rnd.status == "started" and line.eta is None):
        return Status("finished")
    if rnd.status != "started":
        return Status("moved" if line.status == "moved" else "planned", _local_time(line.planned))
    return Status("en_route", _local_time(line.eta), line.delay_minutes)


# --- The page ------------------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    day: date
    arrival: time | None
    departure: time | None
    topic: str
    status: Status


@dataclass(frozen=True)
class PublicStop:
    stop: Stop
    cpas_name: str
    cpas_phone: str
    visits: list[Visit]
    today: Visit | None


def _cpas(session: Session, stop: Stop) -> organisations.Cpas | None:
    return organisations.cpas_of_team(session, stop.team_id)


def cpas_name(cpas: organisations.Cpas | None, language: str) -> str:
    return cpas.label(language) if cpas is not None else ""


def public_stop(session: Session, stop: Stop, language: str) -> PublicStop:
    """The stop's next visits (today and the next four weeks; a cancelled day or a
    skipped stop stays listed, said so) and today's live status."""
    now = clock.now()
    today = clock.to_local(now).date()
    rows = session.execute(
        select(Round, RoundStop)
        .join(RoundStop, RoundStop.round_id == Round.id)
        .where(
            RoundStop.stop_id == stop.id,
            RoundStop.kind == "public_stop",
            Round.team_id == stop.team_id,
            Round.kind == "minibus",
            Round.day >= today,
            Round.day < today + timedelta(days=DAYS_SHOWN),
        )
        .order_by(Round.day, RoundStop.planned_arrival)
        .limit(VISITS_SHOWN)
    ).all()
    visits: list[Visit] = []
    today_visit: Visit | None = None
    for rnd, round_stop in rows:
        status = live_status(session, rnd, round_stop, now)
        visit = Visit(
            rnd.day,
            round_stop.moved_to or round_stop.planned_arrival,
            round_stop.planned_departure,
            round_stop.topic,
            status,
        )
        visits.append(visit)
        if rnd.day == today and today_visit is None:
            today_visit = visit
    cpas = _cpas(session, stop)
    return PublicStop(
        stop=stop,
        cpas_name=cpas_name(cpas, language),
        cpas_phone=cpas.phone if cpas is not None else "",
        visits=visits,
        today=today_visit,
    )


# --- SMS subscription -----------------------------------------------------------------


def _language(language: str) -> str:
    if language not in LANGUAGES:
        raise Invalid({"sms_language": FieldError("unknown_choice")})
    return language


def send_code(
    session: Session, stop: Stop, *, raw_phone: str, language: str, address: str, secret: str
) -> appointments.PhoneCheck:
    """A one-time code to the number (the booking's limits); committed, also when
    refused for a limit (RateLimited: the attempt counts). Invalid: nothing saved."""
    try:
        _language(language)
        cpas = _cpas(session, stop)
        check = appointments.send_phone_code(
            session,
            raw_phone=raw_phone,
            language=language,
            address=address,
            secret=secret,
            purpose="stop_sms",
            # The code's contact is the stop's team's (so its CPAS's, seen by no other
            # CPAS) and the SMS leaves with that CPAS's sender (docs/cpas.md).
            team_id=stop.team_id,
            cpas_id=cpas.id if cpas is not None else None,
            values=notify.cpas_values(
                {code: cpas.label(code) for code in LANGUAGES} if cpas is not None else None,
                language,
            ),
        )
    except appointments.RateLimited:
        session.commit()
        raise
    except Invalid:
        session.rollback()
        raise
    session.commit()
    return check


def check_code(session: Session, check: appointments.PhoneCheck, code: str, *, secret: str) -> str:
    """The proof; a wrong try counts (committed) and raises Invalid."""
    try:
        proof = appointments.verify_phone_code(session, check, code, secret=secret)
    except Invalid:
        session.commit()
        raise
    session.commit()
    return proof


def _contact(session: Session, e164: str, language: str, secret: str):
    reference = f"{CONTACT_PREFIX}{appointments.phone_hash(e164, secret)[:40]}"
    contact = notify.contact_by_reference(session, reference)
    if contact is None:
        contact = notify.create_contact(
            session,
            actor=None,
            display_name=CONTACT_NAME,
            language=language,
            phones=[e164],
            reference=reference,
        )
    return contact


def _running(session: Session, stop: Stop, contact_id: int) -> StopSubscription | None:
    return session.scalar(
        select(StopSubscription).where(
            StopSubscription.stop_id == stop.id,
            StopSubscription.contact_id == contact_id,
            StopSubscription.stopped_at.is_(None),
        )
    )


def _subscribe(
    session: Session,
    stop: Stop,
    check_id: object,
    proof: object,
    e164: str,
    language: str,
    secret: str,
) -> StopSubscription:
    check = appointments.phone_code_confirmed(session, check_id, proof, e164, secret=secret)
    contact = _contact(session, e164, language, secret)
    notify.join_team(session, contact, stop.team_id)  # its CPAS's broadcasts reach it
    now = clock.now()
    subscription = _running(session, stop, contact.id)
    if subscription is None:
        subscription = StopSubscription(
            id=uuid.uuid4(),
            team_id=stop.team_id,
            stop_id=stop.id,
            contact_id=contact.id,
            language=language,
            created_at=now,
            confirmed_at=now,
        )
        try:
            with session.begin_nested():
                session.add(subscription)
        except IntegrityError:  # the same number, confirmed at the same moment elsewhere
            existing = _running(session, stop, contact.id)
            assert existing is not None
            subscription = existing
        audit.record(
            session,
            actor=None,
            action="create",
            entity_type="rounds_stop_subscription",
            entity_id=subscription.id,
            details={"stop_id": str(stop.id), "fields": ["phone", "language"]},
        )
    notify.set_consent(
        session,
        contact,
        category="service_change",
        granted=True,
        method="online",
        actor=None,
        note=f"stop:{stop.public_slug}",
    )
    body, _language = notify.render(
        session, SUBSCRIBED_TEMPLATE, subscription.language, {"stop": stop.name}
    )
    # Once per subscription (its key): a second confirmation of the same number and stop
    # finds the running subscription and sends nothing more.
    notify.enqueue(
        session,
        key=f"rounds:subscribed:{subscription.id}",
        contact=contact,
        category="service_change",
        body=body,
        requested=True,
        cpas_id=organisations.cpas_id_of_team(session, stop.team_id),
    )
    appointments.phone_code_used(check)
    return subscription


def _leave(
    session: Session,
    stop: Stop,
    check_id: object,
    proof: object,
    e164: str,
    language: str,
    secret: str,
) -> int:
    check = appointments.phone_code_confirmed(session, check_id, proof, e164, secret=secret)
    reference = f"{CONTACT_PREFIX}{appointments.phone_hash(e164, secret)[:40]}"
    contact = notify.contact_by_reference(session, reference)
    ended = 0
    if contact is not None:
        subscription = _running(session, stop, contact.id)
        if subscription is not None:
            subscription.stopped_at = clock.now()
            ended = 1
            audit.record(
                session,
                actor=None,
                action="update",
                entity_type="rounds_stop_subscription",
                entity_id=subscription.id,
                details={"fields": ["stopped_at"]},
            )
        others = session.scalar(
            select(func.count())
            .select_from(StopSubscription)
            .where(StopSubscription.contact_id == contact.id, StopSubscription.stopped_at.is_(None))
        )
        if not others:
            notify.set_consent(
                session,
                contact,
                category="service_change",
                granted=False,
                method="online",
                actor=None,
                note=f"stop:{stop.public_slug}",
            )
    appointments.phone_code_used(check)
    return ended


def finish(
    session: Session,
    stop: Stop,
    *,
    leave: bool,
    check_id: object,
    proof: object,
    e164: str,
    language: str,
    secret: str,
) -> bool:
    """Subscribe (or leave, `leave`) with a verified number; committed. Idempotent: a
    second tap keeps one subscription. Invalid (not verified): nothing changed."""
    _language(language)
    try:
        if leave:
            _leave(session, stop, check_id, proof, e164, language, secret)
        else:
            _subscribe(session, stop, check_id, proof, e164, language, secret)
    except Exception:
        session.rollback()
        raise
    session.commit()
    return True


def subscriber_count(session: Session, stop: Stop) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(StopSubscription)
            .where(
                StopSubscription.stop_id == stop.id,
                StopSubscription.confirmed_at.is_not(None),
                StopSubscription.stopped_at.is_(None),
            )
        )
        or 0
    )
