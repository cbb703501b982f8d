"""A dated round followed live (issue 19): the crew's taps as sync ops (exactly once,
offline batches), ETAs from progress, the lateness and cancellation SMS to a public
stop's subscribers (once per change, none to the opted-out, none in quiet hours, none
once the delay is resolved), and another team's crew refused alike."""

from __future__ import annotations

import uuid
from datetime import time, timedelta

import pytest
from sqlalchemy import func, select

from core import accounts, clock, sync
from core.errors import Invalid
from notifications import services as notify
from notifications.models import Message
from notifications.outbox import CategoryRules, in_quiet_hours, save_category_rules
from rounds import live, live_sync, services
from rounds.live_models import RoundReport, StopNotice, StopReport
from rounds.models import MealOrder, Round, RoundStop
from tests.db.rounds_live_world import DAY, _minibus_day, _op, _subscribe, _tap, at, coord, crew
from tests.db.rounds_world import order_data, vehicle_data
from tests.support import staff_member

__all__ = ["coord", "crew"]  # the fixtures, from tests/db/rounds_live_world.py


def _late_messages(db) -> list[Message]:
    return list(
        db.scalars(select(Message).where(Message.key.like("rounds:late:%")).order_by(Message.id))
    )


def test_a_25_minute_delay_tells_each_subscriber_of_the_stops_to_come_once(db, coord, crew):
    with clock.frozen(at(7)):
        dated, stops = _minibus_day(db, coord)
        place = [stop.stop_id for stop in stops]
        first = _subscribe(db, coord, place[1], "0470 11 22 01")
        nl = _subscribe(db, coord, place[2], "0470 11 22 02", language="nl")
        _subscribe(db, coord, place[1], "0470 11 22 03", consent=False)  # opted out
        _subscribe(db, coord, place[1], "0470 11 22 04", unconfirmed=True)
        _subscribe(db, coord, place[2], "0470 11 22 05", stopped=True)
        _subscribe(db, coord, place[0], "0470 11 22 06")  # a stop already behind
    start = {"id": str(uuid.uuid4()), "round_id": str(dated.id), "km_start": 1000}
    assert _tap(db, crew, "rounds.round.start", at(8, 55), **start)["status"] == "applied"
    stop1 = {"id": str(uuid.uuid4()), "round_stop_id": str(stops[0].id)}
    _tap(db, crew, "rounds.stop.arrive", at(9), **stop1)
    assert _late_messages(db) == []
    answer = _tap(db, crew, "rounds.stop.leave", at(10, 55), **stop1, outcome="seen")
    assert answer["status"] == "applied", answer
    # 25 minutes late leaving stop 1: stops 2 and 3 are 25 minutes late.
    with clock.frozen(at(10, 55)):
        lines = live.progress(db, db.get(Round, dated.id), clock.now())
        assert [line.delay_minutes for line in lines] == [0, 25, 25]
        assert lines[1].eta == at(11, 25)
        status = live.live_status(db, stops[2].id, clock.now())
        assert status is not None and status.eta == at(13, 55)
    messages = _late_messages(db)
    assert sorted(message.contact_id for message in messages) == sorted([first, nl])
    by_contact = {message.contact_id: message for message in messages}
    assert by_contact[first].body == "CPAS: le minibus aura 25 min de retard à Monceau église."
    assert "25 min later aan Goutroux place" in by_contact[nl].body
    rules = notify.category_rules(db, "service_change")
    assert not any(in_quiet_hours(rules, message.not_before) for message in messages)
    # Asked again (the job, a second tap): nothing more.
    for minute in (56, 57):
        with clock.frozen(at(10, minute)):
            assert live.announce_due(db, clock.now()) == 0
            db.commit()
    assert len(_late_messages(db)) == 2
    # Stop 2 reached 25 minutes late, left on time: stop 3 is no longer late.
    stop2 = {"id": str(uuid.uuid4()), "round_stop_id": str(stops[1].id)}
    _tap(db, crew, "rounds.stop.arrive", at(11, 25), **stop2)
    _tap(db, crew, "rounds.stop.leave", at(12, 30), **stop2, outcome="seen", people_seen=7)
    with clock.frozen(at(12, 31)):
        assert live.live_status(db, stops[2].id, clock.now()).delay_minutes == 0
        assert live.announce_due(db, clock.now()) == 0
        notice = db.scalar(select(StopNotice).where(StopNotice.round_stop_id == stops[2].id))
        # What still waited for stop 3 is dropped by the dispatcher (no longer true).
        assert not live.notice_is_current(db, str(notice.id))
    assert len(_late_messages(db)) == 2
    assert db.scalar(select(func.count()).select_from(StopNotice)) == 2


