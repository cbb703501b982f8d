"""Delivered hours: visits marked done, hours per service, household and aide and month,
the pay bands of each hour, the annual quota per service and funder with its projection,
and the rows of the billing and payroll exports.

Only validated visits count (status `done` with its `validation`): the aide's verified
report (homecare/reports.py), an unverified report the coordinator accepted or corrected
(homecare/live.py), or the coordinator's own "mark done" with the times and kilometres
the aide reports. An unverified report waiting for review counts nowhere. A visit counts
in the month of its day (a night starting on 31 January counts in January) for its real
length (`actual_end - actual_start`: a night over a clock change is 9 or 11 hours).

The last section holds the hours pages' use cases, each ending its transaction
(committed, or rolled back and raised); the functions above never commit (the phone's
validation will apply `mark_done` inside the sync engine's transaction).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from core import audit, clock, organisations, sync
from core.accounts import User
from core.db import committed
from core.errors import Conflict, FieldError, Invalid
from homecare import access
from homecare.calendar import holidays_of_team, local_moment
from homecare.models import SERVICES, Beneficiary, CarePlan, HoursQuota, Visit, VisitReport
from homecare.services import meals_by_reference, settings_of

MAX_DONE = timedelta(hours=16)  # longer than a night watch over the autumn change: a typo
MAX_KM = 500.0
MAX_QUOTA = 1_000_000  # hours a year
# Pay bands, wall-clock in Brussels: night 22:00–06:00, early 06:00–08:00, late
# 18:00–22:00. Day types: weekend (Saturday, Sunday) and holiday (the CPAS's public
# holidays, homecare/calendar.py); a holiday on a Sunday counts as holiday only.
EARLY = (time(6), time(8))
LATE = (time(18), time(22))
NIGHT_ENDS, NIGHT_STARTS = time(6), time(22)
TREND_MONTHS = 3  # the projection's pace: the mean of the last complete months


def _stale(visit: Visit) -> Conflict:
    return Conflict({"id": str(visit.id), "version": visit.version, "status": visit.status})


def visit_to_mark(session: Session, user: User, visit_id: uuid.UUID | None) -> Visit | None:
    """The visit the coordinator of its team may mark done, else None (404 alike)."""
    visit = session.get(Visit, visit_id) if visit_id else None
    if visit is None or not access.coordinates(user, visit.team_id):
        return None
    return visit


@dataclass(frozen=True)
class VisitCard:
    """A visit as the mark-done page shows it."""

    visit: Visit
    household: str
    address: str
    aide: str
    service: str


def visit_card(session: Session, user: User, visit_id: uuid.UUID | None) -> VisitCard | None:
    """The visit, its household, aide and service, for its team's coordinator; else None."""
    visit = visit_to_mark(session, user, visit_id)
    if visit is None:
        return None
    person = session.get(Beneficiary, visit.beneficiary_id)
    aide = session.get(User, visit.aide_id) if visit.aide_id else None
    plan = session.get(CarePlan, visit.plan_id)
    return VisitCard(
        visit,
        person.name if person else "",
        f"{person.address}, {person.postcode} {person.city}" if person else "",
        aide.display_name if aide else "",
        plan.service if plan else "",
    )


def _visit(session: Session, user: User, visit_id: uuid.UUID | None, version: int) -> Visit:
    visit = visit_to_mark(session, user, visit_id)
    if visit is None:
        raise Invalid({"visit_id": FieldError("unknown_visit")})
    if visit.version != version:
        raise _stale(visit)
    return visit


def mark_done(
    session: Session,
    user: User,
    visit_id: uuid.UUID | None,
    version: int,
    *,
    started_at: datetime | None,
    ended_at: datetime | None,
    km: float | None,
) -> Visit:
    """Record a visit as done with its real times and kilometres (again: corrects them).
    A `version` other than the visit's is a Conflict; bad input is Invalid, nothing saved."""
    visit = _visit(session, user, visit_id, version)
    errors = check_times(visit, started_at, ended_at)
    if km is not None and not 0 <= km <= MAX_KM:
        errors["km"] = FieldError("km_out_of_range")
    if errors:
        raise Invalid(errors)
    assert started_at is not None and ended_at is not None
    correcting = visit.status == "done"
    validate(session, user, visit, started_at, ended_at, round(km or 0.0, 1), "coordinator")
    audit.record(
        session,
        actor=user,
        action="update",
        entity_type="homecare_visit",
        entity_id=visit.id,
        details={
            "done": True,
            "corrected": correcting,
            "fields": ["actual_start", "actual_end", "km"],
        },
    )
    session.flush()
    return visit


