"""The coordinator's planning board: the week by aide and day, the warnings of a change
before it is saved, and the change itself (guarded by the visit's version).

The functions of the last section are the board pages' use cases: each is the one
function its view calls and ends the transaction (commits, or rolls back and raises);
the others never commit (tests, jobs and the demo compose them)."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from appointments import services as appointments
from core import audit, clock, sync
from core.accounts import User
from core.db import committed
from core.errors import Conflict, FieldError, Invalid
from core.roles import Role
from core.routing import TRAVEL_MODES, Point, TravelMode, build_matrix
from homecare import access, generation, runs
from homecare.calendar import monday_of, week_days
from homecare.generation import stamp_visit
from homecare.models import (
    AideProfile,
    AideQualification,
    Beneficiary,
    CarePlan,
    PlanningRun,
    Visit,
    VisitOffer,
)
from homecare.planning import BUFFER
from homecare.services import expiring_qualifications, valid_skills


@dataclass(frozen=True)
class BoardVisit:
    id: uuid.UUID
    version: int
    household: str
    service: str
    day: date
    aide_id: int | None
    start: datetime | None  # local
    end: datetime | None
    earliest: datetime  # local
    latest: datetime
    duration: int
    reason: str | None  # why it stayed unassigned
    past: bool = False  # planned with an aide and over: to mark done (homecare_hours)
    second_aide: str | None = None  # a transfer: the other aide's name, on each one's card
    aides: int = 1  # 2: a transfer
    offered: bool = False  # an open offer the aides may still take (homecare/offers.py)


@dataclass
class AideRow:
    user_id: int
    name: str
    contract_minutes: int
    planned_minutes: int = 0
    days: dict[date, list[BoardVisit]] = field(default_factory=dict)
    absent: set[date] = field(default_factory=set)


@dataclass(frozen=True)
class Board:
    team_id: int
    week: date
    days: list[date]
    rows: list[AideRow]
    unassigned: list[BoardVisit]
    generated: bool  # the week has visits
    run: runs.RunView | None  # the latest planning run of the week
    expiring: list[tuple[str, str, date]]  # aide, skill, expiry within a month


def _local(moment: datetime | None) -> datetime | None:
    return clock.to_local(moment) if moment is not None else None


def _team_aides(session: Session, team_id: int) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .where(User.team_id == team_id, User.role == Role.AIDE, User.active)
            .order_by(User.display_name, User.id)
        )
    )


def team_of(user: User) -> int:
    """The home-care team `user` coordinates; Invalid otherwise."""
    return access.team_to_manage(user, user.team_id)


def week_board(session: Session, user: User, week: date) -> Board:
    """The week starting on `week`'s Monday for the coordinator's team."""
    team_id = team_of(user)
    week = monday_of(week)
    days = week_days(week)
    visits = list(
        session.scalars(
            select(Visit)
            .where(Visit.team_id == team_id, Visit.day >= days[0], Visit.day <= days[-1])
            .order_by(Visit.planned_start, Visit.earliest_start, Visit.id)
        )
    )
    households = {
        b.id: b.name
        for b in session.scalars(
            select(Beneficiary).where(Beneficiary.id.in_({v.beneficiary_id for v in visits}))
        )
    }
    services = {
        p.id: p.service
        for p in session.scalars(
            select(CarePlan).where(CarePlan.id.in_({v.plan_id for v in visits}))
        )
    }
    # Visits on offer: an open offer made for the visit as it is, not started yet (the
    # aides' phones show the same ones: homecare/offers.py `_is_live`).
    now = clock.now()
    offered = set()
    if visits:
        versions = {visit.id: visit.version for visit in visits}
        for offer in session.scalars(
            select(VisitOffer).where(
                VisitOffer.visit_id.in_(list(versions)), VisitOffer.status == "open"
            )
        ):
            if versions[offer.visit_id] == offer.visit_version and clock.as_utc(offer.start) > now:
                offered.add(offer.visit_id)
    aides = _team_aides(session, team_id)
    profiles = {
        p.user_id: p
        for p in session.scalars(select(AideProfile).where(AideProfile.team_id == team_id))
    }
    rows = {
        aide.id: AideRow(
            aide.id,
            aide.display_name,
            profiles[aide.id].contract_minutes if aide.id in profiles else 0,
            days={day: [] for day in days},
        )
        for aide in aides
    }
    start, end = clock.as_utc(_moment(days[0])), clock.as_utc(_moment(days[-1] + timedelta(1)))
    for absence in appointments.absences_between(session, list(rows), start, end):
        first = clock.to_local(absence.starts_at).date()
        last = clock.to_local(clock.as_utc(absence.ends_at) - timedelta(seconds=1)).date()
        for day in days:
            if first <= day <= last:
                rows[absence.user_id].absent.add(day)
    unassigned = []
    for visit in visits:
        if visit.status != "planned":
            continue
        planned = _local(visit.planned_start)
        item = BoardVisit(
            id=visit.id,
            version=visit.version,
            household=households.get(visit.beneficiary_id, ""),
            service=services.get(visit.plan_id, ""),
            day=visit.day,
            aide_id=visit.aide_id,
            start=planned,
            end=planned + timedelta(minutes=visit.duration_minutes) if planned else None,
            earliest=clock.to_local(visit.earliest_start),
            latest=clock.to_local(visit.latest_start),
            duration=visit.duration_minutes,
            reason=visit.unassigned_reason,
            aides=visit.aides or 1,
            offered=visit.id in offered,
            past=visit.planned_start is not None
            and clock.as_utc(visit.planned_start) + timedelta(minutes=visit.duration_minutes)
            <= now,
        )
        row = rows.get(visit.aide_id) if visit.aide_id is not None else None
        if row is None or planned is None:
            unassigned.append(item)
            continue
        partner = rows.get(visit.second_aide_id) if visit.second_aide_id is not None else None
        if partner is not None:
            # A transfer is on both aides' rows, and counts in both aides' hours.
            partner.days.setdefault(visit.day, []).append(replace(item, second_aide=row.name))
            partner.planned_minutes += visit.duration_minutes
            item = replace(item, second_aide=partner.name)
        row.days.setdefault(visit.day, []).append(item)
        row.planned_minutes += visit.duration_minutes
    names = {aide.id: aide.display_name for aide in aides}
    expiring = [
        (names.get(w.user_id, ""), w.skill, w.expires_on)
        for w in expiring_qualifications(session, team_id, clock.to_local(clock.now()).date())
    ]
    return Board(
        team_id=team_id,
        week=week,
        days=days,
        rows=list(rows.values()),
        unassigned=unassigned,
        generated=bool(visits),
        run=runs.latest(session, team_id, week),
        expiring=expiring,
    )


def _moment(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=clock.BRUSSELS)


# --- Warnings -------------------------------------------------------------------------


@dataclass(frozen=True)
class Warning:
    """Something the coordinator should know before saving a change (not a refusal)."""

    code: str  # overlap, missing_skill, expired_skill, over_contract, travel_too_tight,
    # refused_aide, outside_window, aide_absent
    params: dict[str, object] = field(default_factory=dict)


def _travel(profile: AideProfile, a: Beneficiary, b: Beneficiary) -> int | None:
    """Minutes from household a to b at the aide's speed (core.routing's model)."""
    if None in (a.latitude, a.longitude, b.latitude, b.longitude):
        return None
    mode = profile.transport_mode if profile.transport_mode in TRAVEL_MODES else "car"
    modes = dict(TRAVEL_MODES)
    if profile.speed_kmh:
        usual = TRAVEL_MODES[mode]
        modes[mode] = TravelMode(profile.speed_kmh, usual.detour, usual.overhead)
    p, q = Point(a.latitude or 0, a.longitude or 0), Point(b.latitude or 0, b.longitude or 0)
    if p == q:
        return 0
    matrix = build_matrix([p, q], modes=[mode], travel_modes=modes)
    return math.ceil(matrix.travel(mode, p, q))


def check_change(session: Session, visit: Visit, aide_id: int, start: datetime) -> list[Warning]:
    """What would be wrong with `aide_id` doing `visit` at `start` (UTC)."""
    found: list[Warning] = []
    start = clock.as_utc(start)
    end = start + timedelta(minutes=visit.duration_minutes + BUFFER)
    plan = session.get(CarePlan, visit.plan_id)
    household = session.get(Beneficiary, visit.beneficiary_id)
    profile = session.get(AideProfile, aide_id)
    assert plan is not None and household is not None
    if not clock.as_utc(visit.earliest_start) <= start <= clock.as_utc(visit.latest_start):
        found.append(
            Warning(
                "outside_window",
                {
                    "earliest": clock.to_local(visit.earliest_start).strftime("%H:%M"),
                    "latest": clock.to_local(visit.latest_start).strftime("%H:%M"),
                },
            )
        )
    if aide_id in plan.refused_aide_ids:
        found.append(Warning("refused_aide"))
    day = clock.to_local(start).date()
    skills = valid_skills(session, aide_id, day)
    for skill in sorted(set(plan.skills) - skills):
        expired = _holds_expired(session, aide_id, skill)
        found.append(Warning("expired_skill" if expired else "missing_skill", {"skill": skill}))
    if appointments.absences_between(session, [aide_id], start, end):
        found.append(Warning("aide_absent"))
    week = monday_of(visit.day)
    others = list(
        session.scalars(
            select(Visit)
            .where(
                or_(Visit.aide_id == aide_id, Visit.second_aide_id == aide_id),
                Visit.status == "planned",
                Visit.id != visit.id,
                Visit.planned_start.is_not(None),
                Visit.day >= week - timedelta(days=1),
                Visit.day <= week + timedelta(days=7),
            )
            .order_by(Visit.planned_start)
        )
    )
    before: Visit | None = None
    after: Visit | None = None
    for other in others:
        o_start = clock.as_utc(other.planned_start)  # type: ignore[arg-type]
        o_end = o_start + timedelta(minutes=other.duration_minutes + BUFFER)
        if o_start < end and start < o_end:
            name = session.get(Beneficiary, other.beneficiary_id)
            found.append(
                Warning(
                    "overlap",
                    {
                        "household": name.name if name else "",
                        "time": clock.to_local(o_start).strftime("%H:%M"),
                    },
                )
            )
        elif o_end <= start:
            before = other
        elif o_start >= end and after is None:
            after = other
    if profile is not None:
        for first, second, gap_start, gap_end in (
            (before, visit, _end_of(before), start),
            (visit, after, end, _start_of(after)),
        ):
            if first is None or second is None or gap_start is None or gap_end is None:
                continue
            if clock.to_local(gap_start).date() != clock.to_local(gap_end).date():
                continue
            a = session.get(Beneficiary, first.beneficiary_id)
            b = session.get(Beneficiary, second.beneficiary_id)
            need = _travel(profile, a, b) if a and b else None
            gap = int((gap_end - gap_start).total_seconds() // 60)
            if need is not None and need > gap:
                found.append(Warning("travel_too_tight", {"needed": need, "gap": gap}))
        planned = sum(
            o.duration_minutes for o in others if week <= o.day <= week + timedelta(days=6)
        )
        total = planned + visit.duration_minutes
        if total > profile.contract_minutes:
            found.append(
                Warning(
                    "over_contract",
                    {
                        "hours": f"{total / 60:.1f}",
                        "contract": f"{profile.contract_minutes / 60:.1f}",
                    },
                )
            )
    return found


def _holds_expired(session: Session, aide_id: int, skill: str) -> bool:
    return (
        session.scalar(
            select(AideQualification.id).where(
                AideQualification.user_id == aide_id, AideQualification.skill == skill
            )
        )
        is not None
    )


def _end_of(visit: Visit | None) -> datetime | None:
    if visit is None or visit.planned_start is None:
        return None
    return clock.as_utc(visit.planned_start) + timedelta(minutes=visit.duration_minutes + BUFFER)


def _start_of(visit: Visit | None) -> datetime | None:
    if visit is None or visit.planned_start is None:
        return None
    return clock.as_utc(visit.planned_start)


# --- Changing an assignment -----------------------------------------------------------


@dataclass(frozen=True)
class ChangeForm:
    """What the change form shows: the visit, the team's aides, and what is chosen."""

    visit: BoardVisit
    aides: list[tuple[int, str]]
    aide_id: int | None
    start: datetime | None  # local


