"""Round templates and dated rounds: generation for coming weeks (idempotent, CPAS
holidays cancelled with their name), one vehicle never in two rounds at once (also under
concurrent requests on PostgreSQL), exceptions with a reason (audited, the round's
revision grows), meal rounds taking the day's plan, and the crew's and other teams'
access."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from threading import Barrier

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import accounts
from core.audit import AuditEntry
from core.errors import Invalid
from rounds import services
from rounds.models import Round, RoundStop
from tests.db.rounds_world import FIRST, MAY_DAY, _minibus_round, order_data, vehicle_data
from tests.support import fresh_database, migrated_database

# The optimiser stops after a few iterations (tests/conftest.py, capped_search).
pytestmark = pytest.mark.usefixtures("capped_search")


@pytest.fixture()
def coord(db: Session) -> accounts.User:
    found = accounts.find_user(db, "mobile-coord")
    assert found is not None
    return found


@pytest.fixture()
def team_id(coord) -> int:
    assert coord.team_id is not None
    return coord.team_id


def test_generation_makes_each_round_once_and_cancels_holidays(db, coord, team_id):
    _, template = _minibus_round(db, coord, team_id)
    done = services.generate_rounds(db, team_id, FIRST, 3, actor=coord)
    made = list(db.scalars(select(Round).where(Round.template_id == template.id)))
    assert sorted(r.day for r in made) == [MAY_DAY + timedelta(days=7 * i) for i in range(3)]
    holiday = next(r for r in made if r.day == MAY_DAY)
    assert (holiday.status, holiday.cancel_kind) == ("cancelled", "holiday")
    assert holiday.cancel_reason == "Fête du Travail"
    running = next(r for r in made if r.day == MAY_DAY + timedelta(days=7))
    stops = services.round_stops(db, running.id)
    assert [(s.position, s.kind, s.planned_arrival.hour) for s in stops] == [
        (1, "public_stop", 9),
        (2, "public_stop", 11),
    ]
    assert done.created >= 3 and done.holidays >= 1  # the demo's templates run too
    again = services.generate_rounds(db, team_id, FIRST, 3, actor=coord)
    assert (again.created, again.existing) == (0, done.created)
    assert db.scalar(select(func.count()).where(Round.template_id == template.id)) == 3


def test_a_template_over_another_of_the_vehicle_is_refused(db, coord, team_id):
    vehicle, template = _minibus_round(db, coord, team_id)
    with pytest.raises(Invalid) as refused:
        services.create_template(
            db,
            coord,
            team_id,
            {
                "vehicle_id": str(vehicle.id),
                "name": "Another",
                "kind": "minibus",
                "weekday": str(MAY_DAY.weekday()),
                "starts": "12:00",
                "ends": "14:00",
                "active_from": "2031-05-01",
            },
        )
    assert refused.value.errors["starts"].code == "vehicle_busy"
    with pytest.raises(Invalid) as refused:
        services.update_template(
            db,
            coord,
            template.id,
            {
                "vehicle_id": str(vehicle.id),
                "name": "Shorter",
                "kind": "minibus",
                "weekday": str(MAY_DAY.weekday()),
                "starts": "10:00",
                "ends": "13:00",
                "active_from": "2031-04-01",
            },
        )
    assert refused.value.errors["starts"].code == "stops_outside_hours"
    db.refresh(template)
    assert template.starts.hour == 9


def test_a_round_by_hand_over_a_generated_one_is_refused(db, coord, team_id):
    vehicle, _ = _minibus_round(db, coord, team_id)
    services.generate_rounds(db, team_id, FIRST, 2, actor=coord)
    day = MAY_DAY + timedelta(days=7)
    with pytest.raises(Invalid) as refused:
        services.create_round(
            db,
            coord,
            team_id,
            {
                "vehicle_id": str(vehicle.id),
                "name": "Extra",
                "kind": "minibus",
                "day": day.isoformat(),
                "starts": "12:30",
                "ends": "14:00",
            },
        )
    assert refused.value.errors["starts"].code == "vehicle_busy"
    # The holiday's round is cancelled: the vehicle is free that day.
    extra = services.create_round(
        db,
        coord,
        team_id,
        {
            "vehicle_id": str(vehicle.id),
            "name": "Extra",
            "kind": "minibus",
            "day": MAY_DAY.isoformat(),
            "starts": "12:30",
            "ends": "14:00",
        },
    )
    assert extra.status == "planned"


def test_exceptions_need_a_reason_and_are_audited(db, coord, team_id):
    _, template = _minibus_round(db, coord, team_id)
    services.generate_rounds(db, team_id, FIRST, 2, actor=coord)
    dated = db.scalar(
        select(Round).where(Round.template_id == template.id, Round.status == "planned")
    )
    first, second = services.round_stops(db, dated.id)
    with pytest.raises(Invalid) as refused:
        services.skip_stop(db, coord, first.id, {"reason": " "})
    assert refused.value.errors["reason"].code == "required"
    services.skip_stop(db, coord, first.id, {"reason": "Marché sur la place"})
    assert (first.status, dated.revision) == ("skipped", 2)
    with pytest.raises(Invalid) as refused:
        services.move_stop(db, coord, second.id, {"moved_to": "12:00", "reason": "Retard"})
    assert refused.value.errors["moved_to"].code == "outside_round_hours"
    services.move_stop(db, coord, second.id, {"moved_to": "10:00", "reason": "Plus tôt"})
    assert (second.status, second.moved_to.hour, dated.revision) == ("moved", 10, 3)
    services.cancel_round(db, coord, dated.id, {"reason": "Minibus en panne"})
    assert (dated.status, dated.cancel_kind, dated.revision) == ("cancelled", "decision", 4)
    with pytest.raises(Invalid) as refused:
        services.cancel_round(db, coord, dated.id, {"reason": "Encore"})
    assert refused.value.errors["reason"].code == "round_not_planned"
    logged = db.scalars(
        select(AuditEntry.entity_type).where(
            AuditEntry.entity_id.in_([str(dated.id), str(first.id), str(second.id)])
        )
    ).all()
    assert sorted(logged) == ["rounds_round", "rounds_round_stop", "rounds_round_stop"]


def test_a_meal_round_takes_the_day_s_plan(db, coord, team_id):
    for vehicle in services.vehicles(db, team_id):
        vehicle.active = False
    van = services.create_vehicle(db, coord, team_id, vehicle_data())
    day = date(2031, 3, 4)
    dated = services.create_round(
        db,
        coord,
        team_id,
        {
            "vehicle_id": str(van.id),
            "name": "Repas",
            "kind": "meals",
            "day": day.isoformat(),
            "starts": "09:00",
            "ends": "13:00",
        },
    )
    assert services.round_stops(db, dated.id) == []
    for i in range(4):
        services.create_meal_order(db, coord, team_id, order_data(i))
    services.plan_day(db, team_id, day, seconds=0.5, actor=coord)
    stops = services.round_stops(db, dated.id)
    assert [s.position for s in stops] == [1, 2, 3, 4]
    assert {s.kind for s in stops} == {"household"}
    assert all(s.planned_arrival is not None for s in stops)


def test_crew_reads_its_own_team_s_rounds_only(db, coord, team_id):
    _, template = _minibus_round(db, coord, team_id)
    services.generate_rounds(db, team_id, FIRST, 1, actor=coord)
    dated = db.scalar(select(Round).where(Round.template_id == template.id))
    crew = accounts.find_user(db, "mobile1")
    assert crew is not None and crew.role == "crew"
    assert services.round_to_follow(db, crew, dated.id) is dated
    for outsider in ("coordination", "aide1", "rue1", "as3", "admin"):
        user = accounts.find_user(db, outsider)
        with pytest.raises(Invalid) as refused:
            services.round_to_follow(db, user, dated.id)
        assert refused.value.errors["round_id"].code == "unknown_round"
    # The crew follows; it does not cancel nor re-plan.
    with pytest.raises(Invalid):
        services.cancel_round(db, crew, dated.id, {"reason": "Non"})
    with pytest.raises(Invalid):
        services.generate_rounds(db, team_id, FIRST, 1, actor=crew)


def test_two_rounds_of_one_vehicle_at_once_one_wins():
    """Two coordinators add an overlapping round of one vehicle at the same moment: the
    vehicle's row lock lets one in; the other hears vehicle_busy."""
    from core import demo as core_demo
    from core.db import make_engine, make_session_factory
    from rounds import demo as rounds_demo

    with migrated_database("rounds") as url:
        engine = make_engine(url) if url.startswith("sqlite") else make_engine(url, pool_size=4)
        sessions = make_session_factory(engine)
        with sessions() as session:
            core_demo.seed(session)
            session.flush()
            rounds_demo.seed(session)
            coord = accounts.find_user(session, "mobile-coord")
            team_id = coord.team_id
            vehicle = services.vehicles(session, team_id)[0]
            vehicle_id = vehicle.id
            session.commit()
        barrier = Barrier(2)
        day = date(2031, 3, 8)  # a Saturday: no template

        def run(i: int) -> str:
            with sessions() as session:
                barrier.wait()  # before any query: SQLite's BEGIN IMMEDIATE takes the lock
                user = accounts.find_user(session, "mobile-coord")
                try:
                    services.create_round(
                        session,
                        user,
                        team_id,
                        {
                            "vehicle_id": str(vehicle_id),
                            "name": f"Extra {i}",
                            "kind": "minibus",
                            "day": day.isoformat(),
                            "starts": "09:00" if i else "10:00",
                            "ends": "11:00" if i else "12:00",
                        },
                    )
                    session.commit()
                    return "made"
                except Invalid as refused:
                    session.rollback()
                    return refused.errors["starts"].code

        with ThreadPoolExecutor(max_workers=2) as pool:
            results = sorted(pool.map(run, range(2)))
        with sessions() as session:
            count = session.scalar(
                select(func.count()).where(Round.vehicle_id == vehicle_id, Round.day == day)
            )
        engine.dispose()
    assert results == ["made", "vehicle_busy"]
    assert count == 1