def check_times(
    visit: Visit, started_at: datetime | None, ended_at: datetime | None
) -> dict[str, FieldError]:
    """What is wrong with these real times for this visit (empty: nothing)."""
    errors: dict[str, FieldError] = {}
    if visit.status == "cancelled":
        errors["visit_id"] = FieldError("visit_cancelled")
    elif visit.aide_id is None:
        errors["visit_id"] = FieldError("visit_without_aide")
    if started_at is None:
        errors["started_at"] = FieldError("required")
    if ended_at is None:
        errors["ended_at"] = FieldError("required")
    if started_at is not None and ended_at is not None:
        if ended_at <= started_at:
            errors["ended_at"] = FieldError("ends_before_start")
        elif ended_at - started_at > MAX_DONE:
            errors["ended_at"] = FieldError("visit_too_long")
        elif ended_at > clock.now():
            errors["ended_at"] = FieldError("ends_in_future")
        started_on = clock.to_local(started_at).date()
        if abs((started_on - visit.day).days) > 1:
            errors["started_at"] = FieldError("not_on_visit_day")
    return errors


def validate(
    session: Session,
    user: User,
    visit: Visit,
    started_at: datetime,
    ended_at: datetime,
    km: float | None,
    validation: str,
) -> None:
    """The visit done with these real times: from now on it counts (stamped; the caller
    audits). `km` None keeps those recorded (0 when none)."""
    visit.status = "done"
    visit.validation = validation
    visit.actual_start, visit.actual_end = started_at, ended_at
    visit.km = km if km is not None else (visit.km or 0.0)
    sync.stamp(session, visit, sync.team_scope(visit.team_id), user, None)


def undo_done(session: Session, user: User, visit_id: uuid.UUID | None, version: int) -> Visit:
    """Back to planned (a visit marked done by mistake); its hours no longer count."""
    visit = _visit(session, user, visit_id, version)
    if visit.status != "done":
        raise Invalid({"visit_id": FieldError("visit_not_done")})
    visit.status = "planned"
    visit.validation = None
    visit.actual_start = visit.actual_end = None
    visit.km = None
    sync.stamp(session, visit, sync.team_scope(visit.team_id), user, None)
    audit.record(
        session,
        actor=user,
        action="update",
        entity_type="homecare_visit",
        entity_id=visit.id,
        details={"done": False},
    )
    session.flush()
    return visit


# --- Bands -------------------------------------------------------------------------------


