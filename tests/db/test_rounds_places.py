"""A minibus stop as an appointments place (kind mobile stop): its opening hours are
written from the stop's permanences; cancelling a dated round (or skipping the stop)
closes the place that day through appointments' closure path, which lists the booked
appointments stranded; a place of another team, an antenne or one already linked is
refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from appointments import services as appointments
from appointments.models import Closure, Location
from core import accounts, clock
from core.errors import Invalid
from rounds import services
from rounds.models import Round, RoundStop, Stop
from tests.db.rounds_world import FIRST, MAY_DAY, _minibus_round

THURSDAY = MAY_DAY + timedelta(days=7)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[clock.Traveller]:
    with clock.frozen(datetime(2031, 4, 20, 8, tzinfo=UTC)) as traveller:
        yield traveller


@pytest.fixture()
def coord(db) -> accounts.User:
    found = accounts.find_user(db, "mobile-coord")
    assert found is not None
    return found


@pytest.fixture()
def linked(db, coord) -> tuple[Stop, Location]:
    _minibus_round(db, coord, coord.team_id)
    stop = db.scalar(select(Stop).where(Stop.name == "Monceau, église"))
    location = Location(
        code="clr-minibus-monceau",
        name="Minibus : arrêt Monceau",
        kind="mobile_stop",
        team_id=coord.team_id,
        postcode="6031",
        city="Monceau-sur-Sambre",
    )
    db.add(location)
    db.flush()
    services.link_place(
        db, coord, coord.team_id, {"stop_id": str(stop.id), "location": location.code}
    )
    db.flush()
    return stop, location


def test_the_place_s_hours_are_the_stop_s_permanences(db, coord, linked):
    stop, location = linked
    assert stop.location_id == location.id
    thursday = MAY_DAY.weekday()
    hours = {(row.weekday, row.opens, row.closes) for row in location.opening_hours}
    assert hours == {(thursday, time(9), time(10, 30)), (thursday, time(11), time(12, 30))}


def test_a_cancelled_round_closes_the_place_that_day(db, coord, linked):
    stop, location = linked
    services.generate_rounds(db, coord.team_id, FIRST, 3, actor=coord)
    rnd = db.scalar(
        select(Round)
        .join(RoundStop, RoundStop.round_id == Round.id)
        .where(RoundStop.stop_id == stop.id, Round.day == THURSDAY)
    )
    services.cancel_round(db, coord, rnd.id, {"reason": "Panne du minibus"})
    db.flush()
    closures = list(db.scalars(select(Closure).where(Closure.location_id == location.id)))
    assert [(c.first_day, c.last_day, c.reason) for c in closures] == [
        (THURSDAY, THURSDAY, "Panne du minibus")
    ]
    assert services.stranded_on(db, rnd) == []  # nobody booked there in this test


def test_a_skipped_stop_closes_its_place_only(db, coord, linked):
    stop, location = linked
    services.generate_rounds(db, coord.team_id, FIRST, 3, actor=coord)
    first = db.scalar(
        select(RoundStop)
        .join(Round, Round.id == RoundStop.round_id)
        .where(RoundStop.stop_id == stop.id, Round.day == THURSDAY)
        .order_by(RoundStop.position)
    )
    services.skip_stop(db, coord, first.id, {"reason": "Travaux sur la place"})
    db.flush()
    (closure,) = db.scalars(select(Closure).where(Closure.location_id == location.id))
    assert closure.first_day == THURSDAY


def test_only_a_mobile_stop_of_the_team_not_taken(db, coord, linked):
    stop, location = linked
    antenne = db.scalar(select(Location).where(Location.kind == "antenne"))
    for code, expected in ((antenne.code, "unknown_choice"), ("nope", "unknown_choice")):
        with pytest.raises(Invalid) as refused:
            services.link_place(
                db, coord, coord.team_id, {"stop_id": str(stop.id), "location": code}
            )
        assert refused.value.errors["location"].code == expected
    other = services.create_stop(
        db,
        coord,
        coord.team_id,
        {
            "vehicle_id": str(stop.vehicle_id),
            "name": "Monceau, église",
            "address": "Place",
            "postcode": "6031",
            "city": "Monceau-sur-Sambre",
            "latitude": 50.41,
            "longitude": 4.39,
        },
    )
    assert other.public_slug == "monceau-eglise-2"
    with pytest.raises(Invalid) as refused:
        services.link_place(
            db, coord, coord.team_id, {"stop_id": str(other.id), "location": location.code}
        )
    assert refused.value.errors["location"].code == "place_taken"
    assert appointments.location_by_id(db, None) is None


def test_a_booked_appointment_at_a_cancelled_stop_is_listed_stranded(db, coord):
    from tests.db.appointments_world import Agenda

    _minibus_round(db, coord, coord.team_id)
    stop = db.scalar(select(Stop).where(Stop.name == "Monceau, église"))
    agenda = Agenda(db)
    agenda.location.kind, agenda.location.team_id = "mobile_stop", coord.team_id
    db.flush()
    services.link_place(
        db, coord, coord.team_id, {"stop_id": str(stop.id), "location": agenda.location.code}
    )
    services.generate_rounds(db, coord.team_id, FIRST, 3, actor=coord)
    start = clock.as_utc(datetime.combine(THURSDAY, time(9, 30), clock.BRUSSELS))
    booked = agenda.book(start)
    rnd = db.scalar(
        select(Round)
        .join(RoundStop, RoundStop.round_id == Round.id)
        .where(RoundStop.stop_id == stop.id, Round.day == THURSDAY)
    )
    assert services.stranded_on(db, rnd) == []
    services.cancel_round(db, coord, rnd.id, {"reason": "Panne du minibus"})
    db.flush()
    assert [item.appointment_id for item in services.stranded_on(db, rnd)] == [booked.id]
    assert booked.status == "booked"  # listed, never cancelled silently