@dataclass(frozen=True)
class ChangeOutcome:
    saved: bool
    warnings: list[Warning]
    visit: Visit


def visit_record(visit: Visit) -> dict[str, object]:
    """The visit as the other coordinator left it (the conflict page shows it)."""
    return {
        "id": str(visit.id),
        "version": visit.version,
        "aide_id": visit.aide_id,
        "planned_start": _local(visit.planned_start),
    }


def change_form(session: Session, user: User, visit_id: uuid.UUID) -> ChangeForm:
    visit = access.visit_to_change(session, user, visit_id)
    household = session.get(Beneficiary, visit.beneficiary_id)
    plan = session.get(CarePlan, visit.plan_id)
    planned = _local(visit.planned_start)
    item = BoardVisit(
        id=visit.id,
        version=visit.version,
        household=household.name if household else "",
        service=plan.service if plan else "",
        day=visit.day,
        aide_id=visit.aide_id,
        start=planned,
        end=planned + timedelta(minutes=visit.duration_minutes) if planned else None,
        earliest=clock.to_local(visit.earliest_start),
        latest=clock.to_local(visit.latest_start),
        duration=visit.duration_minutes,
        reason=visit.unassigned_reason,
    )
    aides = [(a.id, a.display_name) for a in _team_aides(session, visit.team_id)]
    return ChangeForm(item, aides, visit.aide_id, planned or clock.to_local(visit.earliest_start))


