"""Home care demo: one aide ill tomorrow, her visits that day on the board to re-plan,
seeded once."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import func, select

from appointments.models import AgentAbsence
from core import accounts, clock
from homecare import board, demo
from homecare.calendar import local_moment
from homecare.models import Visit


def test_one_aide_is_ill_tomorrow_with_her_visits_to_replan(db):
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
    if tomorrow.weekday() < 5:  # the demo's plans are on weekdays
        assert row.days[tomorrow]
        assert all(v.aide_id == aide.id for v in row.days[tomorrow])


def test_seeding_again_adds_no_illness_and_moves_no_visit(db):
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
