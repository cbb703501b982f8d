"""Home care in the sync engine: what an aide's phone downloads (her own visits of today
and the next 2 days, and the households they need) and the ops it sends from a visit.

The window is judged on the visit's end, so a 21:00-07:00 night that started yesterday
stays on the phone until it ends. The feed token holds the day: each new day the phone
starts afresh (reset) and what left the window is gone. Within a day, a visit of the
team that changed and is no longer hers (reassigned, cancelled) is sent as a deletion,
and so is its household when none of her visits there remain: the server does not know
which phone held them, so an aide may get deletions of records she never had (an id,
nothing else).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock, sync
from core.accounts import User
from core.errors import FieldError, Invalid
from core.roles import Permission, Role
from homecare import demo, offers, reports
from homecare.calendar import local_moment
from homecare.models import (
    AIDE_REASONS,
    NOTE_MAX,
    OUTCOMES,
    TASK_MAX,
    TASKS_MAX,
    VARIANCE_NOTE_MAX,
    VARIANCE_REASONS,
    Beneficiary,
    CarePlan,
    ProofRule,
    Visit,
    VisitReport,
)
from notifications import services as notify

DAYS_AHEAD = 2  # today and the next 2 days
VISIT_TYPE = "homecare.visit"
HOUSEHOLD_TYPE = "homecare.household"


def visit_end(visit: Visit) -> datetime:
    """When the visit ends as planned (or at the latest, when not placed yet)."""
    start = visit.planned_start or visit.latest_start
    return clock.as_utc(start) + timedelta(minutes=visit.duration_minutes)


def visit_start(visit: Visit) -> datetime:
    return clock.as_utc(visit.planned_start or visit.earliest_start)


def window(today: date) -> tuple[datetime, datetime]:
    """From the start of today to the end of the last day shown (local days)."""
    return local_moment(today, time(0)), local_moment(
        today + timedelta(days=DAYS_AHEAD + 1), time(0)
    )


def in_window(visit: Visit, today: date) -> bool:
    opens, closes = window(today)
    return visit_end(visit) > opens and visit_start(visit) < closes


def is_hers(visit: Visit, user: User, today: date) -> bool:
    """On the aide's phone: hers (either aide of a visit that needs two), not cancelled,
    in her window."""
    return (
        user.role == Role.AIDE
        and user.id in (visit.aide_id, visit.second_aide_id)
        and visit.team_id == user.team_id
        and visit.status != "cancelled"
        and in_window(visit, today)
    )


def _today() -> date:
    return clock.to_local(clock.now()).date()


def _team_visits(session: Session, user: User, today: date) -> list[Visit]:
    # A visit ends at most a day after its day (a night): yesterday's may still run.
    query = select(Visit).where(
        Visit.team_id == user.team_id,
        Visit.day >= today - timedelta(days=1),
        Visit.day <= today + timedelta(days=DAYS_AHEAD),
    )
    return list(session.scalars(query.order_by(Visit.change_seq)))


def plan_tasks(session: Session, visits: list[Visit]) -> dict[uuid.UUID, list[str]]:
    ids = {visit.plan_id for visit in visits}
    if not ids:
        return {}
    rows = session.execute(select(CarePlan.id, CarePlan.tasks).where(CarePlan.id.in_(ids)))
    return {plan_id: list(tasks or []) for plan_id, tasks in rows}


def proof_modes(session: Session, visits: list[Visit]) -> dict[uuid.UUID, dict[str, Any]]:
    """Per visit, the proof its service asks of the team (homecare/cards.py sets it)."""
    if not visits:
        return {}
    services = dict(
        session.execute(
            select(CarePlan.id, CarePlan.service).where(
                CarePlan.id.in_({visit.plan_id for visit in visits})
            )
        ).all()
    )
    rules = {
        (rule.team_id, rule.service): rule
        for rule in session.scalars(
            select(ProofRule).where(ProofRule.team_id.in_({visit.team_id for visit in visits}))
        )
    }
    found = {}
    for visit in visits:
        rule = rules.get((visit.team_id, services.get(visit.plan_id, "")))
        found[visit.id] = {
            "mode": rule.mode if rule else "none",
            "radius_m": rule.radius_m if rule else None,
        }
    return found


def previous_notes(session: Session, visits: list[Visit]) -> dict[uuid.UUID, dict[str, str]]:
    """Per visit, the last note written at its household before its day (any aide of
    the team): what the aide reads before ringing."""
    households = {visit.beneficiary_id for visit in visits}
    if not households:
        return {}
    first = min(visit.day for visit in visits) - timedelta(days=60)
    rows = session.execute(
        select(Visit.beneficiary_id, Visit.day, VisitReport.note)
        .join(VisitReport, VisitReport.visit_id == Visit.id)
        .where(
            Visit.beneficiary_id.in_(households),
            Visit.day >= first,
            VisitReport.submitted.is_(True),
            VisitReport.note != "",
        )
        .order_by(Visit.day, VisitReport.left_at)
    ).all()
    found: dict[uuid.UUID, dict[str, str]] = {}
    for visit in visits:
        before = [row for row in rows if row[0] == visit.beneficiary_id and row[1] < visit.day]
        if before:
            found[visit.id] = {"day": before[-1][1].isoformat(), "note": before[-1][2]}
    return found


def serialize_visit(
    visit: Visit,
    tasks: list[str],
    *,
    changed: bool = False,
    previous: dict[str, str] | None = None,
    proof: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`changed`: somebody else changed it since the phone's last download (the phone
    cannot compare; the server says so). `previous`: the last note at the household."""
    return {
        "id": str(visit.id),
        "version": visit.version,
        "beneficiary_id": str(visit.beneficiary_id),
        "plan_id": str(visit.plan_id),
        "day": visit.day.isoformat(),
        "earliest_start": clock.as_utc(visit.earliest_start).isoformat(),
        "latest_start": clock.as_utc(visit.latest_start).isoformat(),
        "planned_start": clock.as_utc(visit.planned_start).isoformat()
        if visit.planned_start
        else None,
        "duration_minutes": visit.duration_minutes,
        "status": visit.status,
        "tasks": tasks,
        "actual_start": clock.as_utc(visit.actual_start).isoformat()
        if visit.actual_start
        else None,
        "actual_end": clock.as_utc(visit.actual_end).isoformat() if visit.actual_end else None,
        "changed": changed,
        "previous_note": previous,
        "proof": proof or {"mode": "none", "radius_m": None},
    }