def change_visit(
    session: Session,
    user: User,
    visit_id: uuid.UUID,
    *,
    aide_id: int | None,
    start: datetime | None,
    version: int | None,
    confirmed: bool,
) -> ChangeOutcome:
    """Give the visit to `aide_id` at `start`. With warnings and no confirmation nothing is
    saved (the warnings come back); a stale `version` raises Conflict, nothing saved."""
    visit = access.visit_to_change(session, user, visit_id)
    errors: dict[str, FieldError] = {}
    if version is None:
        errors["version"] = FieldError("required")
    if aide_id is None or aide_id not in {a.id for a in _team_aides(session, visit.team_id)}:
        errors["aide_id"] = FieldError("unknown_user")
    if start is None:
        errors["start"] = FieldError("invalid_time")
    elif abs(clock.as_utc(start) - clock.as_utc(visit.earliest_start)) > timedelta(days=2):
        errors["start"] = FieldError("far_from_window")
    if visit.status != "planned":
        errors["visit_id"] = FieldError("visit_not_planned")
    if errors:
        raise Invalid(errors)
    assert aide_id is not None and start is not None
    if visit.version != version:
        raise Conflict(visit_record(visit))
    warnings = check_change(session, visit, aide_id, start)
    if visit.second_aide_id is not None:
        if visit.second_aide_id == aide_id:
            raise Invalid({"aide_id": FieldError("same_aide_twice")})
        # The other aide of a transfer moves with it: her warnings count too.
        warnings += [
            w
            for w in check_change(session, visit, visit.second_aide_id, start)
            if w not in warnings
        ]
    if warnings and not confirmed:
        return ChangeOutcome(False, warnings, visit)
    before = {"aide_id": visit.aide_id, "planned_start": _iso(visit.planned_start)}
    was_aide, was_start = visit.aide_id, visit.planned_start
    visit.aide_id, visit.planned_start = aide_id, clock.as_utc(start)
    visit.unassigned_reason = None
    stamp_visit(session, visit, sync.team_scope(visit.team_id), user)
    moved = was_start is None or clock.as_utc(was_start) != visit.planned_start
    if (was_aide != aide_id or moved) and visit.planned_start > clock.now():
        # Told like an illness re-plan, in the same commit, keyed by the new version.
        runs.tell(session, user, visit)
        if was_aide is not None and was_aide != aide_id and was_start is not None:
            runs.tell_removed(session, user, visit, was_aide, was_start)
    audit.record(
        session,
        actor=user,
        action="update",
        entity_type="homecare_visit",
        entity_id=visit.id,
        details={
            "before": before,
            "after": {"aide_id": aide_id, "planned_start": _iso(visit.planned_start)},
            "warnings": [w.code for w in warnings],
        },
    )
    session.flush()
    return ChangeOutcome(True, warnings, visit)


