"""Plan a week: the week's visits, the aides' hours, skills and absences and the care
plans' preferences become one `core.routing.Problem`; its solution is stored on the
visits (aide, planned start) and the visits left out keep their reason.

Minutes count from Monday 00:00 in Brussels given as a UTC moment, so every minute is a
real minute: a week with a clock change needs no special case, since each window and
shift was placed on its day from wall-clock times (homecare/calendar.py).
"""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from appointments import services as appointments
from core import clock, sync
from core.accounts import User
from core.roles import Role
from core.routing import (
    TRAVEL_MODES,
    Job,
    Point,
    Problem,
    Shift,
    TravelMode,
    Window,
    Worker,
    build_matrix,
    check,
    solve,
)
from homecare.calendar import crosses_midnight, local_moment, week_days
from homecare.generation import lock_team, record_week, stamp_visit
from homecare.models import AideProfile, Beneficiary, CarePlan, Visit
from homecare.services import parse_hours, valid_skills

log = logging.getLogger(__name__)

BUFFER = 5  # minutes at the door: parking, stairs, the key safe
MAX_AIDES_PER_HOUSEHOLD = 3  # continuity of care over a week
NO_LOCATION = "no_location"  # the household has no coordinates yet


@dataclass(frozen=True)
class PlanResult:
    planned: int
    unassigned: list[tuple[uuid.UUID, str]]  # visit, reason
    violations: tuple[str, ...] = ()  # rules check() found broken: then nothing was stored


