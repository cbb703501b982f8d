"""Meals: a mobile team's cut-off rule, households' weekly orders and the dated orders
made from them, cancellations before the cut-off, the kitchen's production list by diet,
and the meals delivered per household and month (from the crew's stop outcomes).

The cut-off of a delivery day is `cutoff_days` days before it at `cutoff_time`, wall
clock in Europe/Brussels (core.clock), so it moves with summer time like the kitchen's
clock does. A cancellation at or after it is refused; the kitchen's list counts every
order of the day but those cancelled before it (an order cancelled later, by a
coordinator's correction, is still produced).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock, sync
from core import fields as parse
from core.accounts import Team, User
from core.db import committed
from core.errors import FieldError, Invalid
from rounds import access
from rounds.access import MOBILE_KIND
from rounds.dated import check_version, lock_team, refresh_day
from rounds.models import (
    ADDRESS_MAX,
    DIETS,
    NAME_MAX,
    TEXT_MAX,
    MealOrder,
    MealSettings,
    Round,
    RoundStop,
    WeeklyMealOrder,
    WeeklyMealPause,
)

DEFAULT_CUTOFF_DAYS = 1
DEFAULT_CUTOFF_TIME = time(10, 0)
MAX_CUTOFF_DAYS = 7
MAX_MEALS_PER_ORDER = 20
MAX_DAYS_AHEAD = 28  # orders made ahead from the weekly ones, at most four weeks
WEEKDAY_CODES = tuple(str(d) for d in range(7))
FRIDAY = 4


@dataclass(frozen=True)
class Rule:
    applies_from: date | None
    cutoff_days: int
    cutoff_time: time
    weekend_on_friday: bool

    def cutoff(self, delivery_day: date) -> datetime:
        """The cut-off of `delivery_day`, an aware UTC moment."""
        local = datetime.combine(
            delivery_day - timedelta(days=self.cutoff_days), self.cutoff_time, clock.BRUSSELS
        )
        return clock.as_utc(local)


DEFAULT_RULE = Rule(None, DEFAULT_CUTOFF_DAYS, DEFAULT_CUTOFF_TIME, False)


def _stamp(session: Session, actor: User | None, record: Any, entity_type: str, names) -> None:
    sync.stamp(session, record, sync.team_scope(record.team_id), actor, None)
    if actor is not None:
        audit.record_change(session, actor, entity_type, record.id, sorted(names))
    session.flush()


# --- The cut-off rule -------------------------------------------------------------------------


def rule_for(session: Session, team_id: int, day: date) -> Rule:
    """The rule of delivery day `day`."""
    row = session.scalars(
        select(MealSettings)
        .where(MealSettings.team_id == team_id, MealSettings.applies_from <= day)
        .order_by(MealSettings.applies_from.desc())
        .limit(1)
    ).first()
    if row is None:
        return DEFAULT_RULE
    return Rule(row.applies_from, row.cutoff_days, row.cutoff_time, row.weekend_on_friday)


def rules(session: Session, team_id: int) -> list[MealSettings]:
    return list(
        session.scalars(
            select(MealSettings)
            .where(MealSettings.team_id == team_id)
            .order_by(MealSettings.applies_from.desc())
        )
    )


def cutoff_of(session: Session, team_id: int, delivery_day: date) -> datetime:
    return rule_for(session, team_id, delivery_day).cutoff(delivery_day)


def set_rule(session: Session, actor: User, team_id: int, data: Mapping[str, Any]) -> MealSettings:
    """The rule from a delivery day on. Its first day's cut-off must still be ahead: a
    rule cannot close cancellations that people were told were open (`cutoff_passed`)."""
    access.team_to_manage(actor, team_id)
    errors: dict[str, FieldError] = {}
    applies_from = parse.date(data, "applies_from", errors, required=True)
    days = parse.integer(data, "cutoff_days", errors, within=(0, MAX_CUTOFF_DAYS), required=True)
    at = parse.time(data, "cutoff_time", errors, required=True)
    weekend = parse.flag(data, "weekend_on_friday", errors)
    if not errors and applies_from is not None and days is not None and at is not None:
        cutoff = Rule(applies_from, days, at, weekend).cutoff(applies_from)
        if cutoff <= clock.now():
            errors["applies_from"] = FieldError(
                "cutoff_passed", {"cutoff": f"{clock.to_local(cutoff):%d/%m/%Y %H:%M}"}
            )
    if errors:
        raise Invalid(errors)
    lock_team(session, team_id)
    row = session.scalars(
        select(MealSettings).where(
            MealSettings.team_id == team_id, MealSettings.applies_from == applies_from
        )
    ).first()
    if row is None:
        row = MealSettings(team_id=team_id, applies_from=applies_from)
        session.add(row)
    row.cutoff_days, row.cutoff_time, row.weekend_on_friday = days, at, weekend
    row.created_at, row.created_by_id = clock.now(), actor.id
    session.flush()
    audit.record_change(
        session, actor, "rounds_meal_settings", row.id, ["cutoff_days", "cutoff_time"]
    )
    return row


# --- Weekly orders and the dated orders made from them ---------------------------------------


def _weekdays(raw: str) -> list[int]:
    return [int(code) for code in raw.split(",") if code]


def _weekly_fields(data: Mapping[str, Any], errors: dict[str, FieldError]) -> dict[str, Any]:
    """A weekly order's fields from a form (`weekdays` a list of weekday codes)."""
    values: dict[str, Any] = {
        "household": parse.text(data, "household", errors, limit=NAME_MAX, required=True),
        "address": parse.text(data, "address", errors, limit=ADDRESS_MAX, required=True),
        "postcode": parse.postcode(data, "postcode", errors),
        "city": parse.text(data, "city", errors, limit=80, required=True),
        "latitude": parse.number(
            data, "latitude", errors, within=(-90, 90), digits=6, required=True
        ),
        "longitude": parse.number(
            data, "longitude", errors, within=(-180, 180), digits=6, required=True
        ),
    }
    weekdays = parse.choices(data, "weekdays", errors, choices=WEEKDAY_CODES)
    if not weekdays and "weekdays" not in errors:
        errors["weekdays"] = FieldError("required")
    values["weekdays"] = ",".join(sorted(weekdays or []))
    values["meals"] = parse.integer(
        data, "meals", errors, within=(1, MAX_MEALS_PER_ORDER), required=True
    )
    values["diet"] = parse.choice(data, "diet", errors, choices=DIETS, default="normal")
    values["instructions"] = parse.text(
        data, "instructions", errors, limit=TEXT_MAX, multiline=True
    )
    starts = parse.time(data, "window_start", errors, required=True)
    ends = parse.time(data, "window_end", errors, required=True)
    if starts and ends and starts >= ends:
        errors["window_end"] = FieldError("ends_before_start")
    values["window_start"], values["window_end"] = starts, ends
    starts_on = parse.date(data, "starts_on", errors, required=True)
    ends_on = parse.date(data, "ends_on", errors)
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = FieldError("ends_before_start")
    values["starts_on"], values["ends_on"] = starts_on, ends_on
    return values


