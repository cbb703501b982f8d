"""A month's indicators per round (the rounds of one name: a template's, or a round made
by hand), for the coordinator: rounds and stops held and cancelled, people seen per
public stop, meals delivered by diet, rides done and no-shows, lateness (median, worst)
and kilometres, and the appointments at the minibus's stops linked to an appointments
place (kept, no-shows, cancelled: those starting within the stop's planned visit, read
through appointments' public services). Aggregates only: no name of a person, so the
downloads are not audited. The same lines for one day are the page's drill-down, and one
line per day of the month its list of days.

Lateness of a stop = its arrival (`arrived_at`, stored in UTC, read in Europe/Brussels)
minus its planned arrival on the round's day (wall clock), in minutes, early counted as
0; a month with a summer-time change measures each day in its own offset.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from statistics import median

from sqlalchemy import select
from sqlalchemy.orm import Session

from appointments import services as appointments
from core import clock
from rounds.meals import month_end
from rounds.models import DIETS, MealOrder, Round, RoundStop, Stop

HELD_STOP = ("arrived", "left")


@dataclass
class RoundIndicators:
    name: str
    kind: str
    rounds_held: int = 0
    rounds_cancelled: int = 0
    stops_held: int = 0
    stops_skipped: int = 0
    public_stops_held: int = 0
    people_seen: int = 0
    meals_by_diet: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DIETS, 0))
    rides: set = field(default_factory=set)
    missed: set = field(default_factory=set)
    late_minutes: list[int] = field(default_factory=list)
    km: int = 0
    appointments: appointments.Attendance = field(default_factory=appointments.Attendance)

    @property
    def people_per_stop(self) -> float | None:
        if not self.public_stops_held:
            return None
        return round(self.people_seen / self.public_stops_held, 1)

    @property
    def rides_done(self) -> int:
        return len(self.rides)

    @property
    def no_shows(self) -> int:
        return len(self.missed)

    @property
    def meals(self) -> int:
        return sum(self.meals_by_diet.values())

    @property
    def lateness_median(self) -> float | None:
        return median(self.late_minutes) if self.late_minutes else None

    @property
    def lateness_worst(self) -> int | None:
        return max(self.late_minutes) if self.late_minutes else None


def lateness(day: date, planned, arrived_at: datetime | None) -> int | None:
    """Minutes late at a stop (0 when early), None when it was not reached."""
    if planned is None or arrived_at is None:
        return None
    planned_at = clock.as_utc(datetime.combine(day, planned, clock.BRUSSELS))
    late = (clock.as_utc(arrived_at) - planned_at).total_seconds() / 60
    return max(0, round(late))


def month_indicators(
    session: Session, team_id: int, month: date, *, day: date | None = None
) -> list[RoundIndicators]:
    """The team's rounds of `month` (or of `day` alone), one line per round name, in name
    order."""
    first = day or month.replace(day=1)
    last = day or month_end(first)
    lines = _lines(session, team_id, first, last, lambda dated: (dated.name, dated.kind))
    return [lines[key] for key in sorted(lines)]


def daily_indicators(session: Session, team_id: int, month: date) -> list[RoundIndicators]:
    """The team's rounds of `month`, one line per day that has rounds (its name the day's
    ISO date, kind empty), in day order: the page's list of days to drill down into."""
    first = month.replace(day=1)
    lines = _lines(session, team_id, first, month_end(first), lambda d: (d.day.isoformat(), ""))
    return [lines[key] for key in sorted(lines)]


def _lines(
    session: Session,
    team_id: int,
    first: date,
    last: date,
    key_of: Callable[[Round], tuple[str, str]],
) -> dict[tuple[str, str], RoundIndicators]:
    rounds = list(
        session.scalars(
            select(Round).where(Round.team_id == team_id, Round.day >= first, Round.day <= last)
        )
    )
    lines: dict[tuple[str, str], RoundIndicators] = {}
    by_round = {r.id: r for r in rounds}
    for dated in rounds:
        line = lines.setdefault(key_of(dated), RoundIndicators(*key_of(dated)))
        if dated.status == "cancelled":
            line.rounds_cancelled += 1
            continue
        if dated.status in ("started", "finished"):
            line.rounds_held += 1
        if dated.km_start is not None and dated.km_end is not None:
            line.km += max(0, dated.km_end - dated.km_start)
    if not by_round:
        return {}
    places = dict(
        session.execute(
            select(Stop.id, Stop.location_id).where(
                Stop.team_id == team_id, Stop.location_id.is_not(None)
            )
        ).all()
    )
    visits: set[tuple[int, datetime, datetime]] = set()
    stops = session.execute(
        select(RoundStop, MealOrder.diet, MealOrder.meals)
        .outerjoin(MealOrder, MealOrder.id == RoundStop.meal_order_id)
        .where(RoundStop.team_id == team_id, RoundStop.round_id.in_(list(by_round)))
    )
    for stop, diet, meals in stops:
        dated = by_round[stop.round_id]
        line = lines[key_of(dated)]
        location_id = places.get(stop.stop_id) if stop.kind == "public_stop" else None
        if location_id is not None and stop.planned_arrival and stop.planned_departure:
            # A cancelled round's or skipped stop's appointments count too: their place
            # was closed that day, so they show as cancelled (or moved elsewhere).
            starts = clock.as_utc(datetime.combine(dated.day, stop.planned_arrival, clock.BRUSSELS))
            ends = clock.as_utc(datetime.combine(dated.day, stop.planned_departure, clock.BRUSSELS))
            if (location_id, starts, ends) not in visits:
                visits.add((location_id, starts, ends))
                line.appointments.add(
                    appointments.attendance_between(session, location_id, starts, ends)
                )
        if dated.status == "cancelled":
            continue
        if stop.status == "skipped":
            line.stops_skipped += 1
        elif stop.status in HELD_STOP:
            line.stops_held += 1
            late = lateness(dated.day, stop.moved_to or stop.planned_arrival, stop.arrived_at)
            if late is not None:
                line.late_minutes.append(late)
            if stop.kind == "public_stop":
                line.public_stops_held += 1
                line.people_seen += stop.people_seen or 0
        if stop.outcome == "delivered" and diet is not None:
            line.meals_by_diet[diet] = line.meals_by_diet.get(diet, 0) + (meals or 0)
        elif stop.outcome == "ride_done":
            line.rides.add(stop.ride_id)  # its pick-up and drop-off: one ride
        elif stop.outcome == "no_show":
            line.missed.add(stop.ride_id)
    return lines
