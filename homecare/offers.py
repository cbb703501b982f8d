"""Open visits (issue 18): a visit left uncovered (no aide, or its aide absent at that
time) is offered from the board to the aides of the team who could take it; each sees
it on her phone with the travel it adds to her day, and the first to accept gets it.

Who could take it is the board's own judgement (`board.check_change`): qualified for the
plan's skills that day, not refused by the household, not absent, no other visit at that
time, and the travel from her previous visit and to her next one fits in the gaps (the
planner's estimate, `core.routing`). Working hours and the weekly contract do not
exclude anybody: taking an extra visit is her choice.

Exactly once: an acceptance is a conditional UPDATE (`status = 'open'` → `taken`), so of
several acceptances arriving together exactly one changes the row (the others, on
PostgreSQL, wait for its commit and then find it taken); the visit's row is locked while
it is given. The functions of the last section are the pages' use cases (committed);
`accept` is applied through the sync op `homecare.visit.accept_offer`, which commits.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit, clock, sync
from core.accounts import User
from core.db import committed
from core.errors import FieldError, Invalid
from core.roles import Role
from core.routing import TRAVEL_MODES, Point, TravelMode, build_matrix
from homecare import access, board, runs
from homecare.generation import stamp_visit
from homecare.models import (
    AideProfile,
    Beneficiary,
    CarePlan,
    Visit,
    VisitOffer,
    VisitOfferAide,
)

# What keeps an aide from taking the visit (board warnings); the others only inform.
BLOCKING = frozenset(
    {"overlap", "missing_skill", "expired_skill", "aide_absent", "travel_too_tight", "refused_aide"}
)
OFFER_AHEAD = timedelta(days=14)  # a visit further ahead is planned, not offered


@dataclass(frozen=True)
class Candidate:
    aide_id: int
    name: str
    travel_minutes: int | None  # added to her day; None: a position is missing
    reasons: tuple[str, ...]  # why she cannot take it (empty: she can)
    over_contract: bool = False

    @property
    def fits(self) -> bool:
        return not self.reasons


def offer_start(visit: Visit) -> datetime:
    """The start offered: the planned one, or the earliest of the window."""
    return clock.as_utc(visit.planned_start or visit.earliest_start)


def _team_aides(session: Session, team_id: int) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .where(User.team_id == team_id, User.role == Role.AIDE, User.active)
            .order_by(User.display_name, User.id)
        )
    )


def _point(latitude: float | None, longitude: float | None) -> Point | None:
    if latitude is None or longitude is None:
        return None
    return Point(latitude, longitude)


def _minutes(profile: AideProfile, a: Point, b: Point) -> float:
    """Minutes from a to b at her mode and speed, as the planner estimates them."""
    if a == b:
        return 0.0
    mode = profile.transport_mode if profile.transport_mode in TRAVEL_MODES else "car"
    modes = dict(TRAVEL_MODES)
    if profile.speed_kmh:
        usual = TRAVEL_MODES[mode]
        modes[mode] = TravelMode(profile.speed_kmh, usual.detour, usual.overhead)
    return build_matrix([a, b], modes=[mode], travel_modes=modes).travel(mode, a, b)


def added_travel(session: Session, visit: Visit, aide_id: int, start: datetime) -> int | None:
    """The travel the visit adds to her day: from where she is before it (her previous
    visit that day, or home) to it and on to where she goes next (her next visit, or
    home), less the direct way she would have gone."""
    profile = session.get(AideProfile, aide_id)
    household = session.get(Beneficiary, visit.beneficiary_id)
    there = _point(household.latitude, household.longitude) if household else None
    if profile is None or there is None:
        return None
    home = _point(profile.home_latitude, profile.home_longitude)
    day = clock.to_local(start).date()
    others = session.scalars(
        select(Visit)
        .where(
            or_(Visit.aide_id == aide_id, Visit.second_aide_id == aide_id),
            Visit.status != "cancelled",
            Visit.id != visit.id,
            Visit.planned_start.is_not(None),
            Visit.day >= day - timedelta(days=1),
            Visit.day <= day + timedelta(days=1),
        )
        .order_by(Visit.planned_start)
    )
    before: Point | None = home
    after: Point | None = home
    for other in others:
        other_start = clock.as_utc(other.planned_start)  # type: ignore[arg-type]
        if clock.to_local(other_start).date() != day:
            continue
        place = session.get(Beneficiary, other.beneficiary_id)
        point = _point(place.latitude, place.longitude) if place else None
        if other_start < start:
            before = point
        elif after is home:
            after = point
    legs = []
    if before is not None:
        legs.append(_minutes(profile, before, there))
    if after is not None:
        legs.append(_minutes(profile, there, after))
    if not legs:
        return None
    direct = _minutes(profile, before, after) if before is not None and after is not None else 0
    return max(0, math.ceil(sum(legs) - direct))


def candidates(session: Session, visit: Visit) -> list[Candidate]:
    """Every aide of the team but the visit's own, and whether she could take it."""
    start = offer_start(visit)
    found = []
    for aide in _team_aides(session, visit.team_id):
        if aide.id in (visit.aide_id, visit.second_aide_id):
            continue
        codes = {warning.code for warning in board.check_change(session, visit, aide.id, start)}
        reasons = tuple(sorted(codes & BLOCKING))
        found.append(
            Candidate(
                aide_id=aide.id,
                name=aide.display_name,
                travel_minutes=None if reasons else added_travel(session, visit, aide.id, start),
                reasons=reasons,
                over_contract="over_contract" in codes,
            )
        )
    found.sort(key=lambda c: (not c.fits, c.travel_minutes is None, c.travel_minutes or 0))
    return found