def _new_weekly(
    session: Session, actor: User, team_id: int, values: dict[str, Any], names
) -> WeeklyMealOrder:
    weekly = WeeklyMealOrder(id=uuid.uuid4(), team_id=team_id, **values)
    session.add(weekly)
    _stamp(session, actor, weekly, "rounds_weekly_meal_order", set(names) - {"csrf_token"})
    return weekly


def create_weekly(
    session: Session, actor: User, team_id: int, data: Mapping[str, Any]
) -> WeeklyMealOrder:
    """A household's standing order (entered by the service)."""
    access.team_to_manage(actor, team_id)
    errors: dict[str, FieldError] = {}
    values = _weekly_fields(data, errors)
    if errors:
        raise Invalid(errors)
    return _new_weekly(session, actor, team_id, values, data.keys())


def weekly_of(session: Session, actor: User, weekly_id: uuid.UUID | None) -> WeeklyMealOrder:
    """The coordinator's own team's weekly order; anything else is unknown."""
    weekly = session.get(WeeklyMealOrder, weekly_id) if weekly_id else None
    if weekly is None or not access.coordinates(actor, weekly.team_id):
        raise Invalid({"weekly": FieldError("unknown_order")})
    return weekly


def _locked_weekly(session: Session, actor: User, weekly_id, data) -> WeeklyMealOrder:
    weekly = weekly_of(session, actor, weekly_id)
    locked = session.scalars(
        select(WeeklyMealOrder).where(WeeklyMealOrder.id == weekly.id).with_for_update()
    ).one()
    check_version(data, locked)
    return locked


