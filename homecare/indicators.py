"""Home care's monthly indicators: hours delivered against hours planned, visits left
unassigned, continuity of care (different aides per household) and the share of the
aides' time spent travelling. Counts and hours only, no person.

- Planned hours: the length of every visit of the month not cancelled (done or not).
- Delivered hours: the real length of the visits done (homecare/hours.py).
- Unassigned: visits of the month not cancelled, not done and without an aide.
- Continuity: per household with at least one visit with an aide (not cancelled), the
  number of different aides; the mean, and the households above the planner's weekly
  cap of 3.
- Travel share: travel ÷ (travel + visits) over each aide's day, travel between two
  consecutive households estimated as the planner does (straight line × detour ÷ speed
  of the aide's transport mode, plus the mode's overhead); a done visit counts with its
  real times, another with its planned start and length.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.accounts import User
from core.routing import TRAVEL_MODES, Point, haversine_km
from homecare import access
from homecare.hours import real_minutes
from homecare.models import AideProfile, Beneficiary, Visit
from homecare.planning import MAX_AIDES_PER_HOUSEHOLD


@dataclass(frozen=True)
class Month:
    month: date
    planned_hours: float
    delivered_hours: float
    visits: int
    unassigned: int
    households: int
    mean_aides: float | None  # different aides per household
    above_cap: int  # households with more different aides than the cap
    travel_hours: float
    travel_share: float | None  # percent


def _add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def _travel_minutes(a: Point, b: Point, mode: str, speed: float | None) -> float:
    spec = TRAVEL_MODES.get(mode, TRAVEL_MODES["transit"])
    km = float(haversine_km([a, b])[0, 1])
    if km <= 0:
        return 0.0
    return km * spec.detour / (speed or spec.kmh) * 60 + spec.overhead


def _month(
    month: date,
    visits: list[Visit],
    places: dict,
    profiles: dict[int, AideProfile],
) -> Month:
    live = [visit for visit in visits if visit.status != "cancelled"]
    done = [visit for visit in live if visit.status == "done"]
    aides_of: dict = defaultdict(set)
    days: dict[tuple[int, date], list[tuple[datetime, float, object]]] = defaultdict(list)
    for visit in live:
        if visit.aide_id is None:
            continue
        aides_of[visit.beneficiary_id].add(visit.aide_id)
        if visit.status == "done" and visit.actual_start is not None:
            days[(visit.aide_id, visit.day)].append(
                (visit.actual_start, real_minutes(visit), visit.beneficiary_id)
            )
        elif visit.planned_start is not None:
            days[(visit.aide_id, visit.day)].append(
                (visit.planned_start, float(visit.duration_minutes), visit.beneficiary_id)
            )
    travel = work = 0.0
    for (aide_id, _day), stops in days.items():
        stops.sort(key=lambda stop: stop[0])
        profile = profiles.get(aide_id)
        mode = profile.transport_mode if profile else "transit"
        speed = profile.speed_kmh if profile else None
        for index, (_start, minutes, household) in enumerate(stops):
            work += minutes
            if index == 0:
                continue
            before, here = places.get(stops[index - 1][2]), places.get(household)
            if before and here:
                travel += _travel_minutes(before, here, mode, speed)
    counts = [len(aides) for aides in aides_of.values()]
    return Month(
        month=month,
        planned_hours=round(sum(visit.duration_minutes for visit in live) / 60, 1),
        delivered_hours=round(sum(real_minutes(visit) for visit in done) / 60, 1),
        visits=len(live),
        unassigned=sum(1 for visit in live if visit.aide_id is None and visit.status != "done"),
        households=len(counts),
        mean_aides=round(sum(counts) / len(counts), 2) if counts else None,
        above_cap=sum(1 for count in counts if count > MAX_AIDES_PER_HOUSEHOLD),
        travel_hours=round(travel / 60, 1),
        travel_share=round(100 * travel / (travel + work), 1) if travel + work > 0 else None,
    )


def last_months(session: Session, user: User, first: date, last: date) -> list[Month]:
    """Months `first` to `last` (first days, oldest first) of the team `user` coordinates."""
    team_id = access.team_to_manage(user, user.team_id)
    end = _add_months(last, 1)
    visits = list(
        session.scalars(
            select(Visit).where(Visit.team_id == team_id, Visit.day >= first, Visit.day < end)
        )
    )
    places = {
        row.id: Point(row.latitude, row.longitude)
        for row in session.execute(
            select(Beneficiary.id, Beneficiary.latitude, Beneficiary.longitude).where(
                Beneficiary.team_id == team_id
            )
        )
        if row.latitude is not None and row.longitude is not None
    }
    profiles = {
        profile.user_id: profile
        for profile in session.scalars(select(AideProfile).where(AideProfile.team_id == team_id))
    }
    by_month: dict[date, list[Visit]] = defaultdict(list)
    for visit in visits:
        by_month[visit.day.replace(day=1)].append(visit)
    months = []
    month = first
    while month <= last:
        months.append(_month(month, by_month.get(month, []), places, profiles))
        month = _add_months(month, 1)
    return months
