"""Failure counters hold under concurrent attempts (the database does the counting)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from core import throttle
from core.db import make_engine, make_session_factory
from tests.support import migrated_database


def test_concurrent_failures_are_all_counted():

    with migrated_database("throttle") as url:
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


def test_concurrent_codes_never_pass_a_wait_or_the_limit():
    """SMS codes asked at the same instant from one address (core.throttle.pace): only
    the free ones go, the others are told to wait; none is counted twice."""
    from datetime import UTC, datetime

    from core import clock

    policy = throttle.Policy(free_failures=5, first_delay_seconds=15, max_delay_seconds=120)
    with migrated_database("pace") as url, clock.frozen(datetime(2026, 12, 1, 8, tzinfo=UTC)):
        engine = make_engine(url, pool_size=8) if not url.startswith("sqlite") else make_engine(url)
        sessions = make_session_factory(engine)

        def ask(_: int) -> int:
            with sessions() as session:
                paced = throttle.pace(session, "p" * 64, policy, 20, 3600)
                session.commit()
                return paced.wait

        with ThreadPoolExecutor(max_workers=8) as pool:
            waits = list(pool.map(ask, range(24)))
        with sessions() as session:
            uses = session.scalar(select(throttle.ThrottleEntry.failures))
        engine.dispose()
    assert waits.count(0) == 5 and uses == 5
    assert all(wait == 15 for wait in waits if wait)


def test_a_deactivation_during_a_login_ends_the_session_that_login_opens():
    """The login checks `active` under the user's row lock: a deactivation running at the
    same moment waits for it, then ends the session it opened (no session survives to
    come back at reactivation)."""
    import threading

    import pytest

    from core import accounts
    from tests.support import postgres_url

    if postgres_url() is None:
        pytest.skip("PostgreSQL only (SQLite has one writer at a time): set TEST_DATABASE_URL")
    with migrated_database("deactivate") as url:
        engine = make_engine(url, pool_size=4)
        sessions = make_session_factory(engine)
        with sessions() as session:
            admin = accounts.create_user(
                session,
                username="chef",
                display_name="Chef",
                password="x",
                role="admin",
                check_password=False,
            )
            accounts.create_user(
                session,
                username="agent",
                display_name="Agent",
                password="secret-pass-1",
                role="aide",
            )
            session.commit()
            admin_id = admin.id
        login = sessions()
        thread = None
        try:
            result = accounts.authenticate(
                login, username="agent", password="secret-pass-1", address="192.0.2.1", secret="s"
            )
            assert result.user is not None  # the row lock is held until this login commits

            def deactivate() -> None:
                with sessions() as session:
                    user = accounts.find_user(session, "agent")
                    actor = session.get(accounts.User, admin_id)
                    accounts.set_active(session, user, False, actor=actor)
                    session.commit()

            thread = threading.Thread(target=deactivate)
            thread.start()
            thread.join(timeout=1)
            assert thread.is_alive()  # waiting for the login's row lock
            token = accounts.start_login_session(login, result.user)
            user_id = result.user.id
            login.commit()
        finally:
            login.close()  # a failed assertion must not leave the schema locked
            if thread is not None:
                thread.join(timeout=10)
        assert not thread.is_alive()
        with sessions() as session:
            ended = accounts.login_session_end(session, user_id, token)
        engine.dispose()
    assert ended == "deactivated"