@dataclass
class Followed:
    """What a weekly order's change did to the dated orders made from it."""

    changed: int = 0  # still open: they take the new meals, diet, address, window
    cancelled: int = 0  # still open and no longer ordered (weekday gone, after the end)
    kept: int = 0  # past their cut-off: the kitchen counted them, they stay as they were


COPIED = (
    "household", "address", "postcode", "city", "latitude", "longitude", "meals", "diet",
    "instructions", "window_start", "window_end",
)  # fmt: skip


def _ordered(
    weekly: WeeklyMealOrder, eaten: date, pauses: list[WeeklyMealPause] | tuple = ()
) -> bool:
    """Meals of `weekly` for day `eaten`: one of its weekdays, within its period, in none
    of its pauses."""
    if eaten.weekday() not in _weekdays(weekly.weekdays) or eaten < weekly.starts_on:
        return False
    if any(pause.starts_on <= eaten <= pause.ends_on for pause in pauses):
        return False
    return weekly.ends_on is None or eaten <= weekly.ends_on


def pauses_of(session: Session, team_id: int) -> dict[uuid.UUID, list[WeeklyMealPause]]:
    """The team's weekly orders' pauses, per weekly order, by first day."""
    found: dict[uuid.UUID, list[WeeklyMealPause]] = {}
    for pause in session.scalars(
        select(WeeklyMealPause)
        .where(WeeklyMealPause.team_id == team_id)
        .order_by(WeeklyMealPause.starts_on, WeeklyMealPause.id)
    ):
        found.setdefault(pause.weekly_id, []).append(pause)
    return found


def _follow_weekly(session: Session, actor: User, weekly: WeeklyMealOrder) -> Followed:
    """The dated orders made from `weekly` for days to come follow its change while their
    cut-off is ahead (the new values, or cancelled when no longer ordered); after it they
    stay as they are. New days are made by the next make_orders (the nightly job)."""
    now = clock.now()
    today = clock.to_local(now).date()
    done = Followed()
    days: set[date] = set()
    pauses = pauses_of(session, weekly.team_id).get(weekly.id, [])
    for order in session.scalars(
        select(MealOrder)
        .where(
            MealOrder.weekly_id == weekly.id,
            MealOrder.day >= today,
            MealOrder.cancelled.is_(False),
        )
        .with_for_update()
    ):
        ordered = _ordered(weekly, order.eaten_on or order.day, pauses)
        same = all(getattr(order, name) == getattr(weekly, name) for name in COPIED)
        if ordered and same:
            continue
        if now >= cutoff_of(session, order.team_id, order.day):
            done.kept += 1
            continue
        if ordered:
            for name in COPIED:
                setattr(order, name, getattr(weekly, name))
            done.changed += 1
            names = list(COPIED)
        else:
            order.cancelled, order.cancelled_at, order.cancelled_by_id = True, now, actor.id
            done.cancelled += 1
            names = ["cancelled"]
        order.vehicle_id, order.unplaced, order.position, order.planned_at = None, "", None, None
        _stamp(session, actor, order, "rounds_meal_order", names)
        days.add(order.day)
    for day in sorted(days):
        refresh_day(session, weekly.team_id, day)  # the day's planned meal rounds follow
    return done


def update_weekly(
    session: Session, actor: User, weekly_id: uuid.UUID | None, data: Mapping[str, Any]
) -> tuple[WeeklyMealOrder, Followed]:
    """Change a weekly order (a form from another version: Conflict); the orders made
    from it whose cut-off is ahead follow (`_follow_weekly`)."""
    weekly = _locked_weekly(session, actor, weekly_id, data)
    errors: dict[str, FieldError] = {}
    values = _weekly_fields(data, errors)
    if errors:
        raise Invalid(errors)
    changed = [name for name, value in values.items() if getattr(weekly, name) != value]
    for name, value in values.items():
        setattr(weekly, name, value)
    _stamp(session, actor, weekly, "rounds_weekly_meal_order", changed)
    return weekly, _follow_weekly(session, actor, weekly)


