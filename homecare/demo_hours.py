"""Demo hours of home care: the visits of the weeks before this one marked done (real
times a few minutes off the plan, kilometres for the aides who drive), and the quotas of
the years they fall in: the family aides' one a little below where the year is heading,
so the hours page shows the alert Brussels expects (a slight overrun of the Iriscare
quota)."""

from __future__ import annotations

import math
import uuid
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import accounts, sync
from homecare import hours
from homecare.calendar import holidays_of_team, monday_of, window_on
from homecare.models import AideProfile, CarePlan, HoursQuota, Visit
from homecare.services import valid_skills

NAMESPACE = uuid.UUID("5f0c9a52-3b7e-4d21-8e64-1c2b3a4d5e6f")
OVER_QUOTA = 0.96  # the family aides' quota: 4 % below the projection (the alert shows)
UNDER_QUOTA = 1.2  # the other services: comfortably within


# How far back the demo's done visits go at most (a plan started earlier).
HISTORY = timedelta(days=365)


def seed(session: Session, actor: accounts.User, team_id: int, today: date) -> int:
    """Mark done the past visits since each plan started (a year back at most) and record
    the quotas of the years they fall in, once a year; returns the visits added."""
    year = today.year
    if _has_quota(session, team_id, year):
        return 0
    plans = list(
        session.scalars(
            select(CarePlan).where(CarePlan.team_id == team_id).order_by(CarePlan.starts_on)
        )
    )
    aides = [
        (profile, valid_skills(session, profile.user_id, today))
        for profile in session.scalars(
            select(AideProfile).where(AideProfile.team_id == team_id).order_by(AideProfile.user_id)
        )
    ]
    end = monday_of(today)  # this week is the planning board's: visits still to do
    # Since each plan started, across New Year too: seeded in January, the demo still
    # has the hours of the weeks before (the year's own start with no hours yet).
    since = today - HISTORY
    first = min((max(plan.starts_on, since) for plan in plans), default=end)
    holidays = holidays_of_team(session, team_id, first, end)
    taken = set(
        session.execute(
            select(Visit.plan_id, Visit.scheduled_on).where(
                Visit.team_id == team_id, Visit.day >= first, Visit.day < end
            )
        ).all()
    )
    added = 0
    for number, plan in enumerate(plans):
        able = [profile for profile, skills in aides if set(plan.skills) <= skills]
        if not able:
            continue
        aide = able[number % len(able)]
        day = max(plan.starts_on, since)
        while day < end:
            if (
                day.weekday() in plan.weekdays
                and day not in holidays
                and (plan.id, day) not in taken
            ):
                _done_visit(session, actor, plan, aide, day, added)
                added += 1
            day += timedelta(days=1)
    session.flush()
    for quota_year in range(min(first, end).year, year + 1):
        if quota_year != year and _has_quota(session, team_id, quota_year):
            continue  # a year an earlier seed gave its quotas
        for line in hours.quota_lines(session, actor, quota_year):
            factor = OVER_QUOTA if line.service == "family_aide" else UNDER_QUOTA
            quota = math.floor(line.projection * factor / 10) * 10
            hours.set_quota(session, actor, quota_year, line.service, max(quota, 0))
    return added


def _has_quota(session: Session, team_id: int, year: int) -> bool:
    found = select(HoursQuota.id).where(HoursQuota.team_id == team_id, HoursQuota.year == year)
    return session.scalar(found.limit(1)) is not None


def _done_visit(
    session: Session,
    actor: accounts.User,
    plan: CarePlan,
    aide: AideProfile,
    day: date,
    number: int,
) -> None:
    window = window_on(
        day, plan.window_start, plan.window_end, plan.duration_minutes, plan.tolerance_minutes
    )
    planned = window.earliest_start + timedelta(minutes=plan.tolerance_minutes)
    start = planned + timedelta(minutes=(number * 7) % 11 - 5)
    end = start + timedelta(minutes=window.duration + (number * 5) % 9 - 4)
    visit = Visit(
        id=uuid.uuid5(NAMESPACE, f"{plan.id}:{day}"),
        team_id=plan.team_id,
        plan_id=plan.id,
        beneficiary_id=plan.beneficiary_id,
        scheduled_on=day,
        day=day,
        earliest_start=window.earliest_start,
        latest_start=window.latest_start,
        duration_minutes=window.duration,
        status="done",
        validation="coordinator",  # what the aide reported, confirmed: validated
        aide_id=aide.user_id,
        planned_start=planned,
        actual_start=start,
        actual_end=end,
        km=round(1 + (number % 7) * 0.8, 1) if aide.transport_mode == "car" else 0.0,
    )
    session.add(visit)
    sync.stamp(session, visit, sync.team_scope(plan.team_id), actor, None)
