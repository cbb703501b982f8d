"""Meals (issue 19): the cut-off rule (Europe/Brussels wall clock, also on the Sunday
summer time starts), cancellations refused at and after it, the kitchen's list = orders
minus the cancellations made before the cut-off, weekly orders made into dated ones
(idempotent, Friday carrying the weekend), meals delivered per household and month from
the crew's outcomes, the month's indicators over a summer-time change, and scope."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core import accounts, clock
from core.audit import AuditEntry
from core.errors import Invalid
from rounds import services
from rounds.models import MealOrder, Round, WeeklyMealOrder
from tests.db.rounds_world import _minibus_round, order_data, vehicle_data

DST_SUNDAY = date(2031, 3, 30)  # summer time starts at 02:00 (CET → CEST)
MONDAY = DST_SUNDAY + timedelta(days=1)  # delivered Monday 31 March
# The default rule: the day before at 10:00 Brussels = Sunday 08:00 UTC (already CEST).
CUTOFF_UTC = datetime(2031, 3, 30, 8, 0, tzinfo=UTC)


@pytest.fixture()
def coord(db: Session) -> accounts.User:
    found = accounts.find_user(db, "mobile-coord")
    assert found is not None
    return found


@pytest.fixture()
def team_id(coord) -> int:
    assert coord.team_id is not None
    return coord.team_id


def without_demo_weekly(session: Session) -> None:
    """The demo's standing orders and the orders made from them gone, so a test counts
    only its own."""
    session.execute(delete(MealOrder).where(MealOrder.weekly_id.is_not(None)))
    session.execute(delete(WeeklyMealOrder))
    session.flush()


def _order(db, coord, team_id, i, day=MONDAY, **changes) -> MealOrder:
    return services.create_meal_order(
        db, coord, team_id, order_data(i, day=day.isoformat()) | changes
    )


def test_the_cutoff_follows_the_brussels_clock_on_the_dst_sunday(db, team_id):
    assert services.cutoff_of(db, team_id, MONDAY) == CUTOFF_UTC
    # A week earlier the same 10:00 was still winter time: 09:00 UTC.
    assert services.cutoff_of(db, team_id, MONDAY - timedelta(days=7)) == datetime(
        2031, 3, 23, 9, 0, tzinfo=UTC
    )


def test_a_cancellation_just_before_the_cutoff_is_taken(db, coord, team_id):
    order = _order(db, coord, team_id, 0)
    with clock.frozen(CUTOFF_UTC - timedelta(minutes=1)):
        services.cancel_order(db, coord, order.id)
    assert order.cancelled and clock.as_utc(order.cancelled_at) < CUTOFF_UTC
    entry = db.scalars(
        select(AuditEntry).where(AuditEntry.entity_id == str(order.id)).order_by(AuditEntry.id)
    ).all()[-1]
    assert "cancelled" in str(entry.details)


def test_a_cancellation_at_or_after_the_cutoff_is_refused(db, coord, team_id):
    order = _order(db, coord, team_id, 0)
    # 08:30 UTC is 10:30 in summer time: too late (it would pass in winter-time arithmetic).
    for moment in (CUTOFF_UTC, CUTOFF_UTC + timedelta(minutes=30)):
        with clock.frozen(moment), pytest.raises(Invalid) as refused:
            services.cancel_order(db, coord, order.id)
        error = refused.value.errors["order"]
        assert (error.code, error.params["cutoff"]) == ("after_cutoff", "30/03/2031 10:00")
    db.refresh(order)
    assert not order.cancelled and order.cancelled_at is None


def test_the_kitchen_list_is_orders_minus_cancellations_before_the_cutoff(db, coord, team_id):
    _order(db, coord, team_id, 0, meals="2", diet="normal")
    in_time = _order(db, coord, team_id, 1, meals="3", diet="diabetic")
    late = _order(db, coord, team_id, 2, meals="1", diet="normal")
    _order(db, coord, team_id, 3, meals="1", diet="no_salt")
    _order(db, coord, team_id, 4, day=DST_SUNDAY, meals="5")  # another day
    with clock.frozen(CUTOFF_UTC - timedelta(seconds=1)):
        services.cancel_order(db, coord, in_time.id)
    # A correction recorded after the cut-off (not through the refused cancellation):
    # the kitchen had already counted it, so it is still produced.
    late.cancelled, late.cancelled_at = True, CUTOFF_UTC + timedelta(minutes=5)
    db.flush()
    kitchen = services.kitchen_list(db, team_id, MONDAY)
    assert kitchen.by_diet == {"normal": 3, "diabetic": 0, "no_salt": 1, "mixed_texture": 0}
    assert (kitchen.total, kitchen.orders, kitchen.cancelled) == (4, 3, 1)
    assert kitchen.cutoff == CUTOFF_UTC


def test_a_rule_whose_first_cutoff_is_past_is_refused(db, coord, team_id):
    rule = {"applies_from": "2031-04-02", "cutoff_days": "2", "cutoff_time": "12:00"}
    # Wednesday 2 April, 2 days before at 12:00 = Monday 31 March 12:00 (10:00 UTC).
    with clock.frozen(datetime(2031, 3, 31, 10, 0, tzinfo=UTC)), pytest.raises(Invalid) as no:
        services.set_rule(db, coord, team_id, rule)
    assert no.value.errors["applies_from"].code == "cutoff_passed"
    assert services.rules(db, team_id) == []
    with clock.frozen(datetime(2031, 3, 31, 9, 59, tzinfo=UTC)):
        services.set_rule(db, coord, team_id, rule)
    assert services.cutoff_of(db, team_id, date(2031, 4, 2)) == datetime(
        2031, 3, 31, 10, 0, tzinfo=UTC
    )
    assert services.cutoff_of(db, team_id, date(2031, 4, 1)) == datetime(
        2031, 3, 31, 8, 0, tzinfo=UTC
    )  # before the rule: the default
    with pytest.raises(Invalid) as bad:
        services.set_rule(db, coord, team_id, rule | {"cutoff_days": "9", "cutoff_time": "x"})
    assert {k: e.code for k, e in bad.value.errors.items()} == {
        "cutoff_days": "out_of_range",
        "cutoff_time": "invalid_time",
    }


def _weekly(db, coord, team_id, **changes):
    return services.create_weekly(
        db,
        coord,
        team_id,
        {
            "household": "Mme Hebdo",
            "address": "Rue du Pont 3",
            "postcode": "6000",
            "city": "Charleroi",
            "latitude": "50.41",
            "longitude": "4.44",
            "weekdays": ["0", "4", "5", "6"],
            "meals": "1",
            "diet": "no_salt",
            "window_start": "10:00",
            "window_end": "12:00",
            "starts_on": "2031-03-01",
        }
        | changes,
    )


def test_weekly_orders_make_dated_ones_once_friday_carrying_the_weekend(db, coord, team_id):
    without_demo_weekly(db)
    weekly = _weekly(db, coord, team_id)
    first = date(2031, 4, 7)  # a Monday
    with clock.frozen(datetime(2031, 3, 1, 9, 0, tzinfo=UTC)):
        services.set_rule(
            db,
            coord,
            team_id,
            {
                "applies_from": "2031-04-11",
                "cutoff_days": "1",
                "cutoff_time": "10:00",
                "weekend_on_friday": "on",
            },
        )
    done = services.make_orders(db, team_id, first, 14, actor=coord)
    made = db.scalars(
        select(MealOrder).where(MealOrder.weekly_id == weekly.id).order_by(MealOrder.eaten_on)
    ).all()
    assert [(o.day.isoformat(), o.eaten_on.isoformat()) for o in made] == [
        ("2031-04-07", "2031-04-07"),
        ("2031-04-11", "2031-04-11"),
        ("2031-04-11", "2031-04-12"),  # Friday carries Saturday…
        ("2031-04-11", "2031-04-13"),  # …and Sunday
        ("2031-04-14", "2031-04-14"),
        ("2031-04-18", "2031-04-18"),
        ("2031-04-18", "2031-04-19"),
        ("2031-04-18", "2031-04-20"),
    ]
    assert done.created == 8
    assert services.kitchen_list(db, team_id, date(2031, 4, 11)).by_diet["no_salt"] == 3
    again = services.make_orders(db, team_id, first, 14, actor=coord)
    assert (again.created, again.existing) == (0, 8)
    assert db.scalar(select(func.count()).where(MealOrder.weekly_id == weekly.id)) == 8


def test_a_weekly_order_s_bad_input_is_refused(db, coord, team_id):
    with pytest.raises(Invalid) as refused:
        _weekly(db, coord, team_id, weekdays=[], meals="0", ends_on="2031-01-01")
    assert {k: e.code for k, e in refused.value.errors.items()} == {
        "weekdays": "required",
        "meals": "out_of_range",
        "ends_on": "ends_before_start",
    }


def _meal_round(db, coord, team_id, day):
    for vehicle in services.vehicles(db, team_id):
        vehicle.active = False
    van = services.create_vehicle(db, coord, team_id, vehicle_data())
    dated = services.create_round(
        db,
        coord,
        team_id,
        {
            "vehicle_id": str(van.id),
            "name": "Repas test",
            "kind": "meals",
            "day": day.isoformat(),
            "starts": "09:00",
            "ends": "13:00",
        },
    )
    return dated


def test_a_cancelled_order_leaves_its_planned_round(db, coord, team_id):
    dated = _meal_round(db, coord, team_id, MONDAY)
    kept = _order(db, coord, team_id, 0)
    gone = _order(db, coord, team_id, 1)
    services.plan_day(db, team_id, MONDAY, seconds=0.5, actor=coord)
    assert len(services.round_stops(db, dated.id)) == 2
    revision = dated.revision
    with clock.frozen(CUTOFF_UTC - timedelta(hours=1)):
        services.cancel_order(db, coord, gone.id)
    assert [s.meal_order_id for s in services.round_stops(db, dated.id)] == [kept.id]
    assert dated.revision == revision + 1  # a change people are told about


def test_meals_delivered_per_household_and_month(db, coord, team_id):
    day = date(2031, 3, 28)
    dated = _meal_round(db, coord, team_id, day)
    _order(db, coord, team_id, 0, day=day, meals="2", diet="diabetic")
    _order(db, coord, team_id, 1, day=day, meals="1")
    _order(db, coord, team_id, 2, day=day, meals="1")
    services.plan_day(db, team_id, day, seconds=0.5, actor=coord)
    stops = services.round_stops(db, dated.id)
    assert len(stops) == 3
    orders = {o.id: o for o in services.meal_orders(db, team_id, day)}
    for stop in stops:
        household = orders[stop.meal_order_id].household
        stop.status = "left"
        stop.outcome = "nobody_home" if household == "Household 2" else "delivered"
    db.flush()
    lines = services.meals_delivered(db, team_id, date(2031, 3, 1))
    assert [(x.household, x.by_diet, x.meals) for x in lines] == [
        ("Household 0", {"diabetic": 2}, 2),
        ("Household 1", {"normal": 1}, 1),
    ]
    assert services.meals_delivered(db, team_id, date(2031, 4, 1)) == []
    indicators = {x.name: x for x in services.month_indicators(db, team_id, date(2031, 3, 1))}
    assert indicators["Repas test"].meals_by_diet["diabetic"] == 2
    assert indicators["Repas test"].meals == 3


def test_indicators_over_a_month_with_a_summer_time_change(db, coord, team_id):
    # A Monday minibus round: 24 March (winter time) and 31 March (summer time).
    _, template = _minibus_round(
        db, coord, team_id, weekday="0", active_from="2031-03-01", name="Minibus DST"
    )
    services.generate_rounds(db, team_id, date(2031, 3, 24), 2, actor=coord)
    rounds = db.scalars(
        select(Round).where(Round.template_id == template.id).order_by(Round.day)
    ).all()
    assert [r.day for r in rounds] == [date(2031, 3, 24), MONDAY]
    winter, summer = rounds
    # 09:00 planned: arrived 09:10 in winter (08:10 UTC), 09:05 in summer (07:05 UTC).
    arrivals = {
        winter.id: [
            datetime(2031, 3, 24, 8, 10, tzinfo=UTC),
            datetime(2031, 3, 24, 10, 0, tzinfo=UTC),
        ],
        summer.id: [datetime(2031, 3, 31, 7, 5, tzinfo=UTC), None],
    }
    for dated, km in ((winter, (1000, 1042)), (summer, (1042, 1070))):
        dated.status, (dated.km_start, dated.km_end) = "finished", km
        for stop, arrived in zip(
            services.round_stops(db, dated.id), arrivals[dated.id], strict=True
        ):
            if arrived is None:
                stop.status, stop.reason = "skipped", "Route barrée"
            else:
                stop.status, stop.arrived_at, stop.people_seen = "left", arrived, 4
    db.flush()
    line = {x.name: x for x in services.month_indicators(db, team_id, date(2031, 3, 1))}[
        "Minibus DST"
    ]
    assert (line.rounds_held, line.rounds_cancelled) == (2, 0)
    assert (line.stops_held, line.stops_skipped) == (3, 1)
    assert (line.people_seen, line.people_per_stop) == (12, 4.0)
    # 10 (winter), 0 (11:00 planned, arrived 11:00 winter), 5 (summer).
    assert sorted(line.late_minutes) == [0, 5, 10]
    assert (line.lateness_median, line.lateness_worst) == (5, 10)
    assert line.km == 70


def test_another_team_is_refused_like_an_unknown_order(db, coord, team_id):
    order = _order(db, coord, team_id, 0)
    for outsider in ("coordination", "mobile1", "aide1", "as3", "admin"):
        user = accounts.find_user(db, outsider)
        assert user is not None
        with pytest.raises(Invalid) as refused:
            services.cancel_order(db, user, order.id)
        assert refused.value.errors["order"].code == "unknown_order"
        with pytest.raises(Invalid):
            services.set_rule(db, user, team_id, {"applies_from": "2040-01-01", "cutoff_days": "1"})
        with pytest.raises(Invalid):
            services.make_orders(db, team_id, MONDAY, 7, actor=user)
    assert not order.cancelled


def test_two_runs_making_the_orders_at_once_make_each_once():
    """Two coordinators press "make the coming orders" at the same moment: the team's row
    lock serialises them, the unique (weekly order, day eaten) key backs it up."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from core import demo as core_demo
    from core.db import make_engine, make_session_factory
    from rounds import demo as rounds_demo
    from tests.support import migrated_database

    with migrated_database("meals") as url:
        engine = make_engine(url) if url.startswith("sqlite") else make_engine(url, pool_size=4)
        sessions = make_session_factory(engine)
        with sessions() as session:
            core_demo.seed(session)
            session.flush()
            rounds_demo.seed(session)
            coord = accounts.find_user(session, "mobile-coord")
            team_id = coord.team_id
            without_demo_weekly(session)
            weekly = _weekly(session, coord, team_id, weekdays=["0", "1", "2", "3", "4"])
            weekly_id = weekly.id
            session.commit()
        barrier = Barrier(2)

        def run(_i: int) -> int:
            with sessions() as session:
                barrier.wait()
                user = accounts.find_user(session, "mobile-coord")
                done = services.make_orders(session, team_id, date(2031, 4, 7), 7, actor=user)
                session.commit()
                return done.created

        with ThreadPoolExecutor(max_workers=2) as pool:
            results = sorted(pool.map(run, range(2)))
        with sessions() as session:
            count = session.scalar(select(func.count()).where(MealOrder.weekly_id == weekly_id))
        engine.dispose()
    assert results == [0, 5]
    assert count == 5