def _iso(moment: datetime | None) -> str | None:
    return clock.as_utc(moment).isoformat() if moment is not None else None


def preview_change(
    session: Session,
    user: User,
    visit_id: uuid.UUID,
    *,
    aide_id: int | None,
    start: datetime | None,
) -> list[Warning]:
    """The warnings of a change before it is saved (the form and the drag show them)."""
    visit = access.visit_to_change(session, user, visit_id)
    if aide_id is None or aide_id not in {a.id for a in _team_aides(session, visit.team_id)}:
        raise Invalid({"aide_id": FieldError("unknown_user")})
    if start is None:
        raise Invalid({"start": FieldError("invalid_time")})
    return check_change(session, visit, aide_id, start)


def generate(session: Session, user: User, week: date) -> generation.Generated:
    """Create or bring up to date the visits of the coordinator's week from the plans."""
    return generation.generate_week(session, team_of(user), monday_of(week), actor=user)


def team_aides(session: Session, user: User) -> list[tuple[int, str]]:
    """The aides of the coordinator's team, for the absence form."""
    return [(a.id, a.display_name) for a in _team_aides(session, team_of(user))]


# --- The board pages' use cases: each ends the transaction --------------------------------


def open_week(session: Session, user: User, week: date) -> Board:
    """The board of the week (`week_board`), the transaction ended."""
    return committed(session, lambda: week_board(session, user, week))