def _uncovered_problem(session: Session, visit: Visit) -> str | None:
    """Why the visit cannot be offered, or None."""
    now = clock.now()
    start = offer_start(visit)
    if visit.status != "planned":
        return "visit_not_planned"
    if (visit.aides or 1) != 1:
        return "offer_not_for_transfer"
    if start <= now:
        return "visit_started"
    if start > now + OFFER_AHEAD:
        return "offer_too_far"
    if visit.aide_id is not None:
        # Covered, unless its aide is away then (ill this morning).
        codes = {w.code for w in board.check_change(session, visit, visit.aide_id, start)}
        if "aide_absent" not in codes:
            return "visit_covered"
    return None


def open_offer_of(session: Session, visit_id: uuid.UUID) -> VisitOffer | None:
    return session.scalar(
        select(VisitOffer).where(VisitOffer.visit_id == visit_id, VisitOffer.status == "open")
    )


def offer_visit(
    session: Session,
    user: User,
    visit_id: uuid.UUID | None,
    aide_ids: list[int],
    *,
    id: uuid.UUID | None = None,
) -> VisitOffer:
    """Offer the coordinator's uncovered visit to `aide_ids` (each one who could take it)."""
    visit = access.visit_to_change(session, user, visit_id)
    session.refresh(visit, with_for_update=True)
    problem = _uncovered_problem(session, visit)
    if problem:
        raise Invalid({"visit_id": FieldError(problem)})
    if open_offer_of(session, visit.id) is not None:
        raise Invalid({"visit_id": FieldError("offer_already_open")})
    able = {c.aide_id: c for c in candidates(session, visit) if c.fits}
    if not aide_ids:
        raise Invalid({"aide_ids": FieldError("no_aide_chosen")})
    if any(aide_id not in able for aide_id in aide_ids):
        raise Invalid({"aide_ids": FieldError("aide_not_available")})
    now = clock.now()
    offer = VisitOffer(
        id=id or uuid.uuid4(),
        team_id=visit.team_id,
        visit_id=visit.id,
        visit_version=visit.version,
        start=offer_start(visit),
        status="open",
        offered_by_id=user.id,
        offered_at=now,
    )
    try:
        with session.begin_nested():
            session.add(offer)
            sync.stamp(session, offer, sync.team_scope(offer.team_id), user, None)
            session.flush()  # the partial unique index: one open offer per visit
    except IntegrityError:
        raise Invalid({"visit_id": FieldError("offer_already_open")}) from None
    for aide_id in dict.fromkeys(aide_ids):
        session.add(
            VisitOfferAide(
                offer_id=offer.id, aide_id=aide_id, travel_minutes=able[aide_id].travel_minutes
            )
        )
    audit.record(
        session,
        actor=user,
        action="create",
        entity_type="homecare_visit_offer",
        entity_id=offer.id,
        details={"visit": str(visit.id), "aides": len(set(aide_ids))},
    )
    session.flush()
    return offer


