"""A minibus stop and the people booked there: the lateness and cancellation SMS reach
the holders of an appointment at the stop's place during the visit (through
appointments' `holders_between`), in their language, once per change, one per phone
number (a subscriber who also booked hears it once), none to a cancelled appointment or
an opted-out number; linking and unlinking a stop is its coordinator's or its CPAS
administrator's alone; the demo's Mont-sur-Marchienne stop is appointments' place."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from appointments import services as appointments
from appointments.models import Location
from core import accounts, clock
from core.errors import Invalid
from core.roles import Role
from notifications import services as notify
from notifications.outbox import CategoryRules, in_quiet_hours, save_category_rules
from rounds import demo, live, places, services
from rounds.models import Round, Stop
from tests.db.rounds_live_world import (
    _holder,
    _minibus_day,
    _place,
    _sent,
    _subscribe,
    _tap,
    at,
    coord,
    crew,
)
from tests.support import cpas_admin, staff_member

__all__ = ["coord", "crew"]  # the fixtures, from tests/db/rounds_live_world.py


def test_holders_of_an_appointment_at_a_late_stop_are_told_once(db, coord, crew):
    with clock.frozen(at(7)):
        dated, stops = _minibus_day(db, coord)
        location = _place(db, coord, stops[1].stop_id)
        both = _subscribe(db, coord, stops[1].stop_id, "0470 11 33 01")
        _holder(db, location, at(11), "+32470113301")  # the subscriber's own number
        _holder(db, location, at(11, 40), "+32470113302", language="nl")
        _holder(db, location, at(12), "+32470113303", status="cancelled")
        _holder(db, location, at(12, 10), "+32470113304", consent=False)
        _holder(db, location, at(12, 20), None)  # no phone: a printed slip
        _holder(db, location, at(13, 30), "+32470113305")  # after the visit
        _holder(db, location, at(11, 20, day=dated.day + timedelta(days=7)), "+32470113306")
    start = {"id": str(uuid.uuid4()), "round_id": str(dated.id), "km_start": 10}
    _tap(db, crew, "rounds.round.start", at(8, 55), **start)
    stop1 = {"id": str(uuid.uuid4()), "round_stop_id": str(stops[0].id)}
    _tap(db, crew, "rounds.stop.arrive", at(9), **stop1)
    _tap(db, crew, "rounds.stop.leave", at(10, 55), **stop1, outcome="seen")
    at_stop2 = [m for m in _sent(db, "late") if f":{stops[1].id}:" in m.key]
    numbers = sorted(m.to for m in at_stop2)
    assert numbers == ["+32470113301", "+32470113302"]  # one SMS per number
    by_number = {m.to: m for m in at_stop2}
    assert by_number["+32470113301"].contact_id == both  # the subscription's message
    assert by_number["+32470113302"].body == (
        "OCMW: de minibus is 25 min later aan Monceau église."
    )
    assert by_number["+32470113302"].subject.startswith("rounds_notice:")
    # Asked again (the job, a second tap): nothing more.
    for minute in (56, 57):
        with clock.frozen(at(10, minute)):
            assert live.announce_due(db, clock.now()) == 0
            db.commit()
    assert len([m for m in _sent(db, "late") if f":{stops[1].id}:" in m.key]) == 2
    # Resolved before it left: the dispatcher drops it (no longer true).
    stop2 = {"id": str(uuid.uuid4()), "round_stop_id": str(stops[1].id)}
    _tap(db, crew, "rounds.stop.arrive", at(11, 5), **stop2)
    with clock.frozen(at(11, 6)):
        notice_id = by_number["+32470113302"].subject.split(":", 1)[1]
        assert not live.notice_is_current(db, notice_id)


def test_a_holder_s_late_sms_waits_for_the_end_of_quiet_hours(db, coord, crew):
    with clock.frozen(at(7)):
        _dated, stops = _minibus_day(db, coord)
        location = _place(db, coord, stops[2].stop_id)
        _holder(db, location, at(13, 40), "+32470113321")
        save_category_rules(
            db, CategoryRules("service_change", 10 * 60, 12 * 60, True, 24), actor=coord
        )
        db.commit()
    stop1 = {"id": str(uuid.uuid4()), "round_stop_id": str(stops[0].id)}
    _tap(db, crew, "rounds.stop.arrive", at(9), **stop1)
    _tap(db, crew, "rounds.stop.leave", at(10, 55), **stop1, outcome="seen")
    (message,) = [m for m in _sent(db, "late") if m.to == "+32470113321"]
    assert message.not_before >= at(12)
    assert not in_quiet_hours(notify.category_rules(db, "service_change"), message.not_before)


def test_holders_of_a_cancelled_stop_are_told_once(db, coord):
    with clock.frozen(at(7)):
        _dated, stops = _minibus_day(db, coord)
        location = _place(db, coord, stops[1].stop_id)
        _holder(db, location, at(11, 20), "+32470113311", language="nl")
        services.skip_stop(db, coord, stops[1].id, {"reason": "Travaux sur la place"})
        db.commit()
        assert live.announce_due(db, clock.now()) == 1
        assert live.announce_due(db, clock.now()) == 0
        db.commit()
    (message,) = _sent(db, "cancelled")
    assert message.to == "+32470113311"
    assert message.body == "OCMW: de minibus komt vandaag om 11h00 niet naar Monceau église."
    # Still booked (the closure lists it for the reception desk, never cancels it).
    assert len(appointments.holders_between(db, location.id, at(11), at(12, 30))) == 1


def test_linking_is_the_coordinator_s_or_her_cpas_admin_s(db, coord):
    with clock.frozen(at(7)):
        _dated, stops = _minibus_day(db, coord)
        location = _place(db, coord, stops[1].stop_id)
    data = {"stop_id": str(stops[1].stop_id)}
    charleroi = cpas_admin(db, "clr-dampremy", "admin-clr")
    brussels = cpas_admin(db)
    crew_member = accounts.find_user(db, "mobile1")
    other_coord = accounts.find_user(db, "coordination")  # Brussels home care
    assert other_coord.role == Role.COORDINATOR
    neighbour = staff_member(  # another Charleroi team's coordinator
        db, "coord-dampremy", Role.COORDINATOR, "clr-dampremy", "Coordination Dampremy"
    )
    outsiders = (brussels, crew_member, other_coord, neighbour, accounts.find_user(db, "admin"))
    for outsider in outsiders:
        for change in (places.unlink_stop, places.link_stop):
            with pytest.raises(Invalid) as refused:
                change(db, outsider, data | {"location": location.code})
            assert set(refused.value.errors) == {"stop_id"}
        assert places.stop_places(db, outsider) == []
    stop = db.get(Stop, stops[1].stop_id)
    assert stop.location_id == location.id
    # The CPAS's administrator unlinks and links again; the places are the team's only.
    places.unlink_stop(db, charleroi, data)
    assert stop.location_id is None
    listed = {item.stop.id: item for item in places.stop_places(db, charleroi)}
    assert location.code in [code for code, _name in listed[stop.id].choices]
    assert all(
        db.scalar(select(Location.team_id).where(Location.code == code)) == coord.team_id
        for item in listed.values()
        for code, _name in item.choices
    )
    antenne = db.scalar(select(Location).where(Location.kind == "antenne"))
    with pytest.raises(Invalid) as refused:
        places.link_stop(db, charleroi, data | {"location": antenne.code})
    assert refused.value.errors["location"].code == "unknown_choice"
    places.link_stop(db, charleroi, data | {"location": location.code})
    assert stop.location_id == location.id


def test_the_demo_s_mont_stop_is_its_appointments_place(db):
    team = accounts.get_team(db, demo.TEAM)
    stop = db.scalar(
        select(Stop).where(Stop.team_id == team.id, Stop.name == demo.STOPS[demo.MONT_STOP][0])
    )
    place = appointments.get_location(db, demo.MONT_PLACE)
    assert stop is not None and place is not None and stop.location_id == place.id
    wednesday = db.scalar(
        select(Round)
        .where(Round.team_id == team.id, Round.kind == "minibus", Round.name.like("%mercredi"))
        .limit(1)
    )
    assert wednesday is not None
    assert stop.id in {line.stop_id for line in services.round_stops(db, wednesday.id)}