def serialize_household(
    beneficiary: Beneficiary,
    phones: list[str],
    coordinator_phones: list[str] | None = None,
    *,
    changed: bool = False,
) -> dict[str, Any]:
    """What the aide needs at the door: address, entry, carnet de vie, phones, and her
    coordinator's phone."""
    return {
        "id": str(beneficiary.id),
        "name": beneficiary.name,
        "address": beneficiary.address,
        "postcode": beneficiary.postcode,
        "city": beneficiary.city,
        "latitude": beneficiary.latitude,
        "longitude": beneficiary.longitude,
        "entry_instructions": beneficiary.entry_instructions,
        "life_book": dict(beneficiary.life_book or {}),
        "phones": phones,
        "emergency_name": beneficiary.emergency_name,
        "emergency_phone": beneficiary.emergency_phone,
        "language": beneficiary.language,
        "coordinator_phones": coordinator_phones or [],
        "changed": changed,
    }


def household_phones(session: Session, beneficiary: Beneficiary) -> list[str]:
    if beneficiary.contact_id is None:
        return []
    contact = notify.get_contact(session, beneficiary.contact_id)
    return [phone.e164 for phone in contact.phones] if contact is not None else []


def coordinator_phones(session: Session, team_id: int) -> list[str]:
    """The team's coordinators' phones (their contact), for the aide to call."""
    phones: list[str] = []
    for coordinator in reports.coordinators(session, team_id):
        contact = notify.contact_for_user(session, coordinator.id)
        if contact is not None:
            phones.extend(phone.e164 for phone in contact.phones)
    return list(dict.fromkeys(phones))