def _close(session: Session, offer_id: uuid.UUID, **values: Any) -> bool:
    """Leave `open` once: True for the one request whose UPDATE changed the row."""
    result = session.execute(
        update(VisitOffer)
        .where(VisitOffer.id == offer_id, VisitOffer.status == "open")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def _not_open(offer: VisitOffer) -> FieldError:
    return FieldError("offer_taken" if offer.status == "taken" else "offer_withdrawn")


def withdraw(session: Session, user: User, offer_id: uuid.UUID | None) -> VisitOffer:
    """The coordinator takes the offer back (before anybody accepted it)."""
    offer = session.get(VisitOffer, offer_id) if offer_id else None
    if offer is None or not access.coordinates(user, offer.team_id):
        raise Invalid({"offer_id": FieldError("unknown_offer")})
    now = clock.now()
    closed = _close(session, offer.id, status="withdrawn", withdrawn_at=now)
    session.refresh(offer)
    if not closed:
        raise Invalid({"offer_id": _not_open(offer)})
    sync.stamp(session, offer, sync.team_scope(offer.team_id), user, None)
    audit.record(
        session,
        actor=user,
        action="update",
        entity_type="homecare_visit_offer",
        entity_id=offer.id,
        details={"status": "withdrawn"},
    )
    session.flush()
    return offer


def _offered_to(session: Session, user: User, offer_id: uuid.UUID) -> VisitOffer:
    """An offer made to this aide; anything else is refused as unknown."""
    offer = session.get(VisitOffer, offer_id)
    if (
        offer is None
        or user.role != Role.AIDE
        or offer.team_id != user.team_id
        or session.get(VisitOfferAide, (offer.id, user.id)) is None
    ):
        raise Invalid({"offer_id": FieldError("unknown_offer")})
    return offer


def accept(
    session: Session, user: User, offer_id: uuid.UUID, client_at: datetime | None = None
) -> VisitOffer:
    """The aide takes the offered visit: the first acceptance wins, the others are
    refused with `offer_taken` (withdrawn: `offer_withdrawn`). The visit becomes hers,
    stamped (her feed gets it), audited, the household and the aide it was taken from
    told by SMS as a change on the board is."""
    offer = _offered_to(session, user, offer_id)
    now = clock.now()
    if not _close(session, offer.id, status="taken", taken_by_id=user.id, taken_at=now):
        session.refresh(offer)
        raise Invalid({"offer_id": _not_open(offer)})
    session.refresh(offer)
    visit = session.scalar(
        select(Visit)
        .where(Visit.id == offer.visit_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert visit is not None
    start = clock.as_utc(offer.start)
    if visit.version != offer.visit_version or visit.status != "planned" or start <= now:
        # The coordinator changed the visit since (or it is already under way).
        raise Invalid({"offer_id": FieldError("offer_withdrawn")})
    codes = {w.code for w in board.check_change(session, visit, user.id, start)}
    if codes & {"overlap", "aide_absent"}:
        raise Invalid({"offer_id": FieldError("offer_clash")})
    was_aide, was_start = visit.aide_id, visit.planned_start
    visit.aide_id, visit.planned_start, visit.unassigned_reason = user.id, start, None
    stamp_visit(session, visit, sync.team_scope(visit.team_id), user)
    runs.tell(session, user, visit)
    if was_aide is not None and was_aide != user.id and was_start is not None:
        runs.tell_removed(session, user, visit, was_aide, was_start)
    sync.stamp(session, offer, sync.team_scope(offer.team_id), user, client_at)
    audit.record(
        session,
        actor=user,
        action="update",
        entity_type="homecare_visit",
        entity_id=visit.id,
        details={
            "before": {"aide_id": was_aide, "planned_start": _iso(was_start)},
            "after": {"aide_id": user.id, "planned_start": _iso(start)},
            "offer": str(offer.id),
        },
        client_at=client_at,
    )
    audit.record(
        session,
        actor=user,
        action="update",
        entity_type="homecare_visit_offer",
        entity_id=offer.id,
        details={"status": "taken"},
        client_at=client_at,
    )
    session.flush()
    return offer


def _iso(moment: datetime | None) -> str | None:
    return clock.as_utc(moment).isoformat() if moment is not None else None


# --- What the aide's phone holds -------------------------------------------------------------


def serialize(
    offer: VisitOffer,
    visit: Visit | None,
    plan: CarePlan | None,
    household: Beneficiary | None,
    travel_minutes: int | None,
) -> dict[str, Any]:
    """An offer as the aide sees it before taking it: when, how long, what, where (the
    street, not the household's file: that opens once the visit is hers)."""
    start = clock.as_utc(offer.start)
    duration = visit.duration_minutes if visit else 0
    return {
        "id": str(offer.id),
        "version": offer.version,
        "visit_id": str(offer.visit_id),
        "status": offer.status,
        "day": clock.to_local(start).date().isoformat(),
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=duration)).isoformat(),
        "duration_minutes": duration,
        "service": plan.service if plan else "",
        "tasks": list(plan.tasks or []) if plan else [],
        "address": household.address if household else "",
        "postcode": household.postcode if household else "",
        "city": household.city if household else "",
        "travel_minutes": travel_minutes,
    }


def _is_live(offer: VisitOffer, visit: Visit, now: datetime) -> bool:
    return (
        offer.status == "open"
        and visit.version == offer.visit_version
        and visit.status == "planned"
        and clock.as_utc(offer.start) > now
    )


def _her_rows(
    session: Session, user: User, since: int
) -> list[tuple[VisitOffer, Visit, int | None]]:
    query = (
        select(VisitOffer, Visit, VisitOfferAide.travel_minutes)
        .join(VisitOfferAide, VisitOfferAide.offer_id == VisitOffer.id)
        .join(Visit, Visit.id == VisitOffer.visit_id)
        .where(
            VisitOfferAide.aide_id == user.id,
            VisitOffer.team_id == user.team_id,
            or_(
                VisitOffer.status == "open",
                VisitOffer.change_seq > since,
                Visit.change_seq > since,
            ),
        )
        .order_by(VisitOffer.start, VisitOffer.id)
    )
    return [(offer, visit, travel) for offer, visit, travel in session.execute(query)]


def _details(
    session: Session, visits: list[Visit]
) -> tuple[dict[uuid.UUID, CarePlan], dict[uuid.UUID, Beneficiary]]:
    plans = {
        plan.id: plan
        for plan in session.scalars(
            select(CarePlan).where(CarePlan.id.in_({v.plan_id for v in visits}))
        )
    }
    households = {
        b.id: b
        for b in session.scalars(
            select(Beneficiary).where(Beneficiary.id.in_({v.beneficiary_id for v in visits}))
        )
    }
    return plans, households


def offer_changes(session: Session, user: User, since: int, limit: int) -> list[sync.Change]:
    """The offers made to her: sent while open; a deletion once taken, withdrawn, its
    visit changed or started (her phone drops it)."""
    if user.role != Role.AIDE or user.team_id is None:
        return []
    rows = _her_rows(session, user, since)
    plans, households = _details(session, [visit for _, visit, _ in rows])
    now = clock.now()
    found = []
    for offer, visit, travel in rows:
        seq = max(offer.change_seq, visit.change_seq)
        if _is_live(offer, visit, now):
            if seq > since:
                record = serialize(
                    offer,
                    visit,
                    plans.get(visit.plan_id),
                    households.get(visit.beneficiary_id),
                    travel,
                )
                found.append(sync.Change(seq, OFFER_TYPE, str(offer.id), record))
        elif since > 0 and seq > since:
            found.append(sync.Change(seq, OFFER_TYPE, str(offer.id), None))
    found.sort(key=lambda change: (change.seq, change.id))
    return found[:limit]


OFFER_TYPE = "homecare.offer"


def offers_for(session: Session, user: User) -> list[dict[str, Any]]:
    """The offers open to her now, soonest first (Ma journée, "Visits offered")."""
    if user.role != Role.AIDE or user.team_id is None:
        return []
    now = clock.now()
    rows = [row for row in _her_rows(session, user, 2**62) if _is_live(row[0], row[1], now)]
    plans, households = _details(session, [visit for _, visit, _ in rows])
    return [
        serialize(
            offer, visit, plans.get(visit.plan_id), households.get(visit.beneficiary_id), travel
        )
        for offer, visit, travel in rows
    ]


# --- The coordinator's pages ----------------------------------------------------------------


@dataclass(frozen=True)
class OfferLine:
    offer: VisitOffer
    aides: list[tuple[str, int | None]]  # name, travel minutes
    taken_by: str | None


@dataclass(frozen=True)
class OfferPage:
    visit: Visit
    household: str
    service: str
    start: datetime  # local
    problem: str | None  # why it cannot be offered now
    candidates: list[Candidate]
    offers: list[OfferLine]  # newest first


def offer_page(session: Session, user: User, visit_id: uuid.UUID | None) -> OfferPage:
    visit = access.visit_to_change(session, user, visit_id)
    household = session.get(Beneficiary, visit.beneficiary_id)
    plan = session.get(CarePlan, visit.plan_id)
    names = {aide.id: aide.display_name for aide in _team_aides(session, visit.team_id)}
    offers = list(
        session.scalars(
            select(VisitOffer)
            .where(VisitOffer.visit_id == visit.id)
            .order_by(VisitOffer.offered_at.desc(), VisitOffer.id)
        )
    )
    lines = []
    for offer in offers:
        rows = session.scalars(select(VisitOfferAide).where(VisitOfferAide.offer_id == offer.id))
        lines.append(
            OfferLine(
                offer,
                [(names.get(row.aide_id, ""), row.travel_minutes) for row in rows],
                names.get(offer.taken_by_id) if offer.taken_by_id else None,
            )
        )
    problem = _uncovered_problem(session, visit)
    if problem is None and any(line.offer.status == "open" for line in lines):
        problem = "offer_already_open"
    return OfferPage(
        visit=visit,
        household=household.name if household else "",
        service=plan.service if plan else "",
        start=clock.to_local(offer_start(visit)),
        problem=problem,
        candidates=candidates(session, visit) if problem is None else [],
        offers=lines,
    )


def open_page(session: Session, user: User, visit_id: uuid.UUID | None) -> OfferPage:
    """The offer page of a visit (`offer_page`), the transaction ended."""
    return committed(session, lambda: offer_page(session, user, visit_id))


def make_offer(
    session: Session, user: User, visit_id: uuid.UUID | None, aide_ids: list[int]
) -> VisitOffer:
    """`offer_visit`, committed (Invalid: rolled back and raised)."""
    return committed(session, lambda: offer_visit(session, user, visit_id, aide_ids))


def withdraw_offer(session: Session, user: User, offer_id: uuid.UUID | None) -> VisitOffer:
    """`withdraw`, committed (Invalid: rolled back and raised)."""
    return committed(session, lambda: withdraw(session, user, offer_id))