def end_weekly(
    session: Session, actor: User, weekly_id: uuid.UUID | None, data: Mapping[str, Any]
) -> tuple[WeeklyMealOrder, Followed]:
    """End a weekly order after `ends_on` (its last day of meals, not before today nor
    before its first day); the orders made for later days are cancelled while their
    cut-off is ahead (after it the kitchen has counted them: they stay)."""
    weekly = _locked_weekly(session, actor, weekly_id, data)
    errors: dict[str, FieldError] = {}
    ends_on = parse.date(data, "ends_on", errors, required=True)
    if ends_on is not None:
        if ends_on < clock.to_local(clock.now()).date():
            errors["ends_on"] = FieldError("day_past")
        elif ends_on < weekly.starts_on:
            errors["ends_on"] = FieldError("ends_before_start")
    if errors:
        raise Invalid(errors)
    weekly.ends_on = ends_on
    _stamp(session, actor, weekly, "rounds_weekly_meal_order", ["ends_on"])
    return weekly, _follow_weekly(session, actor, weekly)


def mobile_teams(session: Session, cpas_id: int) -> list[Team]:
    """The mobile teams of a CPAS (those that can deliver meals), by name."""
    return list(
        session.scalars(
            select(Team)
            .where(Team.cpas_id == cpas_id, Team.kind == MOBILE_KIND)
            .order_by(Team.name)
        )
    )


def order_for_care_plan(
    session: Session, actor: User, cpas_id: int, data: Mapping[str, Any]
) -> str:
    """A weekly order made from a home-care care plan in one step (registered with home
    care by rounds/hooks.py; home care has checked that `actor` may change the plan and
    gives its household's name and address). `actor` must be staff of CPAS `cpas_id`;
    the order goes to that CPAS's mobile team (`mobile_team_id` when it has several).
    Returns the weekly order's id: the plan's meal order reference."""
    errors: dict[str, FieldError] = {}
    if actor.team is None or actor.team.cpas_id != cpas_id or not actor.active:
        raise Invalid({"meal_service": FieldError("unknown_team")})
    teams = {str(team.id): team for team in mobile_teams(session, cpas_id)}
    chosen = str(data.get("mobile_team_id") or "")
    if not teams:
        raise Invalid({"meal_service": FieldError("no_meal_service")})
    if chosen and chosen not in teams:
        errors["mobile_team_id"] = FieldError("unknown_choice")
    team = teams.get(chosen) or (next(iter(teams.values())) if len(teams) == 1 else None)
    if team is None and not errors:
        errors["mobile_team_id"] = FieldError("required")
    values = _weekly_fields(data, errors)
    if values["starts_on"] and values["starts_on"] < clock.to_local(clock.now()).date():
        errors["starts_on"] = FieldError("day_past")
    if errors:
        raise Invalid(errors)
    assert team is not None
    return str(_new_weekly(session, actor, team.id, values, data.keys()).id)


# --- A care plan's meal order following the plan (home care, through rounds/hooks.py) ------


def _care_plan_order(
    session: Session, actor: User, cpas_id: int, reference: str
) -> WeeklyMealOrder | None:
    """The weekly order a care plan's `meal_order_ref` names, within the mobile teams of
    the plan's CPAS, under its row lock; None when it names none there (typed by hand,
    another CPAS's). `actor` (home care's coordinator, checked by home care) must be
    staff of that CPAS."""
    if actor.team is None or actor.team.cpas_id != cpas_id or not actor.active:
        return None
    try:
        weekly_id = uuid.UUID(str(reference).strip())
    except ValueError:
        return None
    teams = [team.id for team in mobile_teams(session, cpas_id)]
    if not teams:
        return None
    return session.scalars(
        select(WeeklyMealOrder)
        .where(WeeklyMealOrder.id == weekly_id, WeeklyMealOrder.team_id.in_(teams))
        .with_for_update()
    ).first()


def end_for_care_plan(
    session: Session, actor: User, cpas_id: int, reference: str, last: date
) -> tuple[WeeklyMealOrder, Followed] | None:
    """The care plan ends on `last`: its weekly order ends then too (never later than it
        already does; a plan ending before the order's first day: no meal at all, its first
    day paused). The
        orders made for later days are cancelled while their cut-off is ahead; past it they
        stay (the kitchen counted them). Audited with home care's coordinator as the actor.
        None: the reference names no order of the CPAS."""
    weekly = _care_plan_order(session, actor, cpas_id, reference)
    if weekly is None:
        return None
    if weekly.ends_on is not None and weekly.ends_on <= last:
        return weekly, Followed()  # ends already by then: nothing to change
    if last < weekly.starts_on:  # ended before its first day: that day too is off
        weekly.ends_on = weekly.starts_on
        _pause(session, actor, weekly, weekly.starts_on, weekly.starts_on)
    else:
        weekly.ends_on = last
    _stamp(session, actor, weekly, "rounds_weekly_meal_order", ["ends_on"])
    return weekly, _follow_weekly(session, actor, weekly)