def _cut(
    start: datetime, end: datetime, away: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """[start, end) without the absences."""
    pieces = [(start, end)]
    for a_start, a_end in away:
        next_pieces = []
        for p_start, p_end in pieces:
            if a_end <= p_start or p_end <= a_start:
                next_pieces.append((p_start, p_end))
                continue
            if p_start < a_start:
                next_pieces.append((p_start, a_start))
            if a_end < p_end:
                next_pieces.append((a_end, p_end))
        pieces = next_pieces
    return pieces


def _shifts(
    profile: AideProfile, days: list[date], away: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    found = []
    for day in days:
        for weekday, start, end in parse_hours(profile.working_hours):
            if weekday != day.weekday():
                continue
            next_day = (
                day + timedelta(days=1) if crosses_midnight(start, end) or end == time(0) else day
            )
            found += _cut(local_moment(day, start), local_moment(next_day, end), away)
    return sorted(found)


@dataclass
class WeekInputs:
    """What planning a team's week starts from: its planned visits, their plans and
    households, and the aides as routing workers (shifts cut around absences)."""

    team_id: int
    week: date
    origin: datetime  # Monday 00:00 in Brussels, as UTC: minute 0
    visits: list[Visit]
    plans: dict[uuid.UUID, CarePlan]
    households: dict[uuid.UUID, Beneficiary]
    workers: list[Worker]
    travel_modes: dict[str, TravelMode]
    refusing: dict[uuid.UUID, set[int]]

    def minute(self, moment: datetime) -> int:
        return int((clock.as_utc(moment) - self.origin).total_seconds() // 60)

    def job(
        self,
        visit: Visit,
        *,
        windows: tuple[Window, ...] | None = None,
        worker: str | None = None,
        job_id: str | None = None,
    ) -> Job | None:
        """The visit as a routing job (None when its household has no coordinates); kept
        to one `worker`, a transfer is one of its halves (`job_id` tells them apart)."""
        plan, household = self.plans[visit.plan_id], self.households[visit.beneficiary_id]
        if household.latitude is None or household.longitude is None:
            return None
        need = set(plan.skills)
        if visit.beneficiary_id in self.refusing:
            need.add(f"accepts:{visit.beneficiary_id}")
        return Job(
            job_id or str(visit.id),
            Point(household.latitude, household.longitude),
            duration=visit.duration_minutes,
            windows=windows
            or (Window(self.minute(visit.earliest_start), self.minute(visit.latest_start)),),
            skills=frozenset(need),
            buffer=BUFFER,
            household=str(visit.beneficiary_id),
            worker=worker,
            aides=1 if worker is not None else (visit.aides or 1),
        )

    def known(self) -> dict[str, list[str]]:
        """Each household's preferred aides (its plans'), then those planned there this week."""
        known: dict[str, list[str]] = {}
        for visit in self.visits:
            ids = list(self.plans[visit.plan_id].preferred_aide_ids)
            ids += [a for a in (visit.aide_id, visit.second_aide_id) if a is not None]
            for aide in ids:
                found = known.setdefault(str(visit.beneficiary_id), [])
                if str(aide) not in found:
                    found.append(str(aide))
        return known

    def problem(self, jobs: list[Job], known: dict[str, list[str]], cap: int | None) -> Problem:
        places = [w.start for w in self.workers] + [j.place for j in jobs]
        return Problem(
            workers=self.workers,
            jobs=jobs,
            origin=self.origin,
            known_workers=known,
            max_workers_per_household=cap,
            matrix=build_matrix(
                places,
                modes=["car", *sorted({w.mode for w in self.workers} - {"car"})],
                travel_modes=self.travel_modes,
            ),
        )


def week_inputs(session: Session, team_id: int, week: date) -> WeekInputs:
    """Read the team's week (its planned visits and its aides) for the optimiser."""
    days = week_days(week)
    origin = local_moment(week, time(0))
    week_end = local_moment(week + timedelta(days=8), time(0))  # nights run into Monday
    visits = list(
        session.scalars(
            select(Visit)
            .where(
                Visit.team_id == team_id,
                Visit.day >= days[0],
                Visit.day <= days[-1],
                Visit.status == "planned",
            )
            .order_by(Visit.earliest_start, Visit.id)
        )
    )
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
    profiles = list(
        session.scalars(
            select(AideProfile)
            .join(User, User.id == AideProfile.user_id)
            .where(
                AideProfile.team_id == team_id,
                User.active,
                User.role == Role.AIDE,
                AideProfile.home_latitude.is_not(None),
            )
            .order_by(AideProfile.user_id)
        )
    )
    absences: dict[int, list[tuple[datetime, datetime]]] = {}
    for absence in appointments.absences_between(
        session, [p.user_id for p in profiles], origin, week_end
    ):
        absences.setdefault(absence.user_id, []).append(
            (clock.as_utc(absence.starts_at), clock.as_utc(absence.ends_at))
        )

    def minute(moment: datetime) -> int:
        return int((clock.as_utc(moment) - origin).total_seconds() // 60)

    # A household that refused an aide: its visits need a token every other aide holds.
    refusing = {
        v.beneficiary_id: set(plans[v.plan_id].refused_aide_ids)
        for v in visits
        if plans[v.plan_id].refused_aide_ids
    }
    travel_modes: dict[str, TravelMode] = dict(TRAVEL_MODES)
    workers: list[Worker] = []
    for profile in profiles:
        shifts = [
            Shift(minute(start), minute(end))
            for start, end in _shifts(profile, days, absences.get(profile.user_id, []))
            if minute(end) > minute(start)
        ]
        if not shifts:
            continue
        mode = profile.transport_mode
        if profile.speed_kmh:
            usual = TRAVEL_MODES[mode]
            mode = f"aide-{profile.user_id}"
            travel_modes[mode] = TravelMode(profile.speed_kmh, usual.detour, usual.overhead)
        skills = set(valid_skills(session, profile.user_id, days[-1]))
        skills |= {
            f"accepts:{b}" for b, refused in refusing.items() if profile.user_id not in refused
        }
        home = Point(float(profile.home_latitude or 0), float(profile.home_longitude or 0))
        workers.append(
            Worker(
                str(profile.user_id),
                start=home,
                shifts=tuple(shifts),
                skills=frozenset(skills),
                contract_minutes=profile.contract_minutes,
                mode=mode,
            )
        )
    return WeekInputs(
        team_id, week, origin, visits, plans, households, workers, travel_modes, refusing
    )


def plan_week(
    session: Session,
    team_id: int,
    week: date,
    *,
    seconds: float,
    seed: int = 1,
    actor: User | None = None,
) -> PlanResult:
    """Assign the week's planned visits to aides and store the plan."""
    if week.weekday() != 0:
        raise ValueError("a week starts on a Monday")
    lock_team(session, team_id)
    inputs = week_inputs(session, team_id, week)
    visits, workers = inputs.visits, inputs.workers
    jobs: list[Job] = []
    unplaced: list[tuple[Visit, str]] = []
    for visit in visits:
        job = inputs.job(visit)
        if job is None:
            unplaced.append((visit, NO_LOCATION))
        else:
            jobs.append(job)
    # Only the plans' preferred aides: a fresh plan may change this week's aides.
    known: dict[str, list[str]] = {}
    for visit in visits:
        for aide in inputs.plans[visit.plan_id].preferred_aide_ids:
            found = known.setdefault(str(visit.beneficiary_id), [])
            if str(aide) not in found:
                found.append(str(aide))
    by_id = {str(v.id): v for v in visits}
    assigned: dict[str, list[tuple[int, datetime]]] = {}
    reasons: dict[str, str] = {str(v.id): reason for v, reason in unplaced}
    if jobs and workers:
        problem = inputs.problem(jobs, known, MAX_AIDES_PER_HOUSEHOLD)
        solution = solve(problem, seconds=seconds, seed=seed)
        violations = check(problem, solution)
        if violations:
            # Never store a plan that breaks a rule; the visits keep their last plan.
            log.error("plan_week team %s week %s: %s", team_id, week, violations)
            return PlanResult(planned=0, unassigned=[], violations=tuple(violations))
        for route in solution.routes:
            for stop in route.stops:
                if stop.kind == "job":
                    # A transfer's two halves share the id: both aides, the same start.
                    assigned.setdefault(stop.id, []).append(
                        (int(route.worker), solution.at(math.ceil(stop.start)))
                    )
        reasons.update({left.id: left.reason.value for left in solution.unassigned})
    elif jobs:
        reasons.update({job.id: "no_aide_available" for job in jobs})
    scope = sync.team_scope(team_id)
    for visit_id, visit in by_id.items():
        if visit_id in assigned:
            (aide, start), *others = sorted(assigned[visit_id])
            new = (aide, others[0][0] if others else None, start, None)
        else:
            new = (None, None, None, reasons.get(visit_id, "no_room_in_plan"))
        old = (
            visit.aide_id,
            visit.second_aide_id,
            clock.as_utc(visit.planned_start) if visit.planned_start else None,
            visit.unassigned_reason,
        )
        if old != new:
            visit.aide_id, visit.second_aide_id, visit.planned_start = new[:3]
            visit.unassigned_reason = new[3]
            stamp_visit(session, visit, scope, actor)
    left_out = sorted(
        ((by_id[i].id, reasons.get(i, "no_room_in_plan")) for i in by_id if i not in assigned),
        key=lambda item: str(item[0]),
    )
    record_week(
        session, actor, team_id, week, {"planned": len(assigned), "unassigned": len(left_out)}
    )
    session.flush()
    return PlanResult(planned=len(assigned), unassigned=left_out)
