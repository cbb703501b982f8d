"""Dated rounds follow a change of their template itself (issue 19): its hours and vehicle
reach the rounds not started (with a new round's checks, refused as a whole naming the
rounds or stops in the way); a weekday or a shorter period cancels the rounds no longer
on its days through the one cancellation (its SMS), and its new days get their rounds
(idempotent); started, cancelled or own-hours rounds are left alone and listed; a stale
form is a Conflict. The clock is frozen (a summer-time Sunday too)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from core import clock, sync
from core.audit import AuditEntry
from core.errors import Conflict, Invalid
from rounds import live, live_sync, services
from rounds.models import Round
from tests.db.rounds_live_world import (
    DAY,
    MONDAY,
    _form,
    _minibus_day,
    _rounds,
    _sent,
    _subscribe,
    _tap,
    _weeks,
    at,
    coord,
    crew,
)
from tests.db.rounds_world import vehicle_data

__all__ = ["coord", "crew"]


def _change(db, coord, template_id, **changes):
    data = _form(db, template_id, **changes)
    return services.save_template_change(db, coord, template_id, data)


def test_new_hours_reach_the_rounds_not_started_and_the_others_are_listed(db, coord):
    with clock.frozen(at(7)):
        rounds, _permanences = _weeks(db, coord)
        past, today, skipped, cancelled, plain = rounds
        template_id = today.template_id
        revision = plain.revision
        done = _change(db, coord, template_id, starts="08:30", ends="16:00")
        assert (done.followed, done.cancelled, done.made) == (2, 0, 0)
        assert {(item.day, item.why) for item in done.left} == {
            (today.day, "started"),
            (cancelled.day, "cancelled"),
        }
        after = {r.id: r for r in _rounds(db, template_id)}
        for dated in (skipped, plain):
            assert (after[dated.id].starts, after[dated.id].ends) == (time(8, 30), time(16))
        assert after[plain.id].revision == revision + 1
        for dated in (past, today, cancelled):
            assert (after[dated.id].starts, after[dated.id].ends) == (time(9), time(15, 30))
        # The skip and the move stay.
        assert [s.status for s in services.round_stops(db, skipped.id)] == [
            "planned",
            "skipped",
            "moved",
        ]
        audited = db.scalars(
            select(AuditEntry).where(
                AuditEntry.entity_type == "rounds_template",
                AuditEntry.entity_id == str(template_id),
                AuditEntry.action == "follow",
            )
        ).one()
        assert audited.details["followed"] == 2
        # The same form again: nothing more (idempotent).
        again = _change(db, coord, template_id, starts="08:30", ends="16:00")
        assert (again.followed, again.cancelled, again.made) == (0, 0, 0)


def test_a_round_with_its_own_hours_is_left_alone(db, coord):
    with clock.frozen(at(7)):
        rounds, _permanences = _weeks(db, coord)
        plain = rounds[-1]
        plain.starts = time(8)  # as if made before an earlier change of the template
        db.commit()
        done = _change(db, coord, plain.template_id, ends="16:00")
        assert done.followed == 1
        assert [(item.day, item.why) for item in done.left if item.why == "own_hours"] == [
            (plain.day, "own_hours")
        ]
        db.refresh(plain)
        assert (plain.starts, plain.ends) == (time(8), time(15, 30))


def test_hours_that_leave_a_moved_stop_out_are_refused_naming_it(db, coord):
    with clock.frozen(at(7)):
        rounds, _permanences = _weeks(db, coord)
        skipped = rounds[2]
        template_id = skipped.template_id
        before = _form(db, template_id)
        # The template's own stops end at 15:00; the moved one runs 14:00-15:30.
        with pytest.raises(Invalid) as refused:
            _change(db, coord, template_id, ends="15:00")
        error = refused.value.errors["starts"]
        assert error.code == "round_stops_outside"
        assert error.params["stops"] == "13/05/2031 14:00–15:30 Goutroux place"
        assert _form(db, template_id) == before
        assert all(r.ends == time(15, 30) for r in _rounds(db, template_id))


def test_hours_over_another_round_of_the_vehicle_are_refused_naming_it(db, coord):
    with clock.frozen(at(7)):
        rounds, _permanences = _weeks(db, coord)
        plain = rounds[-1]
        services.make_round(
            db,
            coord,
            coord.team_id,
            {
                "vehicle_id": str(plain.vehicle_id),
                "name": "Salon",
                "kind": "minibus",
                "day": plain.day.isoformat(),
                "starts": "15:30",
                "ends": "17:00",
            },
        )
        with pytest.raises(Invalid) as refused:
            _change(db, coord, plain.template_id, ends="16:00")
        error = refused.value.errors["vehicle_id"]
        assert error.code == "rounds_in_the_way"
        assert error.params["rounds"] == f"{plain.day:%d/%m/%Y} 15:30–17:00 Salon"
        assert all(r.ends == time(15, 30) for r in _rounds(db, plain.template_id))


def test_a_new_weekday_cancels_the_old_days_and_makes_the_new_ones(db, coord):
    with clock.frozen(at(7)):
        rounds, _permanences = _weeks(db, coord)
        past, today, skipped, cancelled, plain = rounds
        template_id = today.template_id
        done = _change(
            db, coord, template_id, weekday="2", cancel_reason="Le minibus passe le mercredi"
        )
        # Next week's and the last are cancelled; today's (started) is left; the cancelled
        # one stays as it was; Wednesdays up to the weeks already made get their rounds.
        assert (done.followed, done.cancelled, done.made) == (0, 2, 4)
        assert [(item.day, item.why) for item in done.left] == [(today.day, "started")]
        after = {r.id: r for r in _rounds(db, template_id)}
        for dated in (skipped, plain):
            assert after[dated.id].status == "cancelled"
            assert after[dated.id].cancel_kind == "decision"
            assert after[dated.id].cancel_reason == "Le minibus passe le mercredi"
        assert after[cancelled.id].cancel_reason == "Formation"
        assert after[past.id].status == "planned" and after[today.id].status == "started"
        wednesdays = sorted(r.day for r in after.values() if r.day.weekday() == 2)
        assert wednesdays == [DAY + timedelta(days=1 + 7 * n) for n in range(4)]
        first = next(r for r in after.values() if r.day == DAY + timedelta(days=1))
        assert [s.planned_arrival for s in services.round_stops(db, first.id)] == [
            time(9),
            time(11),
            time(13, 30),
        ]
        # Again: nothing more.
        again = _change(db, coord, template_id, weekday="2")
        assert (again.followed, again.cancelled, again.made) == (0, 0, 0)


def test_a_shorter_period_cancels_the_rounds_after_it(db, coord):
    with clock.frozen(at(7)):
        rounds, _permanences = _weeks(db, coord)
        _past, today, skipped, _cancelled, plain = rounds
        until = skipped.day.isoformat()
        done = _change(db, coord, today.template_id, active_until=until)
        assert (done.followed, done.cancelled, done.made) == (0, 1, 0)
        db.refresh(plain)
        db.refresh(skipped)
        assert plain.status == "cancelled" and skipped.status != "cancelled"
        # Longer again: the cancelled round stays cancelled (its day has its round).
        again = _change(db, coord, today.template_id, active_until="")
        assert (again.cancelled, again.made) == (0, 0)


def test_a_cancelled_day_is_told_to_its_subscribers_and_reaches_the_crew(db, coord, crew):
    monday = at(7, day=MONDAY)
    with clock.frozen(monday):
        dated, stops = _minibus_day(db, coord)  # tomorrow's round
        _subscribe(db, coord, stops[1].stop_id, "0470 11 55 01")
        db.commit()
        since = sync.current_seq(db, sync.team_scope(coord.team_id))
        done = _change(db, coord, dated.template_id, weekday="3", cancel_reason="Jeudi")
        assert done.cancelled == 1
        db.refresh(dated)
        assert dated.status == "cancelled"
        # The existing cancellation path: the announce job tells the subscriber once.
        assert live.announce_due(db, clock.now()) == 1
        assert live.announce_due(db, clock.now()) == 0
        (message,) = _sent(db, "cancelled")
        assert "Monceau église" in message.body
        # The crew's phone: the cancelled round leaves on its next download.
        changes = live_sync.round_changes(db, crew, since, 500)
        assert [(c.type, c.record) for c in changes if c.id == str(dated.id)] == [
            ("rounds.round", None)
        ]


def test_a_started_round_on_a_day_dropped_stays_and_is_listed(db, coord, crew):
    with clock.frozen(at(7)):
        dated, _stops = _minibus_day(db, coord)
    start = {"id": str(uuid.uuid4()), "round_id": str(dated.id), "km_start": 10}
    _tap(db, crew, "rounds.round.start", at(8, 55), **start)
    with clock.frozen(at(9)):
        done = _change(db, coord, dated.template_id, weekday="4", starts="08:00")
        assert done.cancelled == 0 and done.followed == 0
        assert [item.why for item in done.left] == ["started"]
        db.refresh(dated)
        assert (dated.status, dated.starts) == ("started", time(9))


def test_a_stale_form_or_another_team_is_refused(db, coord):
    with clock.frozen(at(7)):
        dated, _stops = _minibus_day(db, coord)
        template_id = dated.template_id
        data = _form(db, template_id, starts="08:00")
        _change(db, coord, template_id, ends="16:00")
        with pytest.raises(Conflict):
            services.save_template_change(db, coord, template_id, data)
        db.refresh(dated)
        assert dated.starts == time(9)
        from tests.web.rounds_world import _coordinator

        _coordinator(db, "mobile-coord-other", "clr-mobile-other", coord.team.cpas.code)
        from core import accounts

        other = accounts.find_user(db, "mobile-coord-other")
        with pytest.raises(Invalid) as refused:
            services.save_template_change(db, other, template_id, _form(db, template_id))
        assert refused.value.errors["template_id"].code == "unknown_template"


def test_a_meal_template_s_new_vehicle_reaches_its_rounds_with_the_checks(db, coord):
    with clock.frozen(at(7)):
        team_id = coord.team_id
        first = services.create_vehicle(db, coord, team_id, vehicle_data(name="Van A"))
        second = services.create_vehicle(db, coord, team_id, vehicle_data(name="Van B"))
        template = services.create_template(
            db,
            coord,
            team_id,
            {
                "vehicle_id": str(first.id),
                "name": "Repas",
                "kind": "meals",
                "weekday": str(DAY.weekday()),
                "starts": "10:00",
                "ends": "12:00",
                "active_from": "2031-04-01",
            },
        )
        services.generate_rounds(db, team_id, MONDAY, 2, actor=coord)
        db.commit()
        services.make_round(
            db,
            coord,
            team_id,
            {
                "vehicle_id": str(second.id),
                "name": "Course",
                "kind": "meals",
                "day": (DAY + timedelta(days=7)).isoformat(),
                "starts": "11:00",
                "ends": "13:00",
            },
        )
        with pytest.raises(Invalid) as refused:
            _change(db, coord, template.id, vehicle_id=str(second.id))
        assert refused.value.errors["vehicle_id"].code == "rounds_in_the_way"
        done = _change(db, coord, template.id, vehicle_id=str(second.id), ends="11:00")
        assert done.followed == 2
        assert {r.vehicle_id for r in _rounds(db, template.id)} == {second.id}


def test_the_hours_change_on_a_summer_time_sunday(db, coord):
    sunday = date(2031, 3, 30)  # the clocks go forward at 02:00
    with clock.frozen(datetime(2031, 3, 29, 23, 30, tzinfo=UTC)):  # 00:30 in Brussels
        team_id = coord.team_id
        vehicle = services.create_vehicle(db, coord, team_id, vehicle_data(kind="minibus"))
        template = services.create_template(
            db,
            coord,
            team_id,
            {
                "vehicle_id": str(vehicle.id),
                "name": "Dimanche",
                "kind": "minibus",
                "weekday": "6",
                "starts": "09:00",
                "ends": "12:00",
                "active_from": "2031-03-01",
            },
        )
        services.generate_rounds(db, team_id, sunday - timedelta(days=6), 2, actor=coord)
        db.commit()
        done = _change(db, coord, template.id, starts="10:00", ends="13:00")
        assert done.followed == 2  # today's (not started) and next Sunday's
        today = db.scalar(
            select(Round).where(Round.template_id == template.id, Round.day == sunday)
        )
        assert (today.starts, today.ends) == (time(10), time(13))
        # 10:00 on that Sunday is 08:00 UTC (summer time already).
        assert live.moment(sunday, today.starts) == datetime(2031, 3, 30, 8, 0, tzinfo=UTC)