def test_a_delay_noticed_in_quiet_hours_leaves_after_them_or_expires(db, coord, crew):
    with clock.frozen(at(7)):
        _dated, stops = _minibus_day(db, coord)
        _subscribe(db, coord, stops[1].stop_id, "0470 11 22 11")
        _subscribe(db, coord, stops[2].stop_id, "0470 11 22 12")
        save_category_rules(
            db, CategoryRules("service_change", 10 * 60, 12 * 60, True, 24), actor=coord
        )
        db.commit()
    stop1 = {"id": str(uuid.uuid4()), "round_stop_id": str(stops[0].id)}
    _tap(db, crew, "rounds.stop.arrive", at(9), **stop1)
    _tap(db, crew, "rounds.stop.leave", at(10, 55), **stop1, outcome="seen")
    messages = _late_messages(db)
    assert len(messages) == 2
    rules = notify.category_rules(db, "service_change")
    for message in messages:
        assert not in_quiet_hours(rules, message.not_before)
        assert message.not_before >= at(12)
    # Stop 2's minibus is there at 11:25, before the quiet hours end: it never leaves.
    stop2_message = min(messages, key=lambda message: message.valid_until)
    assert stop2_message.valid_until <= stop2_message.not_before


def test_a_cancelled_stop_is_told_once_and_a_holiday_is_not(db, coord):
    with clock.frozen(at(7)):
        _dated, stops = _minibus_day(db, coord)
        contact = _subscribe(db, coord, stops[1].stop_id, "0470 11 22 21")
        services.skip_stop(db, coord, stops[1].id, {"reason": "Travaux sur la place"})
        db.commit()
        assert live.announce_due(db, clock.now()) == 1
        assert live.announce_due(db, clock.now()) == 0
        db.commit()
        sent = db.scalars(select(Message).where(Message.key.like("rounds:cancelled:%"))).all()
        assert [message.contact_id for message in sent] == [contact]
        assert "ne passera pas à Monceau église" in sent[0].body


def test_a_meal_round_done_offline_syncs_once(db, coord, crew):
    team_id = coord.team_id
    with clock.frozen(at(7)):
        van = services.create_vehicle(db, coord, team_id, vehicle_data(kind="van"))
        dated = services.create_round(
            db,
            coord,
            team_id,
            {
                "vehicle_id": str(van.id),
                "day": DAY.isoformat(),
                "kind": "meals",
                "name": "Repas mardi",
                "starts": "10:00",
                "ends": "12:30",
            },
        )
        for position in range(1, 11):
            order = services.create_meal_order(
                db, coord, team_id, order_data(position, day=DAY.isoformat())
            )
            db.add(
                RoundStop(
                    id=uuid.uuid4(),
                    team_id=team_id,
                    round_id=dated.id,
                    position=position,
                    kind="household",
                    meal_order_id=order.id,
                    planned_arrival=time(10, 3 * position),
                    planned_departure=time(10, 3 * position + 2),
                    status="planned",
                    outcome="",
                    reason="",
                    version=1,
                    changed_at=clock.now(),
                    updated_at=clock.now(),
                )
            )
        db.commit()
        stops = services.round_stops(db, dated.id)
    assert len(stops) == 10
    ops: list[dict] = []

    def add(name: str, minute: int, **data) -> None:
        when = at(10, minute).isoformat()
        ops.append(
            {"id": str(uuid.uuid4()), "type": name, "client_at": when, "data": {"at": when, **data}}
        )

    report = str(live.report_id_for("round", dated.id))
    add("rounds.round.start", 0, id=report, round_id=str(dated.id), km_start=52000)
    for index, stop in enumerate(stops):
        stop_report = str(live.report_id_for("stop", stop.id))
        outcome = "nobody_home" if index == 4 else "delivered"
        add("rounds.stop.arrive", 2 + 3 * index, id=stop_report, round_stop_id=str(stop.id))
        leave = {"id": stop_report, "round_stop_id": str(stop.id), "outcome": outcome}
        add("rounds.stop.leave", 4 + 3 * index, **leave)
    add("rounds.round.finish", 40, id=report, round_id=str(dated.id), km_end=52031)
    with clock.frozen(at(13)):
        first = sync.apply_batch(db, crew, ops)
        again = sync.apply_batch(db, crew, ops)  # the phone did not hear the answer
    assert [answer["status"] for answer in first] == ["applied"] * 22
    assert [answer["status"] for answer in again] == ["duplicate"] * 22
    reports = db.scalars(select(StopReport).where(StopReport.round_id == dated.id)).all()
    assert len(reports) == 10
    assert sorted(report.outcome for report in reports).count("nobody_home") == 1
    db.refresh(dated)
    assert (dated.status, dated.km_start, dated.km_end) == ("finished", 52000, 52031)
    assert db.scalar(select(func.count()).select_from(RoundReport)) >= 1
    done = services.round_stops(db, dated.id)
    assert {stop.status for stop in done} == {"left"}
    assert db.scalar(select(func.count()).where(MealOrder.team_id == team_id)) >= 10