def generate_week(session: Session, user: User, week: date) -> generation.Generated:
    """The week's visits made or brought up to date (`generate`), committed."""
    return committed(session, lambda: generate(session, user, week))


def plan_week(session: Session, user: User, week: date) -> PlanningRun:
    """The optimiser queued for the week (`runs.request_plan`), committed."""
    return committed(session, lambda: runs.request_plan(session, user, week))


def save_change(
    session: Session,
    user: User,
    visit_id: uuid.UUID,
    *,
    aide_id: int | None,
    start: datetime | None,
    version: int | None,
    confirmed: bool,
) -> ChangeOutcome:
    """`change_visit`, committed when saved; rolled back when it waits for a confirmation
    (its warnings come back), or on Invalid or Conflict (raised)."""
    try:
        outcome = change_visit(
            session,
            user,
            visit_id,
            aide_id=aide_id,
            start=start,
            version=version,
            confirmed=confirmed,
        )
    except BaseException:
        session.rollback()
        raise
    if outcome.saved:
        session.commit()
    else:
        session.rollback()  # nothing was changed: the page asks for a confirmation
    return outcome


def report_absence(
    session: Session, user: User, aide_id: int | None, first_day: date | None, days: int | None
) -> PlanningRun:
    """An aide away ill, and the re-plan of her week queued (`runs.request_replan`),
    committed."""
    return committed(session, lambda: runs.request_replan(session, user, aide_id, first_day, days))


def accept_replan(session: Session, user: User, run_id: int) -> int:
    """A re-plan's proposal applied and the SMS queued (`runs.accept_proposal`),
    committed: the number of SMS."""
    return committed(session, lambda: runs.accept_proposal(session, user, run_id))
