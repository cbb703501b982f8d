"""Dated rounds follow later changes of their template's stops (issue 19): added, changed,
removed — only the rounds not started (planned, today or later), keeping a skip, a move
and a cancelled day; removals reach the crew's feed as deletions; a restored public stop
reopens its appointments place and tells the people who heard it was cancelled, once.
The clock is frozen."""

from __future__ import annotations

import uuid
from datetime import time

from sqlalchemy import func, select

from appointments.models import Closure
from core import accounts, clock, sync
from notifications import services as notify
from notifications.outbox import CategoryRules, in_quiet_hours, save_category_rules
from rounds import live, live_sync, services
from rounds.live_models import StopNotice
from rounds.models import Round, RoundStop, RoundStopRemoval
from tests.db.rounds_live_world import (
    DAY,
    _holder,
    _minibus_day,
    _place,
    _sent,
    _subscribe,
    _tap,
    _weeks,
    at,
    coord,
    crew,
)
from tests.support import staff_member

__all__ = ["coord", "crew"]


def _plan(db, dated):
    return [
        (s.position, s.planned_arrival, s.status, s.moved_to, s.reason, s.topic)
        for s in services.round_stops(db, dated.id)
    ]


def test_rounds_not_started_follow_an_added_changed_and_removed_stop(db, coord):
    with clock.frozen(at(7)):
        rounds, (first, second, third) = _weeks(db, coord)
        past, today, skipped, cancelled, plain = rounds
        untouched = {r.id: _plan(db, r) for r in (past, today, cancelled)}
        revision = skipped.revision
        # A stop added at the end of the day.
        done = services.save_permanence(
            db,
            coord,
            coord.team_id,
            {
                "template_id": str(first.template_id),
                "stop_id": str(first.stop_id),
                "starts": "15:00",
                "ends": "15:30",
                "topic": "digital",
            },
        )
        assert done.rounds == 2
        for dated in (skipped, plain):
            db.refresh(dated)
            stops = services.round_stops(db, dated.id)
            assert [s.planned_arrival for s in stops] == [
                time(9),
                time(11),
                time(13, 30),
                time(15),
            ]
            assert [s.position for s in stops] == [1, 2, 3, 4]
            assert stops[3].topic == "digital" and stops[3].permanence_id is not None
        assert skipped.revision == revision + 1
        # The second stop changed: its hours and topic, its skip kept.
        change = {"stop_id": str(second.stop_id), "starts": "11:15", "ends": "12:30"}
        done = services.save_permanence_change(
            db, coord, second.id, change | {"topic": "jobs", "version": str(second.version)}
        )
        assert done.rounds == 2
        assert _plan(db, skipped)[1] == (2, time(11, 15), "skipped", None, "Marché", "jobs")
        assert _plan(db, plain)[1] == (2, time(11, 15), "planned", None, "", "jobs")
        # The third removed: out of the rounds that follow; the move elsewhere is gone.
        removed = {s.id for s in services.round_stops(db, plain.id) if s.permanence_id == third.id}
        done = services.remove_permanence_and_store(db, coord, third.id)
        assert done.rounds == 2
        assert [s.planned_arrival for s in services.round_stops(db, plain.id)] == [
            time(9),
            time(11, 15),
            time(15),
        ]
        assert [s.status for s in services.round_stops(db, skipped.id)] == [
            "planned",
            "skipped",
            "planned",
        ]
        assert db.get(RoundStopRemoval, removed.pop()) is not None
        # Gone by, started or cancelled: as they were.
        for dated in (past, today, cancelled):
            assert _plan(db, dated) == untouched[dated.id], dated.day
        assert db.get(Round, cancelled.id).status == "cancelled"
        # Rounds made before keep their stop, no longer tied to the removed one.
        assert all(s.permanence_id != third.id for s in db.scalars(select(RoundStop)))


def test_a_removed_stop_reaches_the_crew_s_feed_as_a_deletion(db, coord, crew):
    with clock.frozen(at(7)):
        dated, stops = _minibus_day(db, coord)
        permanences = services.permanences_of(db, dated.template_id)
        since = sync.current_seq(db, sync.team_scope(coord.team_id))
        services.remove_permanence_and_store(db, coord, permanences[1].id)
        deletions = live_sync.stop_removals(db, crew, since, 500)
        assert [(c.type, c.id, c.record) for c in deletions] == [
            ("rounds.stop", str(stops[1].id), None)
        ]
        (again,) = [c for c in live_sync.round_changes(db, crew, since, 500)]
        assert [s["id"] for s in again.record["stops"]] == [str(stops[0].id), str(stops[2].id)]
        assert [s["position"] for s in again.record["stops"]] == [1, 2]
        assert live_sync.stop_removals(db, crew, 0, 500) == []  # a fresh phone: nothing gone
        other = db.scalar(
            select(accounts.Team).where(accounts.Team.cpas_id != coord.team.cpas_id).limit(1)
        )
        team = accounts.create_team(
            db, code="ailleurs-mobile", name="Ailleurs", kind="mobile",
            cpas_code=other.cpas.code, city="Ailleurs",
        )  # fmt: skip
        outsider = staff_member(db, "crew-ailleurs", "crew", team.code, "Crew")
        assert live_sync.stop_removals(db, outsider, since, 500) == []
        assert live_sync.stop_removals(db, coord, since, 500) == []


