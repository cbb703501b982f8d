"""A week of visits from the care plans.

For every plan of the team and every day of the week on which it recurs, one visit row
keyed by (plan, scheduled day). The row is kept in step with the plan each time the week
is generated: a public holiday (of the team's CPAS calendar) is skipped, kept or moved to the
next free day as the plan says; a suspended day is cancelled; a day the plan no longer
has is cancelled. Visits done are never touched. Generating twice changes nothing (no
row is stamped unless a field changed), so phones see no change either.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock, sync
from core.accounts import Team, User
from homecare.calendar import holidays_of_team, monday_of, week_days, window_on
from homecare.models import CarePlan, CarePlanSuspension, Visit

MOVE_HORIZON = 6  # days a moved visit may go forward at most


@dataclass(frozen=True)
class Generated:
    created: int
    updated: int
    cancelled: int
    unchanged: int


@dataclass(frozen=True)
class _Expected:
    day: date
    earliest_start: datetime
    latest_start: datetime
    duration: int
    cancel_reason: str | None
    aides: int = 1  # 2: a transfer


def lock_team(session: Session, team_id: int) -> None:
    """Hold the team's row until commit: one generation or planning of a team at a time
    (two would both insert the same new visits, or overwrite each other's plan)."""
    session.execute(select(Team.id).where(Team.id == team_id).with_for_update())


def _suspended(suspensions: list[CarePlanSuspension], day: date) -> bool:
    return any(s.starts_on <= day <= s.ends_on for s in suspensions)


def _moved_day(plan: CarePlan, holidays: Collection[date], day: date) -> date | None:
    """The next weekday (Monday to Friday) that is not a holiday nor a day of the plan."""
    for offset in range(1, MOVE_HORIZON + 1):
        candidate = day + timedelta(days=offset)
        if (
            candidate not in holidays
            and candidate.weekday() < 5
            and candidate.weekday() not in plan.weekdays
        ):
            return candidate
    return None


def expected_visit(
    plan: CarePlan,
    holidays: Collection[date],
    suspensions: list[CarePlanSuspension],
    scheduled_on: date,
) -> _Expected:
    """What the visit of `plan` scheduled on `scheduled_on` should be now (`holidays`:
    the public holidays of the team's CPAS around it)."""
    day, reason = scheduled_on, None
    if scheduled_on in holidays:
        if plan.holiday_rule == "skip":
            reason = "holiday"
        elif plan.holiday_rule == "move":
            moved = _moved_day(plan, holidays, scheduled_on)
            if moved is None:
                reason = "holiday"
            else:
                day = moved
    if reason is None and _suspended(suspensions, day):
        reason = "suspended"
    window = window_on(
        day, plan.window_start, plan.window_end, plan.duration_minutes, plan.tolerance_minutes
    )
    return _Expected(
        day, window.earliest_start, window.latest_start, window.duration, reason, plan.aides or 1
    )


def _occurs(plan: CarePlan, day: date) -> bool:
    return (
        day.weekday() in plan.weekdays
        and plan.starts_on <= day
        and (plan.ends_on is None or day <= plan.ends_on)
    )


def generate_week(
    session: Session, team_id: int, week: date, *, actor: User | None = None
) -> Generated:
    """Create or bring up to date the visits of the week starting on Monday `week`."""
    if week.weekday() != 0:
        raise ValueError("a week starts on a Monday")
    days = week_days(week)
    lock_team(session, team_id)
    holidays = holidays_of_team(session, team_id, days[0], days[-1] + timedelta(MOVE_HORIZON))
    plans = list(
        session.scalars(
            select(CarePlan)
            .where(
                CarePlan.team_id == team_id,
                CarePlan.starts_on <= days[-1],
                (CarePlan.ends_on.is_(None)) | (CarePlan.ends_on >= days[0]),
            )
            .order_by(CarePlan.id)
        )
    )
    plan_ids = [plan.id for plan in plans]
    suspensions: dict[uuid.UUID, list[CarePlanSuspension]] = {pid: [] for pid in plan_ids}
    for suspension in session.scalars(
        select(CarePlanSuspension).where(
            CarePlanSuspension.team_id == team_id,
            CarePlanSuspension.starts_on <= days[-1] + timedelta(days=MOVE_HORIZON),
            CarePlanSuspension.ends_on >= days[0],
        )
    ):
        suspensions.setdefault(suspension.plan_id, []).append(suspension)
    existing = {
        (visit.plan_id, visit.scheduled_on): visit
        for visit in session.scalars(
            select(Visit).where(
                Visit.team_id == team_id,
                Visit.scheduled_on >= days[0],
                Visit.scheduled_on <= days[-1],
            )
        )
    }
    created = updated = cancelled = unchanged = 0
    seen: set[tuple[uuid.UUID, date]] = set()
    scope = sync.team_scope(team_id)
    for plan in plans:
        for day in days:
            if not _occurs(plan, day):
                continue
            key = (plan.id, day)
            seen.add(key)
            want = expected_visit(plan, holidays, suspensions.get(plan.id, []), day)
            visit = existing.get(key)
            if visit is None:
                visit = Visit(
                    id=uuid.uuid4(),
                    team_id=team_id,
                    plan_id=plan.id,
                    beneficiary_id=plan.beneficiary_id,
                    scheduled_on=day,
                )
                _apply(visit, want)
                session.add(visit)
                stamp_visit(session, visit, scope, actor)
                created += 1
            elif visit.status == "done":
                unchanged += 1
            elif _apply(visit, want):
                stamp_visit(session, visit, scope, actor)
                updated += 1
            else:
                unchanged += 1
    for key, visit in existing.items():
        if key in seen or visit.status != "planned":
            continue
        # The plan no longer recurs that day (edited, ended, or its weekday removed).
        visit.status, visit.cancel_reason = "cancelled", "plan"
        visit.aide_id, visit.planned_start, visit.unassigned_reason = None, None, None
        visit.second_aide_id = None
        stamp_visit(session, visit, scope, actor)
        cancelled += 1
    result = Generated(created, updated, cancelled, unchanged)
    if created or updated or cancelled:
        record_week(session, actor, team_id, week, {"generated": vars(result)})
    session.flush()
    return result


def record_week(
    session: Session, actor: User | None, team_id: int, week: date, details: dict[str, Any]
) -> None:
    """The audit entry of a team's week generated or planned."""
    audit.record(
        session,
        actor=actor,
        action="update",
        entity_type="homecare_week",
        entity_id=f"{team_id}:{week.isoformat()}",
        details=details,
    )


def _apply(visit: Visit, want: _Expected) -> bool:
    """Bring the visit to what the plan says; True when something changed."""
    status = "cancelled" if want.cancel_reason else "planned"
    before = (
        visit.day,
        _utc(visit.earliest_start),
        _utc(visit.latest_start),
        visit.duration_minutes,
        visit.status,
        visit.cancel_reason,
        visit.aides,
    )
    after = (
        want.day,
        want.earliest_start,
        want.latest_start,
        want.duration,
        status,
        want.cancel_reason,
        want.aides,
    )
    if before == after:
        return False
    visit.day = want.day
    visit.earliest_start, visit.latest_start = want.earliest_start, want.latest_start
    visit.duration_minutes = want.duration
    visit.status, visit.cancel_reason = status, want.cancel_reason
    aides_changed = visit.aides != want.aides
    visit.aides = want.aides
    start = _utc(visit.planned_start)
    if (
        status != "planned"
        or start is None
        or not want.earliest_start <= start <= want.latest_start
        or aides_changed
    ):
        # The assignment no longer fits: the visit goes back to the planning.
        visit.aide_id, visit.second_aide_id, visit.planned_start = None, None, None
    return True


def _utc(moment: datetime | None) -> datetime | None:
    return clock.as_utc(moment) if moment is not None else None


def stamp_visit(session: Session, visit: Visit, scope: str, actor: User | None) -> None:
    """A visit made or changed, by a person (a new version) or by a job (feed only)."""
    if actor is not None:
        sync.stamp(session, visit, scope, actor, None)
    else:
        # A job's generation is nobody's edit: phones hear of it, versions stay.
        if visit.version is None:
            visit.version = 0
        if visit.changed_at is None:
            visit.changed_at = clock.now()
        sync.touch(session, visit, scope)


def refresh_plan(session: Session, plan: CarePlan, *, actor: User | None) -> None:
    """After a plan or its suspensions changed: bring its weeks already generated, from
    this week on, up to date (visits done stay as they are)."""
    this_week = monday_of(clock.to_local(clock.now()).date())
    days = session.scalars(
        select(Visit.scheduled_on)
        .where(Visit.plan_id == plan.id, Visit.scheduled_on >= this_week)
        .distinct()
    )
    for week in sorted({monday_of(day) for day in days}):
        generate_week(session, plan.team_id, week, actor=actor)