def test_stops_of_a_round_belong_to_its_team(db, coord, team_id):
    _minibus_round(db, coord, team_id)
    services.generate_rounds(db, team_id, FIRST, 2, actor=coord)
    stop = db.scalar(select(RoundStop).where(RoundStop.team_id == team_id))
    other = accounts.find_user(db, "coordination")
    with pytest.raises(Invalid) as refused:
        services.skip_stop(db, other, stop.id, {"reason": "x"})
    assert refused.value.errors["team_id"].code == "unknown_team"


def test_two_generations_at_once_make_each_round_once():
    """The team's row lock (and the unique template-and-day key) under two concurrent
    generations of the same weeks."""
    from core import demo as core_demo
    from core.db import make_engine, make_session_factory
    from rounds import demo as rounds_demo

    with migrated_database("rounds-gen") as url:
        engine = make_engine(url) if url.startswith("sqlite") else make_engine(url, pool_size=4)
        sessions = make_session_factory(engine)
        with sessions() as session:
            core_demo.seed(session)
            session.flush()
            rounds_demo.seed(session)
            team_id = accounts.find_user(session, "mobile-coord").team_id
            session.commit()
        barrier = Barrier(2)

        def run(_: int) -> services.Generated:
            with sessions() as session:
                barrier.wait()
                done = services.generate_rounds(session, team_id, FIRST, 2)
                session.commit()
                return done

        with ThreadPoolExecutor(max_workers=2) as pool:
            first, second = sorted(pool.map(run, range(2)), key=lambda g: -g.created)
        with sessions() as session:
            count = session.scalar(
                select(func.count()).where(Round.team_id == team_id, Round.day >= FIRST)
            )
        engine.dispose()
    assert first.created == count > 0
    assert (second.created, second.existing) == (0, count)


