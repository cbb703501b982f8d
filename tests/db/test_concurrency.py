"""Failure counters hold under concurrent attempts (the database does the counting)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from core import throttle
from core.db import make_engine, make_session_factory
from tests.support import fresh_database


def test_concurrent_failures_are_all_counted():
    from core.migrations import upgrade

    with fresh_database("throttle") as url:
        upgrade(url)
        engine = make_engine(url, pool_size=8) if not url.startswith("sqlite") else make_engine(url)
        sessions = make_session_factory(engine)
        policy = throttle.Policy(free_failures=1000)

        def fail(_: int) -> None:
            with sessions() as session:
                throttle.record_failure(session, "k" * 64, policy)
                session.commit()

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(fail, range(40)))
        with sessions() as session:
            failures = session.scalar(select(throttle.ThrottleEntry.failures))
        engine.dispose()
    assert failures == 40