def _pause(session: Session, actor: User, weekly: WeeklyMealOrder, first: date, last: date):
    session.add(
        WeeklyMealPause(
            team_id=weekly.team_id,
            weekly_id=weekly.id,
            starts_on=first,
            ends_on=last,
            reason="care_plan",
            created_at=clock.now(),
            created_by_id=actor.id,
        )
    )
    session.flush()


def pause_for_care_plan(
    session: Session, actor: User, cpas_id: int, reference: str, first: date, last: date
) -> tuple[WeeklyMealOrder, Followed] | None:
    """The care plan is suspended from `first` to `last`: its weekly order pauses then
    (`WeeklyMealPause`, reason `care_plan`): no order is made for those days, and those
    made are cancelled while their cut-off is ahead (past it they stay). Audited. None:
    the reference names no order of the CPAS."""
    weekly = _care_plan_order(session, actor, cpas_id, reference)
    if weekly is None:
        return None
    _pause(session, actor, weekly, first, last)
    audit.record_change(session, actor, "rounds_weekly_meal_order", weekly.id, ["pause"])
    return weekly, _follow_weekly(session, actor, weekly)


@dataclass
class Reopened:
    """What a care plan's later end did to the dated orders of its weekly order."""

    restored: int = 0  # cancelled by home care (the plan's end), cut-off ahead: ordered again
    made: int = 0  # never made (the job skipped them after the end), cut-off ahead: made now


def reopen_for_care_plan(
    session: Session,
    actor: User,
    cpas_id: int,
    reference: str,
    ended_on: date,
    ends_on: date | None,
) -> tuple[WeeklyMealOrder, Reopened] | None:
    """The care plan that ended on `ended_on` now ends later (`ends_on`) or not at all:
    its weekly order, when that end was the plan's, ends with the plan again (never
    beyond it); the days reopened get their dated orders back while their cut-off is
    ahead (`_reopen`); past it nothing changes. An end of the order's own (the mobile
    team's, earlier or later) is left alone. Audited. None: the reference names no
    order of the CPAS."""
    weekly = _care_plan_order(session, actor, cpas_id, reference)
    if weekly is None:
        return None
    before_first = ended_on < weekly.starts_on and weekly.ends_on == weekly.starts_on
    if weekly.ends_on != ended_on and not before_first:
        return weekly, Reopened()  # not the plan's end: the mobile team's to change
    if before_first:  # the one-day pause end_for_care_plan put on its first day
        if ends_on is not None and ends_on < weekly.starts_on:
            return weekly, Reopened()  # still ends before its first day
        for pause in session.scalars(
            select(WeeklyMealPause).where(
                WeeklyMealPause.weekly_id == weekly.id,
                WeeklyMealPause.reason == "care_plan",
                WeeklyMealPause.starts_on == weekly.starts_on,
                WeeklyMealPause.ends_on == weekly.starts_on,
            )
        ):
            session.delete(pause)
        session.flush()
    weekly.ends_on = ends_on
    _stamp(session, actor, weekly, "rounds_weekly_meal_order", ["ends_on"])
    reopened_from = max(ended_on + timedelta(days=1), weekly.starts_on)
    return weekly, _reopen(session, actor, weekly, reopened_from, ends_on)


def resume_for_care_plan(
    session: Session,
    actor: User,
    cpas_id: int,
    reference: str,
    first: date,
    last: date,
    new_last: date,
) -> tuple[WeeklyMealOrder, Reopened, bool] | None:
    """The care plan's suspension `first`–`last` now ends on `new_last` (before `first`:
    lifted): the pause it put on its weekly order (reason `care_plan`, the same days)
    shortens or goes, and the days freed get their dated orders back while their cut-off
    is ahead (`_reopen`). Audited. The flag: such a pause was found. None: the reference
    names no order of the CPAS."""
    weekly = _care_plan_order(session, actor, cpas_id, reference)
    if weekly is None:
        return None
    pause = session.scalars(
        select(WeeklyMealPause)
        .where(
            WeeklyMealPause.weekly_id == weekly.id,
            WeeklyMealPause.reason == "care_plan",
            WeeklyMealPause.starts_on == first,
            WeeklyMealPause.ends_on == last,
        )
        .order_by(WeeklyMealPause.id)
        .limit(1)
        .with_for_update()
    ).first()
    if pause is None:
        return weekly, Reopened(), False
    if new_last < first:
        session.delete(pause)
    else:
        pause.ends_on = new_last
    session.flush()
    audit.record_change(session, actor, "rounds_weekly_meal_order", weekly.id, ["pause"])
    reopened_from = max(new_last + timedelta(days=1), first)
    return weekly, _reopen(session, actor, weekly, reopened_from, last), True