def test_0047_gathers_each_vehicle_s_permanences_of_a_weekday_into_a_template():
    from alembic import command
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    from core import demo as core_demo
    from core.db import make_engine, make_session_factory
    from core.migrations import alembic_config

    with fresh_database("rounds-0047") as url:
        config = alembic_config(url)
        # The revision just before 0047, whatever the chain became at merges: the ORM
        # that seeds the teams below must find every earlier table.
        before = ScriptDirectory.from_config(config).get_revision("0047_rounds_dated").down_revision
        command.upgrade(config, before)
        engine = make_engine(url)
        with make_session_factory(engine)() as session:  # teams and CPAS: unchanged by 0047
            core_demo.seed(session)
            team = accounts.get_team(session, "clr-mobile").id
            session.commit()
        sqlite = url.startswith("sqlite")

        def uid(n: int) -> str:
            return f"{n:032x}" if sqlite else f"00000000-0000-0000-0000-{n:012x}"

        stamp = {"version": 0, "seq": 0, "at": "2026-01-01 00:00:00+00:00", "team": team}
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO rounds_vehicles (id, team_id, name, kind, plate, driver_name,"
                    " seats, meal_capacity, depot_address, depot_latitude, depot_longitude,"
                    " day_start, day_end, active, version, change_seq, changed_at, updated_at)"
                    " VALUES (:id, :team, 'Bus', 'minibus', '', '', 8, 0, 'D', 50.4, 4.4,"
                    " '08:30:00', '16:30:00', true, :version, :seq, :at, :at)"
                ),
                stamp | {"id": uid(1)},
            )
            connection.execute(
                text(
                    "INSERT INTO rounds_stops (id, team_id, vehicle_id, name, address,"
                    " postcode, city, latitude, longitude, active, version, change_seq,"
                    " changed_at, updated_at) VALUES (:id, :team, :vehicle, 'S', 'A', '6000',"
                    " 'Charleroi', 50.4, 4.4, true, :version, :seq, :at, :at)"
                ),
                stamp | {"id": uid(2), "vehicle": uid(1)},
            )
            for n, weekday, starts, ends in ((3, 0, "09:00", "10:00"), (4, 0, "11:00", "17:00"),
                                             (5, 2, "09:00", "10:00")):  # fmt: skip
                connection.execute(
                    text(
                        "INSERT INTO rounds_permanences (id, team_id, stop_id, weekday, starts,"
                        " ends, topic, version, change_seq, changed_at, updated_at) VALUES"
                        " (:id, :team, :stop, :weekday, :starts, :ends, 'social', :version,"
                        " :seq, :at, :at)"
                    ),
                    stamp
                    | {
                        "id": uid(n),
                        "stop": uid(2),
                        "weekday": weekday,
                        "starts": f"{starts}:00",
                        "ends": f"{ends}:00",
                    },
                )
        command.upgrade(alembic_config(url), "0047_rounds_dated")
        with engine.connect() as connection:
            templates = connection.execute(
                text("SELECT weekday, starts, ends, kind FROM rounds_templates ORDER BY weekday")
            ).all()
            linked = connection.execute(
                text("SELECT count(*) FROM rounds_permanences WHERE template_id IS NOT NULL")
            ).scalar()
        engine.dispose()
    assert [(t[0], str(t[1])[:5], str(t[2])[:5], t[3]) for t in templates] == [
        (0, "08:30", "17:00", "minibus"),
        (2, "08:30", "16:30", "minibus"),
    ]
    assert linked == 3