def test_the_feed_holds_the_team_s_rounds_of_today_and_tomorrow(db, coord, crew):
    with clock.frozen(at(7)):
        dated, _stops = _minibus_day(db, coord)
        changes = live_sync.round_changes(db, crew, 0, 500)
        mine = [change for change in changes if change.id == str(dated.id)]
        assert len(mine) == 1 and mine[0].record is not None
        assert [stop["name"] for stop in mine[0].record["stops"]] == [
            "Marchienne gare",
            "Monceau église",
            "Goutroux place",
        ]
        since = sync.current_seq(db, sync.team_scope(coord.team_id))
        services.cancel_round(db, coord, dated.id, {"reason": "Minibus en panne"})
        db.commit()
        later = live_sync.round_changes(db, crew, since, 500)
        assert [(change.id, change.record) for change in later] == [(str(dated.id), None)]
    with clock.frozen(at(7, day=DAY + timedelta(days=2))):
        assert live_sync.round_changes(db, crew, 0, 500) == [] or all(
            change.id != str(dated.id) for change in live_sync.round_changes(db, crew, 0, 500)
        )


def test_another_team_s_crew_neither_sees_nor_changes_the_rounds(db, coord, crew):
    with clock.frozen(at(7)):
        dated, stops = _minibus_day(db, coord)
        other_cpas = db.scalar(
            select(accounts.Team).where(accounts.Team.cpas_id != coord.team.cpas_id).limit(1)
        )
        team = accounts.create_team(
            db,
            code="namur-mobile",
            name="Mobile ailleurs",
            kind="mobile",
            cpas_code=other_cpas.cpas.code,
            city="Ailleurs",
        )
        outsider = staff_member(db, "crew-elsewhere", "crew", team.code, "Crew ailleurs")
        assert all(
            change.id != str(dated.id) for change in live_sync.round_changes(db, outsider, 0, 500)
        )
        assert live.crew_day(db, outsider, clock.now()) == []
        assert live.followed_day(db, outsider, DAY, clock.now()) == []  # its own team's
        with pytest.raises(Invalid):
            live.followed_day(db, accounts.find_user(db, "aide1"), DAY, clock.now())
    for user in (outsider, coord, accounts.find_user(db, "aide1")):
        start = {"id": str(uuid.uuid4()), "round_id": str(dated.id)}
        answer = _tap(db, user, "rounds.round.start", at(9), **start)
        assert answer["status"] == "rejected", answer
        arrive = {"id": str(uuid.uuid4()), "round_stop_id": str(stops[0].id)}
        answer = _tap(db, user, "rounds.stop.arrive", at(9), **arrive)
        assert answer["status"] == "rejected", answer
    foreign = _tap(
        db,
        outsider,
        "rounds.round.start",
        at(9),
        id=str(uuid.uuid4()),
        round_id=str(dated.id),
    )
    unknown = _tap(
        db,
        outsider,
        "rounds.round.start",
        at(9),
        id=str(uuid.uuid4()),
        round_id=str(uuid.uuid4()),
    )
    assert foreign["errors"] == unknown["errors"]
    db.refresh(dated)
    assert dated.status == "planned"