def _reopen(
    session: Session, actor: User, weekly: WeeklyMealOrder, lo: date, hi: date | None
) -> Reopened:
    """The dated orders of `weekly` for the days eaten `lo`–`hi` (None: no end) that the
    nightly job covers, made again by make_orders' rules while their delivery day's
    cut-off is ahead: those home care cancelled are ordered again with the order's values
    (a cancellation by the mobile team, the household's wish, stays), the missing ones
    are made."""

    def reopened(eaten: date) -> bool:
        return lo <= eaten and (hi is None or eaten <= hi)

    now = clock.now()
    today = clock.to_local(now).date()
    pauses = pauses_of(session, weekly.team_id).get(weekly.id, [])
    done = Reopened()
    days: set[date] = set()
    for order in session.scalars(
        select(MealOrder)
        .where(
            MealOrder.weekly_id == weekly.id,
            MealOrder.day >= today,
            MealOrder.cancelled.is_(True),
        )
        .with_for_update()
    ):
        eaten = order.eaten_on or order.day
        if not reopened(eaten) or not _ordered(weekly, eaten, pauses):
            continue
        if now >= cutoff_of(session, order.team_id, order.day):
            continue  # the kitchen counted the day without it
        cancelled_by = session.get(User, order.cancelled_by_id) if order.cancelled_by_id else None
        if cancelled_by is None or access.coordinates(cancelled_by, order.team_id):
            continue
        order.cancelled, order.cancelled_at, order.cancelled_by_id = False, None, None
        for name in COPIED:
            setattr(order, name, getattr(weekly, name))
        _stamp(session, actor, order, "rounds_meal_order", ["cancelled", *COPIED])
        done.restored += 1
        days.add(order.day)
    for offset in range(JOB_DAYS + 1):
        delivery = today + timedelta(days=offset)
        if not any(reopened(eaten) for eaten in eaten_days(session, weekly.team_id, delivery)):
            continue
        if now >= cutoff_of(session, weekly.team_id, delivery):
            continue
        made = make_orders(session, weekly.team_id, delivery, 1, only=weekly.id)
        if made.created:
            done.made += made.created
            days.add(delivery)
    for day in sorted(days):
        refresh_day(session, weekly.team_id, day)  # the day's planned meal rounds follow
    return done


def weekly_orders(session: Session, team_id: int) -> list[WeeklyMealOrder]:
    return list(
        session.scalars(
            select(WeeklyMealOrder)
            .where(WeeklyMealOrder.team_id == team_id)
            .order_by(WeeklyMealOrder.household, WeeklyMealOrder.id)
        )
    )


def eaten_days(session: Session, team_id: int, delivery_day: date) -> list[date]:
    """The days whose meals `delivery_day`'s round carries: Friday the weekend too when
    that Friday's rule says so; then Saturday and Sunday carry nothing."""
    weekday = delivery_day.weekday()
    if weekday > FRIDAY:
        friday = delivery_day - timedelta(days=weekday - FRIDAY)
        return [] if rule_for(session, team_id, friday).weekend_on_friday else [delivery_day]
    if weekday == FRIDAY and rule_for(session, team_id, delivery_day).weekend_on_friday:
        return [delivery_day + timedelta(days=n) for n in range(3)]
    return [delivery_day]


@dataclass
class Made:
    created: int = 0
    existing: int = 0


