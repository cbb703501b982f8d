"""Two generations of one week at the same moment: one visit per plan and day, no error."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier

from sqlalchemy import func, select

from core import clock
from core.accounts import Team
from core.db import make_engine, make_session_factory
from homecare import generation
from homecare.calendar import monday_of
from homecare.models import Visit
from tests.support import migrated_database


def test_concurrent_generations_of_one_week_make_each_visit_once():
    from core import demo as core_demo
    from homecare import demo as homecare_demo

    with migrated_database("homecare") as url:
        engine = make_engine(url) if url.startswith("sqlite") else make_engine(url, pool_size=4)
        sessions = make_session_factory(engine)
        with sessions() as session:
            core_demo.seed(session)
            session.flush()
            homecare_demo.seed(session)
            team_id = session.scalar(select(Team.id).where(Team.code == "bxl-saf"))
            session.commit()
        # The demo generated the current week (and the next when tomorrow is in it: the
        # ill aide), so two weeks on is new to both runs.
        week = monday_of(clock.to_local(clock.now()).date()) + timedelta(days=14)
        barrier = Barrier(2)

        def run(_: int) -> generation.Generated:
            with sessions() as session:
                barrier.wait()
                result = generation.generate_week(session, team_id, week)
                session.commit()
                return result

        with ThreadPoolExecutor(max_workers=2) as pool:
            first, second = sorted(pool.map(run, range(2)), key=lambda r: -r.created)
        with sessions() as session:
            count = session.scalar(
                select(func.count())
                .select_from(Visit)
                .where(Visit.team_id == team_id, Visit.scheduled_on >= week)
            )
        engine.dispose()
    assert first.created == count > 0
    assert (second.created, second.updated, second.unchanged) == (0, 0, count)