def test_home_care_s_billing_counts_the_meals_its_plans_name(db, coord, team_id):
    """A care plan's meal_order_ref names a weekly order: the meals delivered that month
    appear on the household's billing line (rounds/hooks.py's source), within the CPAS."""
    from homecare import hours
    from homecare.models import CarePlan

    home = accounts.find_user(db, "coordination")  # home care, CPAS de Bruxelles
    day = date(2031, 3, 28)  # a Friday
    _meal_round(db, coord, team_id, day)
    weekly = _weekly(db, coord, team_id, meals="2")
    services.make_orders(db, team_id, day, 1, actor=coord)
    services.plan_day(db, team_id, day, seconds=0.5, actor=coord)
    for round_ in services.meal_rounds(db, team_id, day):
        for stop in services.round_stops(db, round_.id):
            stop.status, stop.outcome = "left", "delivered"
    plan = db.scalars(select(CarePlan).where(CarePlan.team_id == home.team_id)).first()
    plan.meal_order_ref = str(weekly.id)
    db.flush()

    def meals() -> dict:
        month = hours.month_hours(db, home, date(2031, 3, 1))
        return {row.beneficiary_id: row.meals for row in month.households if row.meals}

    assert meals() == {}  # the mobile team is Charleroi's: another CPAS's meals stay out
    coord.team.cpas_id = home.team.cpas_id
    db.flush()
    assert meals() == {plan.beneficiary_id: 2}
