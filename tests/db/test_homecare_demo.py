"""Home care demo: one aide ill tomorrow, her visits that day on the board to re-plan,
seeded once a day."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from appointments.models import AgentAbsence
from core import accounts, clock, organisations
from homecare import board, demo
from homecare.calendar import local_moment
from homecare.models import Visit


def _seeding_moment() -> datetime:
    """10:00 in Brussels on the first Monday to Thursday at least three days after the
    suite's clock whose next day is no holiday: `terrain seed-demo` run on a day the
    suite's demo was not seeded (the tests seed it then themselves, under that frozen
    clock, so that a suite run across midnight does not move their "tomorrow")."""
    day = clock.to_local(clock.now()).date() + timedelta(days=3)
    while True:
        tomorrow = day + timedelta(days=1)
        closed = {
            h.day for h in organisations.default_holidays("brussels", "bilingual", tomorrow.year)
        }
        if day.weekday() < 4 and tomorrow not in closed:
            return datetime.combine(day, time(10), clock.BRUSSELS)
        day = tomorrow


def test_one_aide_is_ill_tomorrow_with_her_visits_to_replan(db):
    with clock.frozen(_seeding_moment()):
        demo.seed(db)
        db.flush()
        coordinator = accounts.find_user(db, "coordination")
        aide = accounts.find_user(db, demo.ILL_AIDE)
        tomorrow = clock.to_local(clock.now()).date() + timedelta(days=1)
        absences = list(
            db.scalars(
                select(AgentAbsence).where(
                    AgentAbsence.user_id == aide.id,
                    AgentAbsence.starts_at == local_moment(tomorrow, time(0)),
                )
            )
        )
        assert [a.reason for a in absences] == ["illness"]
        week = board.week_board(db, coordinator, tomorrow)
        row = next(r for r in week.rows if r.user_id == aide.id)
        assert tomorrow in row.absent
        assert row.days[tomorrow]  # a weekday: the demo's plans are on weekdays
        assert all(v.aide_id == aide.id for v in row.days[tomorrow])


def test_seeding_again_adds_no_illness_and_moves_no_visit(db):
    with clock.frozen(_seeding_moment()):
        demo.seed(db)
        db.flush()
        aide = accounts.find_user(db, demo.ILL_AIDE)
        count = db.scalar(select(func.count()).where(AgentAbsence.user_id == aide.id))
        versions = dict(
            db.execute(select(Visit.id, Visit.version).where(Visit.aide_id == aide.id)).all()
        )
        assert demo.seed(db)["homecare_ill"] == 0
        db.flush()
        assert db.scalar(select(func.count()).where(AgentAbsence.user_id == aide.id)) == count
        assert dict(
            db.execute(select(Visit.id, Visit.version).where(Visit.aide_id == aide.id)).all()
        ) == (versions)
