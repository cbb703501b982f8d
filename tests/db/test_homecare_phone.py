"""The aide's phone (issue 18): her feed holds only her own visits of today and the next
2 days with their households, and a visit taken from her is deleted from it."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time

from sqlalchemy import func, select

from core import clock, organisations, sync
from core.accounts import Team
from core.roles import Role
from homecare import access, live
from homecare.calendar import local_moment
from homecare.models import ProofRule, VisitReport
from notifications import services as notify
from notifications.models import Message
from tests.db.homecare_phone_world import (
    MONDAY,
    NOW,
    VISIT_OPS_NOW,
    _assign,
    _at,
    _full_report,
    _op,
    mine,
    people,
    team,
    visits,
)
from tests.support import staff_member

__all__ = ["mine", "people", "team", "visits"]  # the fixtures, from homecare_phone_world


def test_an_aide_gets_only_her_own_visits_in_her_window(db, people, visits):
    coord, a, b = people["coord"], people["a"], people["b"]
    with clock.frozen(NOW):
        _assign(db, visits["one-2026-11-30"], a, coord)  # today
        _assign(db, visits["one-2026-12-02"], a, coord)  # in 2 days
        _assign(db, visits["one-2026-12-03"], a, coord)  # in 3 days: outside
        _assign(db, visits["two-2026-11-30"], b, coord)
        page = sync.read_changes(db, a, None)
    assert page.reset
    mine = {(change.type, change.id) for change in page.changes}
    assert mine == {
        ("homecare.visit", str(visits["one-2026-11-30"].id)),
        ("homecare.visit", str(visits["one-2026-12-02"].id)),
        ("homecare.household", str(visits["one-2026-11-30"].beneficiary_id)),
    }
    household = next(c.record for c in page.changes if c.type == "homecare.household")
    assert household and household["name"] == "Madame Une"
    visit = next(c.record for c in page.changes if c.type == "homecare.visit")
    assert visit and visit["tasks"] == ["Toilette"]
    # Nobody else of the team downloads visits: not the coordinator, not an unplanned aide.
    seen = sync.read_changes(db, coord, None).changes
    assert [c for c in seen if c.type.startswith("homecare")] == []


def test_the_second_aide_of_a_transfer_gets_the_visit_and_reads_the_household(db, people, visits):
    coord, a, b = people["coord"], people["a"], people["b"]
    visit = visits["one-2026-11-30"]
    with clock.frozen(NOW):
        _assign(db, visit, a, coord)
        visit.aides, visit.second_aide_id = 2, b.id
        sync.stamp(db, visit, sync.team_scope(visit.team_id), coord, None)
        db.commit()
        hers = {(c.type, c.id) for c in sync.read_changes(db, b, None).changes}
        assert ("homecare.visit", str(visit.id)) in hers
        assert ("homecare.household", str(visit.beneficiary_id)) in hers
        assert access.planned_for(db, b, visit.beneficiary_id)


def test_a_night_visit_stays_until_it_ends(db, people, visits):
    coord, a = people["coord"], people["a"]
    visit = visits["one-2026-11-30"]  # placed at 23:00 the day before today's window
    with clock.frozen(NOW):
        visit.aide_id = a.id
        visit.planned_start = local_moment(date(2026, 11, 29), time(23))
        visit.duration_minutes = 600  # 23:00-09:00: ends this morning
        sync.stamp(db, visit, sync.team_scope(visit.team_id), coord, None)
        db.commit()
        ids = {c.id for c in sync.read_changes(db, a, None).changes}
    assert str(visit.id) in ids


def test_a_reassigned_or_cancelled_visit_is_deleted_from_her_feed(db, people, visits):
    coord, a, b = people["coord"], people["a"], people["b"]
    moved, cancelled = visits["one-2026-11-30"], visits["two-2026-12-01"]
    with clock.frozen(NOW):
        _assign(db, moved, a, coord)
        _assign(db, cancelled, a, coord)
        first = sync.read_changes(db, a, None)
        assert {c.id for c in first.changes} >= {str(moved.id), str(cancelled.id)}
        _assign(db, moved, b, coord)
        cancelled.status = "cancelled"
        sync.stamp(db, cancelled, sync.team_scope(cancelled.team_id), coord, None)
        db.commit()
        later = sync.read_changes(db, a, first.token)
        theirs = sync.read_changes(db, b, None)
    assert not later.reset
    gone = {c.id: c.record for c in later.changes if c.type == "homecare.visit"}
    assert gone == {str(moved.id): None, str(cancelled.id): None}
    assert str(moved.id) in {c.id for c in theirs.changes if c.record is not None}
    # The next day the phone starts afresh: nothing of yesterday's deletions.
    with clock.frozen(datetime(2026, 12, 1, 7, tzinfo=UTC)):
        fresh = sync.read_changes(db, a, later.token)
    assert fresh.reset
    assert all(c.record is not None for c in fresh.changes)


# --- Ops from the phone --------------------------------------------------------------------


def test_check_in_out_and_report_apply_once_and_mark_the_visit_done(db, people, mine):
    a = people["a"]
    report_id = str(uuid.uuid4())
    ops = [
        _op("checkin", {"id": report_id, "visit_id": str(mine.id), "at": _at(9, 5)}),
        _op("checkout", {"id": report_id, "visit_id": str(mine.id), "at": _at(11, 10)}),
        _op("report", _full_report(mine, report_id)),
    ]
    with clock.frozen(VISIT_OPS_NOW):
        first = sync.apply_batch(db, a, ops)
        again = sync.apply_batch(db, a, ops)  # the phone never heard the answers
    assert [answer["status"] for answer in first] == ["applied"] * 3
    assert [answer["status"] for answer in again] == ["duplicate"] * 3
    assert first[-1]["record"]["verified"] is True
    assert db.scalar(select(func.count()).select_from(VisitReport)) == 1
    db.refresh(mine)
    assert mine.status == "done"
    assert clock.as_utc(mine.actual_start) == local_moment(MONDAY, time(9, 5))
    assert clock.as_utc(mine.actual_end) == local_moment(MONDAY, time(11, 10))


def test_an_op_on_an_unknown_or_another_teams_visit_is_refused_as_unknown(db, people, mine):
    b = people["b"]
    other = Team(
        code="hc-phone-other",
        name="SAF autre",
        kind="home_care",
        city="Bruxelles",
        cpas_id=organisations.get_cpas(db, "bruxelles").id,
    )
    db.add(other)
    db.flush()
    outsider = staff_member(db, "phone-aide-other", Role.AIDE, other.code)
    db.commit()
    with clock.frozen(VISIT_OPS_NOW):
        foreign = sync.apply_batch(
            db, outsider, [_op("report", _full_report(mine, str(uuid.uuid4())))]
        )[0]
        unknown = sync.apply_batch(
            db,
            b,
            [
                _op(
                    "checkin",
                    {"id": str(uuid.uuid4()), "visit_id": str(uuid.uuid4()), "at": _at(9)},
                )
            ],
        )[0]
        coordinator = sync.apply_batch(
            db, people["coord"], [_op("report", _full_report(mine, str(uuid.uuid4())))]
        )[0]
    assert foreign["status"] == unknown["status"] == "rejected"
    assert foreign["errors"] == unknown["errors"] == {"visit_id": {"code": "unknown_visit"}}
    assert coordinator["errors"] == {"type": {"code": "not_allowed"}}
    assert db.scalar(select(func.count()).select_from(VisitReport)) == 0
    db.refresh(mine)
    assert mine.status == "planned"


def test_a_visit_reassigned_while_she_was_offline_keeps_her_report_for_review(db, people, mine):
    """Issue 18: her phone drops the visit at the next sync, and the report she made
    meanwhile is kept and shown to the coordinator, not lost."""
    coord, a, b = people["coord"], people["a"], people["b"]
    with clock.frozen(NOW):
        first = sync.read_changes(db, a, None)  # her phone's download, then offline
        _assign(db, mine, b, coord)  # the coordinator gives it to b meanwhile
    report_id = str(uuid.uuid4())
    ops = [
        _op("checkin", {"id": report_id, "visit_id": str(mine.id), "at": _at(9, 5)}),
        _op("checkout", {"id": report_id, "visit_id": str(mine.id), "at": _at(11, 10)}),
        _op("report", _full_report(mine, report_id)),
    ]
    with clock.frozen(VISIT_OPS_NOW):
        answers = sync.apply_batch(db, a, ops)
        later = sync.read_changes(db, a, first.token)
        queue = live.review_queue(db, coord)
        day = live.live_day(db, coord)
    assert [answer["status"] for answer in answers] == ["applied"] * 3
    record = answers[-1]["record"]
    assert record["verified"] is False and record["unverified_reason"] == "not_hers"
    db.refresh(mine)
    assert mine.status == "planned" and mine.aide_id == b.id  # not done: b's visit
    gone = {(c.type, c.id): c.record for c in later.changes}
    assert gone[("homecare.visit", str(mine.id))] is None
    assert [item.report.id for item in queue] == [uuid.UUID(report_id)]
    assert queue[0].aide == "phone-aide-a"
    shown = next(item for item in day.visits if item.visit.id == mine.id)
    assert shown.state == "unverified"
    assert [report.id for report in shown.reports] == [uuid.UUID(report_id)]


def test_a_household_none_of_her_visits_remain_at_is_deleted_from_her_feed(db, people, visits):
    coord, a, b = people["coord"], people["a"], people["b"]
    moved, kept = visits["one-2026-11-30"], visits["two-2026-11-30"]
    twice = visits["two-2026-12-01"]  # a second visit at the household "two"
    with clock.frozen(NOW):
        for visit in (moved, kept, twice):
            _assign(db, visit, a, coord)
        first = sync.read_changes(db, a, None)
        households = {c.id for c in first.changes if c.type == "homecare.household"}
        assert households == {str(moved.beneficiary_id), str(kept.beneficiary_id)}
        _assign(db, moved, b, coord)  # none of hers left at "one"
        _assign(db, twice, b, coord)  # one left at "two"
        later = sync.read_changes(db, a, first.token)
        theirs = sync.read_changes(db, b, first.token)
    gone = {c.id: c.record for c in later.changes if c.type == "homecare.household"}
    assert gone == {str(moved.beneficiary_id): None}
    # b gets both households, with their records.
    assert {c.id for c in theirs.changes if c.type == "homecare.household" and c.record} == {
        str(moved.beneficiary_id),
        str(kept.beneficiary_id),
    }


def test_a_failed_gps_proof_keeps_the_report_unverified_with_its_reason(db, people, mine, team):
    a = people["a"]
    db.add(ProofRule(team_id=team.id, service="family_aide", mode="gps", radius_m=150))
    db.commit()
    home = {"latitude": 50.868, "longitude": 4.376}
    far = {"latitude": 50.85, "longitude": 4.35}  # about 2.7 km away
    cases = {
        "no_fix": {},
        "outside_radius": {
            "arrival_latitude": far["latitude"],
            "arrival_longitude": far["longitude"],
            "departure_latitude": home["latitude"],
            "departure_longitude": home["longitude"],
        },
        None: {
            "arrival_latitude": home["latitude"] + 0.0005,
            "arrival_longitude": home["longitude"],
            "departure_latitude": home["latitude"],
            "departure_longitude": home["longitude"],
        },
    }
    answers = {}
    with clock.frozen(VISIT_OPS_NOW):
        for reason, fixes in cases.items():
            report = _full_report(mine, str(uuid.uuid4()), unverified_reason="no_signal", **fixes)
            answers[reason] = sync.apply_batch(db, a, [_op("report", report)])[0]
            if reason is not None:
                db.refresh(mine)
                assert mine.status == "planned", reason  # not counted until reviewed
    for reason, answer in answers.items():
        assert answer["status"] == "applied"
        assert answer["record"]["unverified_reason"] == reason
        assert answer["record"]["verified"] is (reason is None)
    assert db.scalar(select(func.count()).select_from(VisitReport)) == 3  # none lost
    db.refresh(mine)
    assert mine.status == "done"


def test_nobody_answered_alerts_the_coordinator_once(db, people, mine):
    a, coord = people["a"], people["coord"]
    notify.create_contact(
        db,
        actor=None,
        display_name="Coord",
        language="fr",
        phones=["0470 12 34 56"],
        user_id=coord.id,
    )
    db.commit()
    report_id = str(uuid.uuid4())
    with clock.frozen(VISIT_OPS_NOW):
        sync.apply_batch(db, a, [_op("report", _full_report(mine, report_id, "nobody_answered"))])
        # The same report sent again (a new op: the aide corrected her note).
        data = {**_full_report(mine, report_id, "nobody_answered"), "note": "Volets fermés"}
        sync.apply_batch(db, a, [_op("report", data)])
    key = f"homecare:alert:{mine.id}:nobody_answered"
    assert db.scalar(select(func.count()).select_from(Message).where(Message.key == key)) == 1
    db.refresh(mine)
    assert mine.status == "planned"  # nobody answered: not a visit done