def test_a_started_round_never_follows(db, coord, crew):
    with clock.frozen(at(7)):
        dated, _stops = _minibus_day(db, coord)
        permanences = services.permanences_of(db, dated.template_id)
    start = {"id": str(uuid.uuid4()), "round_id": str(dated.id), "km_start": 10}
    _tap(db, crew, "rounds.round.start", at(8, 55), **start)
    with clock.frozen(at(9)):
        done = services.remove_permanence_and_store(db, coord, permanences[2].id)
        assert done.rounds == 0
        assert len(services.round_stops(db, dated.id)) == 3


def _restore(db, coord, stop):
    db.refresh(stop)
    return services.restore_and_store(db, coord, stop.id, {"version": str(stop.version)})


def test_restoring_a_skipped_public_stop_reopens_its_place_and_tells_people_once(db, coord):
    with clock.frozen(at(7)):
        _dated, stops = _minibus_day(db, coord)
        location = _place(db, coord, stops[1].stop_id)
        _subscribe(db, coord, stops[1].stop_id, "0470 11 44 01")
        _holder(db, location, at(11, 20), "+32470114402", language="nl")
        _holder(db, location, at(11, 30), "+32470114401")  # the subscriber, booked too
        services.skip_and_store(db, coord, stops[1].id, {"reason": "Travaux"})
        db.refresh(stops[1])
        closure_id = stops[1].closure_id
        assert db.get(Closure, closure_id).first_day == DAY
        assert live.announce_due(db, clock.now()) == 2
        db.commit()
    with clock.frozen(at(8)):
        _restore(db, coord, stops[1])
        assert db.get(Closure, closure_id) is None  # the place opens again that day
        restored = _sent(db, "restored")
        assert sorted(m.to for m in restored) == ["+32470114401", "+32470114402"]
        body = {m.to: m.body for m in restored}["+32470114402"]
        assert body == "OCMW: de minibus komt toch naar Monceau église op 06/05 om 11h00."
        cancelled = _sent(db, "cancelled")
        assert not live.notice_is_current(db, cancelled[0].subject.split(":", 1)[1])
        assert all(live.notice_is_current(db, m.subject.split(":", 1)[1]) for m in restored)
        assert live.announce_due(db, clock.now()) == 0
        # Skipped again: told again it is off, and the "back on" still queued is dropped.
        services.skip_and_store(db, coord, stops[1].id, {"reason": "Travaux encore"})
        assert live.announce_due(db, clock.now()) == 2
        db.commit()
        assert not any(live.notice_is_current(db, m.subject.split(":", 1)[1]) for m in restored)
        assert len(_sent(db, "cancelled")) == 4


def test_a_stop_restored_before_anyone_was_told_sends_nothing(db, coord):
    with clock.frozen(at(7)):
        dated, stops = _minibus_day(db, coord)
        location = _place(db, coord, stops[2].stop_id)
        _subscribe(db, coord, stops[2].stop_id, "0470 11 44 11")
        services.skip_and_store(db, coord, stops[2].id, {"reason": "Travaux"})
        _restore(db, coord, stops[2])
        assert _sent(db, "restored") == [] and _sent(db, "cancelled") == []
        assert db.scalar(select(func.count()).select_from(StopNotice)) == 0
        assert (
            db.scalar(
                select(func.count()).select_from(Closure).where(Closure.location_id == location.id)
            )
            == 0
        )
        assert db.get(Round, dated.id).status == "planned"


def test_the_back_on_sms_waits_for_the_end_of_quiet_hours(db, coord):
    with clock.frozen(at(7)):
        _dated, stops = _minibus_day(db, coord)
        _subscribe(db, coord, stops[2].stop_id, "0470 11 44 21")
        services.skip_and_store(db, coord, stops[2].id, {"reason": "Travaux"})
        assert live.announce_due(db, clock.now()) == 1
        save_category_rules(
            db, CategoryRules("service_change", 6 * 60, 9 * 60, True, 24), actor=coord
        )
        db.commit()
    with clock.frozen(at(8)):
        _restore(db, coord, stops[2])
    (message,) = _sent(db, "restored")
    assert message.not_before >= at(9)
    assert not in_quiet_hours(notify.category_rules(db, "service_change"), message.not_before)