def visit_changes(session: Session, user: User, since: int, limit: int) -> list[sync.Change]:
    """Her visits changed since `since`; a deletion for a team visit no longer hers."""
    if user.role != Role.AIDE or user.team_id is None:
        return []
    today = _today()
    found: list[sync.Change] = []
    changed = [visit for visit in _team_visits(session, user, today) if visit.change_seq > since]
    hers = [visit for visit in changed if is_hers(visit, user, today)]
    tasks = plan_tasks(session, hers)
    notes = previous_notes(session, hers)
    proofs = proof_modes(session, hers)
    for visit in changed:
        if is_hers(visit, user, today):
            record = serialize_visit(
                visit,
                tasks.get(visit.plan_id, []),
                changed=since > 0 and visit.changed_by_id != user.id,
                previous=notes.get(visit.id),
                proof=proofs.get(visit.id),
            )
            # The id of her report of it, as the page's forms carry it (a card drawn on
            # the phone from this record sends the same report as one drawn online).
            record["report_id"] = str(reports.report_id_for(visit.id, user.id))
            found.append(sync.Change(visit.change_seq, VISIT_TYPE, str(visit.id), record))
        elif since > 0:
            found.append(sync.Change(visit.change_seq, VISIT_TYPE, str(visit.id), None))
    # Filtered in Python, then cut: the engine reads "more" from the count it gets.
    return found[:limit]


def household_changes(session: Session, user: User, since: int, limit: int) -> list[sync.Change]:
    """The households of her visits in the window: sent when they changed, or when a
    visit there changed (a visit newly hers brings its household along). A household
    where none of her visits remain is sent as a deletion when a team visit there
    changed since `since` (reassigned, cancelled): like a visit's, the server does not
    know which phone held it, so an aide may get the deletion of one she never had."""
    if user.role != Role.AIDE or user.team_id is None:
        return []
    today = _today()
    latest: dict[uuid.UUID, int] = {}
    left: dict[uuid.UUID, int] = {}
    for visit in _team_visits(session, user, today):
        if is_hers(visit, user, today):
            latest[visit.beneficiary_id] = max(
                latest.get(visit.beneficiary_id, 0), visit.change_seq
            )
        elif since > 0 and visit.change_seq > since:
            left[visit.beneficiary_id] = max(left.get(visit.beneficiary_id, 0), visit.change_seq)
    found = [
        sync.Change(seq, HOUSEHOLD_TYPE, str(beneficiary_id), None)
        for beneficiary_id, seq in left.items()
        if beneficiary_id not in latest
    ]
    if not latest:
        found.sort(key=lambda change: (change.seq, change.id))
        return found[:limit]
    rows = session.scalars(select(Beneficiary).where(Beneficiary.id.in_(list(latest))))
    coordinators = coordinator_phones(session, user.team_id)
    for beneficiary in rows:
        seq = max(beneficiary.change_seq, latest[beneficiary.id])
        if seq > since:
            record = serialize_household(
                beneficiary,
                household_phones(session, beneficiary),
                coordinators,
                changed=since > 0 and beneficiary.change_seq > since,
            )
            found.append(sync.Change(seq, HOUSEHOLD_TYPE, str(beneficiary.id), record))
    found.sort(key=lambda change: (change.seq, change.id))
    return found[:limit]


sync.register_feed(
    sync.FeedSource(
        entity_type=VISIT_TYPE, permission=Permission.HOMECARE_VISITS, changes=visit_changes
    )
)
sync.register_feed(
    sync.FeedSource(
        entity_type=HOUSEHOLD_TYPE, permission=Permission.HOMECARE_VISITS, changes=household_changes
    )
)