def make_orders(
    session: Session,
    team_id: int,
    first: date,
    days: int,
    *,
    actor: User | None = None,
    only: uuid.UUID | None = None,
) -> Made:
    """The dated orders of every weekly order for the delivery days `first` … `first +
    days - 1` (at most MAX_DAYS_AHEAD). Idempotent: an order already made for a weekly
    order and a day eaten is left alone, even cancelled; the team's row lock and the
    unique (weekly order, day eaten) key keep two runs from making one twice. `only`:
    that weekly order's alone (a care plan's order reopened)."""
    if actor is not None:
        access.team_to_manage(actor, team_id)
    days = max(0, min(days, MAX_DAYS_AHEAD))
    lock_team(session, team_id)
    weeklies = [w for w in weekly_orders(session, team_id) if only is None or w.id == only]
    pauses = pauses_of(session, team_id)
    last = first + timedelta(days=days + 2)
    made = {
        (weekly_id, eaten)
        for weekly_id, eaten in session.execute(
            select(MealOrder.weekly_id, MealOrder.eaten_on).where(
                MealOrder.team_id == team_id,
                MealOrder.weekly_id.is_not(None),
                MealOrder.eaten_on >= first,
                MealOrder.eaten_on <= last,
            )
        )
    }
    done = Made()
    for offset in range(days):
        delivery = first + timedelta(days=offset)
        for eaten in eaten_days(session, team_id, delivery):
            for weekly in weeklies:
                if not _ordered(weekly, eaten, pauses.get(weekly.id, ())):
                    continue
                if (weekly.id, eaten) in made:
                    done.existing += 1
                    continue
                order = MealOrder(
                    id=uuid.uuid4(),
                    team_id=team_id,
                    day=delivery,
                    eaten_on=eaten,
                    weekly_id=weekly.id,
                    household=weekly.household,
                    address=weekly.address,
                    postcode=weekly.postcode,
                    city=weekly.city,
                    latitude=weekly.latitude,
                    longitude=weekly.longitude,
                    meals=weekly.meals,
                    diet=weekly.diet,
                    instructions=weekly.instructions,
                    window_start=weekly.window_start,
                    window_end=weekly.window_end,
                    cancelled=False,
                    unplaced="",
                )
                session.add(order)
                if actor is not None:
                    sync.stamp(session, order, sync.team_scope(team_id), actor, None)
                else:  # the nightly job: a first version that is nobody's edit
                    order.version, order.changed_at, order.changed_by_id = 1, clock.now(), None
                    sync.touch(session, order, sync.team_scope(team_id))
                made.add((weekly.id, eaten))
                done.created += 1
    session.flush()
    if actor is not None and done.created:
        audit.record_change(
            session, actor, "rounds_meal_order", f"{team_id}:{first}:{days}", ["weekly"]
        )
    return done


JOB_DAYS = 14  # the nightly job keeps the coming two weeks' orders made


def make_due_orders(session: Session, now: datetime) -> int:
    """The scheduler's job: for every mobile team with weekly orders, the dated orders of
    the delivery days from tomorrow for JOB_DAYS days; one commit per team (a team's
    failure leaves the others' orders made). Returns the orders made."""
    first = clock.to_local(now).date() + timedelta(days=1)
    teams = session.scalars(select(WeeklyMealOrder.team_id).distinct()).all()
    made = 0
    for team_id in sorted(teams):
        made += committed(
            session, lambda t=team_id: make_orders(session, t, first, JOB_DAYS)
        ).created
    return made


# --- Cancelling --------------------------------------------------------------------------------


def order_of(session: Session, actor: User, order_id: uuid.UUID | None) -> MealOrder:
    """The coordinator's own team's order; anything else is unknown (`unknown_order`)."""
    order = session.get(MealOrder, order_id) if order_id else None
    if order is None or not access.coordinates(actor, order.team_id):
        raise Invalid({"order": FieldError("unknown_order")})
    return order


def cancel_order(session: Session, actor: User, order_id: uuid.UUID | None) -> MealOrder:
    """The one cancellation of a meal order (its page and the day's list both post here):
    before its delivery day's cut-off under the team's rule it is cancelled, leaves the
    day's plan and the stops of the day's planned meal round; at or after it:
    `after_cutoff` with the cut-off's local time, nothing changed."""
    order = order_of(session, actor, order_id)
    locked = session.scalars(
        select(MealOrder).where(MealOrder.id == order.id).with_for_update()
    ).one()
    if locked.cancelled:
        raise Invalid({"order": FieldError("already_cancelled")})
    cutoff = cutoff_of(session, locked.team_id, locked.day)
    now = clock.now()
    if now >= cutoff:
        raise Invalid(
            {
                "order": FieldError(
                    "after_cutoff", {"cutoff": f"{clock.to_local(cutoff):%d/%m/%Y %H:%M}"}
                )
            }
        )
    locked.cancelled, locked.cancelled_at, locked.cancelled_by_id = True, now, actor.id
    locked.vehicle_id, locked.unplaced, locked.position, locked.planned_at = None, "", None, None
    _stamp(session, actor, locked, "rounds_meal_order", ["cancelled"])
    refresh_day(session, locked.team_id, locked.day)  # off its planned round's stops
    return locked