def test_bad_input_is_refused_with_its_field_and_changes_nothing(db, coord, crew):
    with clock.frozen(at(7)):
        dated, stops = _minibus_day(db, coord)
    report = str(uuid.uuid4())
    start = {"id": report, "round_id": str(dated.id), "km_start": 5000}
    assert _tap(db, crew, "rounds.round.start", at(9), **start)["status"] == "applied"
    finish = {"id": report, "round_id": str(dated.id), "km_end": 4000}
    answer = _tap(db, crew, "rounds.round.finish", at(15), **finish)
    assert answer["status"] == "rejected" and "km_end" in answer["errors"]
    leave = {"id": str(uuid.uuid4()), "round_stop_id": str(stops[0].id), "outcome": "lunch"}
    answer = _tap(db, crew, "rounds.stop.leave", at(10), **leave)
    assert answer["status"] == "rejected" and "outcome" in answer["errors"]
    with clock.frozen(at(9)):
        answer = _op(db, crew, "rounds.stop.arrive", {"id": "x", "round_stop_id": str(stops[0].id)})
    assert answer["status"] == "rejected" and {"id", "at"} <= set(answer["errors"])
    db.refresh(dated)
    assert dated.status == "started" and dated.km_end is None


def test_the_late_setting_is_the_coordinator_s(db, coord, crew):
    assert live.late_minutes(db, coord.team_id) == 15
    live.set_late_minutes(db, coord, {"late_minutes": "20"})
    assert live.late_minutes(db, coord.team_id) == 20
    with pytest.raises(Invalid):
        live.set_late_minutes(db, coord, {"late_minutes": "2"})
    with pytest.raises(Invalid):
        live.set_late_minutes(db, crew, {"late_minutes": "30"})


def test_the_demo_example_round_is_there(db):
    assert db.get(Round, live.EXAMPLE_ROUND_ID) is not None
    assert db.get(RoundStop, live.EXAMPLE_STOP_ID) is not None


def test_two_schedulers_seeing_one_delay_send_one_sms():
    """Two processes run the lateness job at the same moment: the notice's unique key
    lets one through; each subscriber gets one SMS (on both databases)."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from core import demo as core_demo
    from core.db import make_engine, make_session_factory
    from rounds import demo as rounds_demo
    from tests.support import migrated_database

    with migrated_database("rounds_live") as url, clock.frozen(at(7)):
        engine = make_engine(url) if url.startswith("sqlite") else make_engine(url, pool_size=4)
        sessions = make_session_factory(engine)
        with sessions() as session:
            core_demo.seed(session)
            session.flush()
            rounds_demo.seed(session)
            session.commit()
            coord = accounts.find_user(session, "mobile-coord")
            dated, stops = _minibus_day(session, coord)
            _subscribe(session, coord, stops[1].stop_id, "0470 11 22 31")
            _subscribe(session, coord, stops[2].stop_id, "0470 11 22 32")
            # The crew left stop 1 at 10:55 (the op's own announce is not run here).
            first = session.get(RoundStop, stops[0].id)
            first.status, first.arrived_at, first.left_at = "left", at(9), at(10, 55)
            session.get(Round, dated.id).status = "started"
            session.commit()
        barrier = Barrier(2)

        def run(_i: int) -> int:
            with sessions() as session:
                barrier.wait()
                sent = live.announce_due(session, at(10, 56))
                session.commit()
                return sent

        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(run, range(2)))
        with sessions() as session:
            keys = session.scalars(
                select(Message.key).where(Message.key.like("rounds:late:%"))
            ).all()
            notices = session.scalar(select(func.count()).select_from(StopNotice))
        engine.dispose()
    assert sorted(results) == [0, 2] and notices == 2
    assert len(keys) == len(set(keys)) == 2