@dataclass
class Bands:
    """Minutes of work, and how many of them fall in each pay band (bands overlap: a
    Sunday night minute is both night and weekend)."""

    total: float = 0.0
    early: float = 0.0
    late: float = 0.0
    night: float = 0.0
    weekend: float = 0.0
    holiday: float = 0.0

    def add(self, other: Bands) -> None:
        for name in ("total", "early", "late", "night", "weekend", "holiday"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _overlap(start: datetime, end: datetime, lo: datetime, hi: datetime) -> float:
    return max((min(end, hi) - max(start, lo)).total_seconds() / 60, 0.0)


def bands(start: datetime, end: datetime, holidays: Collection[date]) -> Bands:
    """The minutes of [start, end) per band (`holidays`: the CPAS's public holidays).
    Each local day's limits are placed in UTC on their own, so a night over a clock
    change counts its real minutes."""
    result = Bands(total=max((end - start).total_seconds() / 60, 0.0))
    day = clock.to_local(start).date()
    last = clock.to_local(end).date()
    while day <= last:
        midnight, next_midnight = (
            local_moment(day, time(0)),
            local_moment(day + timedelta(days=1), time(0)),
        )
        on_day = _overlap(start, end, midnight, next_midnight)
        if on_day:
            if day in holidays:
                result.holiday += on_day
            elif day.weekday() >= 5:
                result.weekend += on_day
            result.night += _overlap(start, end, midnight, local_moment(day, NIGHT_ENDS))
            result.night += _overlap(start, end, local_moment(day, NIGHT_STARTS), next_midnight)
            result.early += _overlap(
                start, end, local_moment(day, EARLY[0]), local_moment(day, EARLY[1])
            )
            result.late += _overlap(
                start, end, local_moment(day, LATE[0]), local_moment(day, LATE[1])
            )
        day += timedelta(days=1)
    return result


# --- Hours of a month ---------------------------------------------------------------------


def _month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def _done_statement(team_id: int, first: date, end: date, *columns) -> Select:
    """The validated visits of [first, end), with `columns` of their plan or household:
    what hours, quota and exports count."""
    return (
        select(Visit, *columns)
        .outerjoin(CarePlan, CarePlan.id == Visit.plan_id)
        .outerjoin(Beneficiary, Beneficiary.id == Visit.beneficiary_id)
        .where(
            Visit.team_id == team_id,
            Visit.status == "done",
            Visit.validation.is_not(None),
            Visit.day >= first,
            Visit.day < end,
        )
        .order_by(Visit.day, Visit.actual_start)
    )


def _done(session: Session, team_id: int, first: date, end: date) -> list[Visit]:
    """The validated visits of [first, end)."""
    return list(session.scalars(_done_statement(team_id, first, end)))


def done_visits(session: Session, team_id: int, first: date, end: date) -> list[Visit]:
    """The team's visits that count as done from `first` to `end` (excluded): what the
    hours, payroll and the aides' timesheets (homecare/timesheets.py) count."""
    return _done(session, team_id, first, end)


def real_minutes(visit: Visit) -> float:
    if visit.actual_start is None or visit.actual_end is None:
        return 0.0
    return max((visit.actual_end - visit.actual_start).total_seconds() / 60, 0.0)


@dataclass
class HouseholdHours:
    beneficiary_id: uuid.UUID
    name: str
    contribution_category: str
    minutes: dict[str, float] = field(default_factory=dict)  # per service
    visits: int = 0
    meals: int = 0  # delivered by the mobile team's meal rounds (a plan's meal order)

    @property
    def total(self) -> float:
        return sum(self.minutes.values())


@dataclass
class AideHours:
    aide_id: int
    name: str
    bands: Bands = field(default_factory=Bands)
    km: float = 0.0
    visits: int = 0


@dataclass
class MonthHours:
    month: date
    by_service: dict[str, float]  # minutes
    households: list[HouseholdHours]
    aides: list[AideHours]
    to_confirm: list[Visit]  # past visits with an aide, not marked done yet
    to_review: int = 0  # of those, the ones with an unverified report waiting for review

    @property
    def total(self) -> float:
        return sum(self.by_service.values())


def _by_id(session: Session, model, ids: Collection) -> dict:
    """The rows of `model` with those keys, in one statement (not one per household)."""
    if not ids:
        return {}
    return {row.id: row for row in session.scalars(select(model).where(model.id.in_(ids)))}


def _household(
    households: dict[uuid.UUID, HouseholdHours],
    beneficiary_id: uuid.UUID,
    name: str | None,
    category: str | None,
) -> HouseholdHours:
    """The household's line of the month, made on its first visit or meal."""
    household = households.get(beneficiary_id)
    if household is None:
        household = households[beneficiary_id] = HouseholdHours(
            beneficiary_id, name or "", category or ""
        )
    return household


def _add_meals(
    session: Session, team_id: int, month: date, households: dict[uuid.UUID, HouseholdHours]
) -> None:
    """The meals delivered in `month` to the households whose care plan names a meal order
    (homecare.services.meals_by_reference: a source registered by the meals' domain)."""
    cpas_id = organisations.cpas_id_of_team(session, team_id)
    if cpas_id is None:
        return
    delivered = meals_by_reference(session, cpas_id, month)
    if not delivered:
        return
    rows = session.execute(
        select(CarePlan.beneficiary_id, CarePlan.meal_order_ref).where(
            CarePlan.team_id == team_id, CarePlan.meal_order_ref.in_(list(delivered))
        )
    )
    rows = rows.all()
    people = _by_id(session, Beneficiary, {b for b, _ref in rows} - set(households))
    for beneficiary_id, reference in rows:
        person = people.get(beneficiary_id)
        household = _household(
            households,
            beneficiary_id,
            person.name if person else None,
            person.contribution_category if person else None,
        )
        household.meals += delivered.get(reference, 0)


def month_hours(session: Session, user: User, month: date) -> MonthHours:
    """The hours done in `month` by the team `user` coordinates (Invalid otherwise)."""
    team_id = access.team_to_manage(user, user.team_id)
    end = _month_end(month)
    # A night visit of the last day runs into the next month's first.
    holidays = holidays_of_team(session, team_id, month - timedelta(days=1), end)
    # Each visit's service and household in the same statement (not one per household).
    rows = session.execute(
        _done_statement(
            team_id,
            month,
            end,
            CarePlan.service,
            Beneficiary.name,
            Beneficiary.contribution_category,
        )
    ).all()
    by_service = {service: 0.0 for service in SERVICES}
    households: dict[uuid.UUID, HouseholdHours] = {}
    aides: dict[int, AideHours] = {}
    staff = _by_id(
        session,
        User,
        {
            aide_id
            for visit, *_ in rows
            if visit.actual_start and visit.actual_end
            for aide_id in (visit.aide_id, visit.second_aide_id)
            if aide_id is not None
        },
    )
    for visit, service, name, category in rows:
        minutes = real_minutes(visit)
        service = service or "family_aide"
        by_service[service] = by_service.get(service, 0.0) + minutes
        household = _household(households, visit.beneficiary_id, name, category)
        household.minutes[service] = household.minutes.get(service, 0.0) + minutes
        household.visits += 1
        if not (visit.actual_start and visit.actual_end):
            continue
        # A transfer is worked by both aides: each is paid its time (the household is
        # billed once); the km recorded are the first aide's.
        for aide_id, km in ((visit.aide_id, visit.km), (visit.second_aide_id, None)):
            if aide_id is None:
                continue
            aide = aides.get(aide_id)
            if aide is None:
                person_user = staff.get(aide_id)
                aide = aides[aide_id] = AideHours(
                    aide_id, person_user.display_name if person_user else ""
                )
            aide.bands.add(bands(visit.actual_start, visit.actual_end, holidays))
            aide.km += km or 0.0
            aide.visits += 1
    _add_meals(session, team_id, month, households)
    today = clock.to_local(clock.now()).date()
    to_confirm = list(
        session.scalars(
            select(Visit)
            .where(
                Visit.team_id == team_id,
                Visit.status == "planned",
                Visit.aide_id.is_not(None),
                Visit.day >= month,
                Visit.day < min(end, today + timedelta(days=1)),
            )
            .order_by(Visit.day, Visit.planned_start)
            .limit(100)
        )
    )
    waiting = {
        visit_id
        for visit_id in session.scalars(
            select(VisitReport.visit_id).where(
                VisitReport.team_id == team_id,
                VisitReport.submitted.is_(True),
                VisitReport.verified.is_(False),
                VisitReport.outcome == "normal",
                VisitReport.review.is_(None),
            )
        )
    }
    return MonthHours(
        to_review=sum(1 for visit in to_confirm if visit.id in waiting),
        month=month,
        by_service=by_service,
        # Two households (or aides) of one name keep one order from export to export.
        households=sorted(
            households.values(), key=lambda row: (row.name.lower(), str(row.beneficiary_id))
        ),
        aides=sorted(aides.values(), key=lambda row: (row.name.lower(), row.aide_id)),
        to_confirm=to_confirm,
    )


# --- Quota and projection -----------------------------------------------------------------


def set_quota(
    session: Session, user: User, year: int | None, service: str, hours: int | None
) -> HoursQuota:
    """The year's subsidised hours of a service, for the team's funder (created or changed)."""
    team_id = access.team_to_manage(user, user.team_id)
    errors: dict[str, FieldError] = {}
    if year is None or not 2000 <= year <= 2100:
        errors["year"] = FieldError("invalid_year")
    if service not in SERVICES:
        errors["service"] = FieldError("unknown_choice")
    if hours is None or not 0 <= hours <= MAX_QUOTA:
        errors["hours"] = FieldError("quota_out_of_range")
    if errors:
        raise Invalid(errors)
    assert year is not None and hours is not None
    funder = settings_of(session, team_id).funder
    quota = session.scalar(
        select(HoursQuota).where(
            HoursQuota.team_id == team_id,
            HoursQuota.year == year,
            HoursQuota.service == service,
            HoursQuota.funder == funder,
        )
    )
    action = "update"
    if quota is None:
        action = "create"
        quota = HoursQuota(
            id=uuid.uuid4(), team_id=team_id, year=year, service=service, funder=funder
        )
        session.add(quota)
    quota.hours = hours
    sync.stamp(session, quota, sync.team_scope(team_id), user, None)
    audit.record(
        session,
        actor=user,
        action=action,
        entity_type="homecare_quota",
        entity_id=quota.id,
        details={"fields": ["hours"], "year": year, "service": service},
    )
    session.flush()
    return quota


@dataclass
class QuotaLine:
    """One service's year: hours per month done, the projection, against the quota."""

    service: str
    funder: str
    year: int
    quota: float | None  # hours; None when no quota is recorded
    delivered: list[float]  # hours per month, January first
    projected: list[float]  # hours per month still expected (0 for months gone)

    @property
    def delivered_total(self) -> float:
        return sum(self.delivered)

    @property
    def projection(self) -> float:
        return self.delivered_total + sum(self.projected)

    @property
    def over(self) -> bool:
        """The alert: the trend reaches beyond the quota."""
        return self.quota is not None and self.projection > self.quota

    @property
    def over_by(self) -> float:
        return self.projection - self.quota if self.quota is not None else 0.0

    @property
    def exceeded(self) -> bool:
        return self.quota is not None and self.delivered_total > self.quota


def project(delivered: list[float], year: int, today: date) -> list[float]:
    """Hours still expected per month of `year`: each month left at the pace of the last
    TREND_MONTHS complete months of the year since its first hours (when there is none
    yet, the current month's pace so far); the current month is expected at least at
    that pace."""
    if year != today.year:  # a year gone is what it is; a year to come has no trend yet
        return [0.0] * 12
    current = today.month
    # Months before the first hours of the year do not count (a service started mid-year).
    started = next((index for index, value in enumerate(delivered) if value > 0), current - 1)
    complete = delivered[started : current - 1][-TREND_MONTHS:]
    if complete:
        pace = sum(complete) / len(complete)
    else:
        days = (_month_end(today.replace(day=1)) - today.replace(day=1)).days
        pace = delivered[current - 1] * days / today.day
    projected = [0.0] * 12
    projected[current - 1] = max(pace - delivered[current - 1], 0.0)
    for index in range(current, 12):
        projected[index] = pace
    return projected


def quota_lines(session: Session, user: User, year: int) -> list[QuotaLine]:
    """Each service with a quota or hours done in `year`, for the team `user` coordinates."""
    team_id = access.team_to_manage(user, user.team_id)
    funder = settings_of(session, team_id).funder
    monthly: dict[str, list[float]] = defaultdict(lambda: [0.0] * 12)
    for visit, service in session.execute(
        _done_statement(team_id, date(year, 1, 1), date(year + 1, 1, 1), CarePlan.service)
    ):
        monthly[service or "family_aide"][visit.day.month - 1] += real_minutes(visit) / 60
    quotas = {
        quota.service: quota.hours
        for quota in session.scalars(
            select(HoursQuota).where(
                HoursQuota.team_id == team_id,
                HoursQuota.year == year,
                HoursQuota.funder == funder,
            )
        )
    }
    today = clock.to_local(clock.now()).date()
    lines = []
    for service in SERVICES:
        if service not in quotas and service not in monthly:
            continue
        delivered = [round(value, 2) for value in monthly[service]]
        lines.append(
            QuotaLine(
                service=service,
                funder=funder,
                year=year,
                quota=float(quotas[service]) if service in quotas else None,
                delivered=delivered,
                projected=[round(value, 2) for value in project(delivered, year, today)],
            )
        )
    return lines


def overview(session: Session, user: User, month: date) -> tuple[MonthHours, list[QuotaLine]]:
    """The hours page: the month's hours and its year's quota lines."""
    return month_hours(session, user, month), quota_lines(session, user, month.year)


def export(session: Session, user: User, kind: str, month: date, extension: str) -> MonthHours:
    """The month's hours for a billing or payroll file; the file (names in it) leaving the
    application is audited."""
    hours = month_hours(session, user, month)
    audit.record(
        session,
        actor=user,
        action="read",
        entity_type="homecare_export",
        entity_id=f"{kind}:{month:%Y-%m}",
        details={"format": extension},
    )
    session.commit()
    return hours


# --- The hours pages' use cases: each committed (Invalid, Conflict: rolled back, raised) --


def save_quota(
    session: Session, user: User, year: int | None, service: str, hours: int | None
) -> HoursQuota:
    """A service's quota for the year (`set_quota`), committed."""
    return committed(session, lambda: set_quota(session, user, year, service, hours))


def record_done(
    session: Session,
    user: User,
    visit_id: uuid.UUID | None,
    version: int,
    *,
    started_at: datetime | None,
    ended_at: datetime | None,
    km: float | None,
) -> Visit:
    """A visit marked done by the coordinator (`mark_done`), committed."""
    return committed(
        session,
        lambda: mark_done(
            session, user, visit_id, version, started_at=started_at, ended_at=ended_at, km=km
        ),
    )


def cancel_done(session: Session, user: User, visit_id: uuid.UUID | None, version: int) -> Visit:
    """A visit back to planned (`undo_done`), committed."""
    return committed(session, lambda: undo_done(session, user, visit_id, version))