# --- The kitchen's list ------------------------------------------------------------------------


@dataclass
class Kitchen:
    day: date
    cutoff: datetime
    by_diet: dict[str, int]  # meals to produce
    orders: int  # orders counted
    cancelled: int  # orders cancelled before the cut-off (not produced)

    @property
    def total(self) -> int:
        return sum(self.by_diet.values())


def counted(order: MealOrder, cutoff: datetime) -> bool:
    """Produced: not cancelled, or cancelled at or after the cut-off."""
    if not order.cancelled:
        return True
    return order.cancelled_at is not None and clock.as_utc(order.cancelled_at) >= cutoff


def kitchen_list(session: Session, team_id: int, day: date) -> Kitchen:
    """The meals to produce for delivery day `day`, by diet."""
    cutoff = cutoff_of(session, team_id, day)
    kitchen = Kitchen(day, cutoff, dict.fromkeys(DIETS, 0), 0, 0)
    for order in session.scalars(
        select(MealOrder).where(MealOrder.team_id == team_id, MealOrder.day == day)
    ):
        if counted(order, cutoff):
            kitchen.by_diet[order.diet] = kitchen.by_diet.get(order.diet, 0) + order.meals
            kitchen.orders += 1
        else:
            kitchen.cancelled += 1
    return kitchen


# --- Delivered meals, for billing --------------------------------------------------------------


@dataclass
class HouseholdMeals:
    household: str
    address: str
    by_diet: dict[str, int] = field(default_factory=dict)
    deliveries: int = 0

    @property
    def meals(self) -> int:
        return sum(self.by_diet.values())


def month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def meals_delivered(session: Session, team_id: int, month: date) -> list[HouseholdMeals]:
    """Per household, the meals handed over in `month` (a round stop of the team's rounds
    that month with the outcome `delivered`), by diet; households in name order."""
    first = month.replace(day=1)
    rows = session.execute(
        select(MealOrder)
        .join(RoundStop, RoundStop.meal_order_id == MealOrder.id)
        .join(Round, Round.id == RoundStop.round_id)
        .where(
            Round.team_id == team_id,
            MealOrder.team_id == team_id,
            Round.day >= first,
            Round.day <= month_end(first),
            RoundStop.kind == "household",
            RoundStop.outcome == "delivered",
        )
    ).scalars()
    households: dict[tuple[str, str], HouseholdMeals] = {}
    for order in rows:
        key = (order.household, order.address)
        line = households.setdefault(key, HouseholdMeals(order.household, order.address))
        line.by_diet[order.diet] = line.by_diet.get(order.diet, 0) + order.meals
        line.deliveries += 1
    return [households[key] for key in sorted(households)]


def meals_by_weekly(session: Session, cpas_id: int, month: date) -> dict[str, int]:
    """Meals delivered in `month` by the mobile teams of CPAS `cpas_id`, per weekly order
    (its id as text: what a home-care care plan's `meal_order_ref` names). Registered with
    home care's billing file by rounds/hooks.py."""
    first = month.replace(day=1)
    rows = session.execute(
        select(MealOrder.weekly_id, MealOrder.meals)
        .join(RoundStop, RoundStop.meal_order_id == MealOrder.id)
        .join(Round, Round.id == RoundStop.round_id)
        .join(Team, Team.id == Round.team_id)
        .where(
            Team.cpas_id == cpas_id,
            MealOrder.team_id == Round.team_id,
            MealOrder.weekly_id.is_not(None),
            Round.day >= first,
            Round.day <= month_end(first),
            RoundStop.kind == "household",
            RoundStop.outcome == "delivered",
        )
    )
    found: dict[str, int] = {}
    for weekly_id, meals in rows:
        found[str(weekly_id)] = found.get(str(weekly_id), 0) + meals
    return found
