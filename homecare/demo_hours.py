"""Demo hours of home care: the visits of the weeks before this one marked done (real
times a few minutes off the plan, kilometres for the aides who drive), and this year's
quotas: the family aides' one a little below where the year is heading, so the hours
page shows the alert Brussels expects (a slight overrun of the Iriscare quota)."""

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


def seed(session: Session, actor: accounts.User, team_id: int, today: date) -> int:
    """Mark done the past visits of this year (since each plan started) and record the
    year's quotas, once a year; returns the visits added."""
    year = today.year
    if session.scalar(
        select(HoursQuota.id).where(HoursQuota.team_id == team_id, HoursQuota.year == year)
    ):
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
    holidays = holidays_of_team(session, team_id, date(year, 1, 1), end)
    taken = set(
        session.execute(
            select(Visit.plan_id, Visit.scheduled_on).where(
                Visit.team_id == team_id, Visit.day >= date(year, 1, 1), Visit.day < end
            )
        ).all()
    )
    added = 0
    for number, plan in enumerate(plans):
        able = [profile for profile, skills in aides if set(plan.skills) <= skills]
        if not able:
            continue
        aide = able[number % len(able)]
        day = max(date(year, 1, 1), plan.starts_on)
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
    for line in hours.quota_lines(session, actor, year):
        factor = OVER_QUOTA if line.service == "family_aide" else UNDER_QUOTA
        quota = math.floor(line.projection * factor / 10) * 10
        hours.set_quota(session, actor, year, line.service, max(quota, 0))
    return added


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