def day_of(session: Session, user: User) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The aide's visits of her window in order, each with its household: what her phone
    holds after a sync, read here for the page."""
    if user.role != Role.AIDE or user.team_id is None:
        return []
    today = _today()
    mine = [visit for visit in _team_visits(session, user, today) if is_hers(visit, user, today)]
    mine.sort(key=visit_start)
    tasks = plan_tasks(session, mine)
    notes = previous_notes(session, mine)
    proofs = proof_modes(session, mine)
    coordinators = coordinator_phones(session, user.team_id)
    households = {
        beneficiary.id: serialize_household(
            beneficiary, household_phones(session, beneficiary), coordinators
        )
        for beneficiary in session.scalars(
            select(Beneficiary).where(Beneficiary.id.in_({visit.beneficiary_id for visit in mine}))
        )
    }
    return [
        (
            serialize_visit(
                visit,
                tasks.get(visit.plan_id, []),
                previous=notes.get(visit.id),
                proof=proofs.get(visit.id),
            ),
            households[visit.beneficiary_id],
        )
        for visit in mine
        if visit.beneficiary_id in households
    ]


# --- What the aide sends from a visit ------------------------------------------------------

UUID = {"type": "string", "format": "uuid"}
PHONE_TIME = {
    "type": "string",
    "format": "date-time",
    "description": "ISO 8601 with its offset, by the phone's clock. Not in the future.",
}
LATITUDE = {"type": ["number", "null"], "minimum": -90, "maximum": 90}
LONGITUDE = {"type": ["number", "null"], "minimum": -180, "maximum": 180}
STEP_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "One tap at the door. `id` is the visit report's id, made on the phone: check-in, "
        "check-out and report of one visit share it. `visit_id` names one of the aide's "
        "own visits; one of her team no longer hers (reassigned or cancelled while she was "
        "offline) is kept, unverified with `not_hers`, for the coordinator's review; another "
        "team's is refused as unknown. The position is one GPS fix, sent only when the "
        "service asks for it."
    ),
    "required": ["id", "visit_id", "at"],
    "properties": {
        "id": UUID,
        "visit_id": UUID,
        "at": PHONE_TIME,
        "latitude": LATITUDE,
        "longitude": LONGITUDE,
        "code": {
            "type": "string",
            "maxLength": 40,
            "description": (
                "The household card's code, scanned from its QR or typed, when the "
                "service asks for a code. Judged against the household's current card."
            ),
        },
    },
}
REPORT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "The visit report: times, tasks done, a note, the outcome. Kept even when its "
        "proof fails: then `verified` is false in the answer with `unverified_reason`. "
        "A verified normal report marks the visit done with these times; "
        "`nobody_answered` and `incident` send the coordinator an urgent SMS, once."
    ),
    "required": ["id", "visit_id", "outcome"],
    "properties": {
        "id": UUID,
        "visit_id": UUID,
        "arrived_at": PHONE_TIME,
        "left_at": PHONE_TIME,
        "arrival_latitude": LATITUDE,
        "arrival_longitude": LONGITUDE,
        "departure_latitude": LATITUDE,
        "departure_longitude": LONGITUDE,
        "tasks_done": {
            "type": "array",
            "items": {"type": "string", "maxLength": TASK_MAX},
            "maxItems": TASKS_MAX,
        },
        "note": {"type": "string", "maxLength": NOTE_MAX},
        "outcome": {"enum": list(OUTCOMES)},
        "unverified_reason": {
            "enum": list(AIDE_REASONS),
            "description": "The aide's one-tap reason when the proof could not be given.",
        },
        "proof_code": {
            "type": "string",
            "maxLength": 40,
            "description": "The household card's code (QR scanned or typed).",
        },
        "variance_reason": {
            "enum": list(VARIANCE_REASONS),
            "description": (
                "Why the visit ran 15 minutes or more over or under its planned length. "
                "Without it such a report is kept, marked `reason_missing`."
            ),
        },
        "variance_note": {"type": "string", "maxLength": VARIANCE_NOTE_MAX},
    },
}
# The examples name the demo's visit "example-visit" (homecare/demo.py): aide1's, the day
# before seeding, 9:00-10:00, in a service asking no proof.
EXAMPLE_REPORT_ID = str(demo.demo_id("example-report"))
EXAMPLE_VISIT_ID = str(demo.demo_id("example-visit"))
EXAMPLE_CHECKIN: dict[str, Any] = {
    "id": EXAMPLE_REPORT_ID,
    "visit_id": EXAMPLE_VISIT_ID,
    "at": sync.ExampleTime(days_ago=1, hour=9),
}
EXAMPLE_CHECKOUT: dict[str, Any] = {
    "id": EXAMPLE_REPORT_ID,
    "visit_id": EXAMPLE_VISIT_ID,
    "at": sync.ExampleTime(days_ago=1, hour=10),
}
EXAMPLE_REPORT: dict[str, Any] = {
    "id": EXAMPLE_REPORT_ID,
    "visit_id": EXAMPLE_VISIT_ID,
    "arrived_at": sync.ExampleTime(days_ago=1, hour=9),
    "left_at": sync.ExampleTime(days_ago=1, hour=10),
    "tasks_done": ["Toilette"],
    "note": "Madame va bien, frigo presque vide.",
    "outcome": "normal",
}


def _apply_step(step: str) -> Any:
    def apply(context: sync.OpContext, data: dict[str, Any]) -> sync.Applied:
        entry = reports.read_entry(step, data)
        report = reports.save(
            context.session, context.actor, entry, context.client_at, context.clock_offset
        )
        return sync.Applied(record_id=str(report.id), record=reports.serialize(report))

    return apply


for _step, _summary, _schema, _example in (
    ("checkin", "The aide arrives at a visit of hers (one tap).", STEP_SCHEMA, EXAMPLE_CHECKIN),
    ("checkout", "The aide leaves a visit of hers (one tap).", STEP_SCHEMA, EXAMPLE_CHECKOUT),
    ("report", "The aide's report of a visit of hers.", REPORT_SCHEMA, EXAMPLE_REPORT),
):
    sync.register(
        sync.OpType(
            name=f"homecare.visit.{_step}",
            permission=Permission.HOMECARE_VISITS,
            summary=_summary,
            data_schema=_schema,
            apply=_apply_step(_step),
            example=_example,
        )
    )


# --- Open visits: the offers an aide may take (homecare/offers.py) ----------------------------

sync.register_feed(
    sync.FeedSource(
        entity_type=offers.OFFER_TYPE,
        permission=Permission.HOMECARE_VISITS,
        changes=offers.offer_changes,
    )
)

ACCEPT_OFFER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "The aide takes a visit offered to her (a `homecare.offer` of her feed). The first "
        "acceptance wins; a later one is rejected with `offer_id: offer_taken` (withdrawn "
        "by the coordinator, or the visit changed since: `offer_withdrawn`; she now has "
        "another visit then or is away: `offer_clash`). An offer not made to her, of "
        "another team or unknown: `offer_id: unknown_offer`. Once taken the visit comes "
        "in her feed as a `homecare.visit`; the offer leaves the others' feeds."
    ),
    "required": ["offer_id"],
    "properties": {"offer_id": UUID},
}
# The demo's open visit, offered to aide1 among others (homecare/demo.py).
EXAMPLE_ACCEPT_OFFER: dict[str, Any] = {"offer_id": str(demo.demo_id("example-offer"))}


def _apply_accept_offer(context: sync.OpContext, data: dict[str, Any]) -> sync.Applied:
    try:
        offer_id = uuid.UUID(str(data.get("offer_id")))
    except ValueError:
        raise Invalid({"offer_id": FieldError("invalid_uuid")}) from None
    offer = offers.accept(context.session, context.actor, offer_id, context.client_at)
    return sync.Applied(
        record_id=str(offer.id),
        record={
            "id": str(offer.id),
            "version": offer.version,
            "visit_id": str(offer.visit_id),
            "status": offer.status,
        },
    )


sync.register(
    sync.OpType(
        name="homecare.visit.accept_offer",
        permission=Permission.HOMECARE_VISITS,
        summary="The aide takes an open visit offered to her; the first to accept gets it.",
        data_schema=ACCEPT_OFFER_SCHEMA,
        apply=_apply_accept_offer,
        example=EXAMPLE_ACCEPT_OFFER,
    )
)
