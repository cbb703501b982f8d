"""Prepared statements kept across ROLLBACK on PostgreSQL (core/prepared.py, issue 20):
a hot statement stays prepared after read-only requests and refused bookings roll back,
and what may not exist any more after a rollback is never used again.

PostgreSQL only, on a database of its own (psycopg's prepared statements; SQLite has
none). Each test reads `pg_prepared_statements`, the server's own list.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from core import prepared
from core.db import make_engine
from tests.live.support import POSTGRES_ONLY
from tests.support import fresh_database

pytestmark = POSTGRES_ONLY

READ = text("SELECT v FROM kept WHERE id = :id")


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    with fresh_database("prepared") as url:
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE kept (id int PRIMARY KEY, v int)"))
            connection.execute(text("INSERT INTO kept VALUES (1, 10), (2, 20)"))
        # That connection ran a CREATE: it would forget everything at its next rollback.
        engine.dispose()
        try:
            yield engine
        finally:
            engine.dispose()


def _prepared_runs(connection, fragment: str) -> list[int]:
    """How many times each prepared statement containing `fragment` ran, per the server."""
    rows = connection.execute(
        text(
            "SELECT generic_plans + custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE :fragment"
        ),
        {"fragment": f"%{fragment}%"},
    )
    return [row[0] for row in rows]


def test_the_engine_gives_each_connection_the_rollback_keeping_manager(engine) -> None:
    assert psycopg.__version__.startswith(prepared.TESTED_PSYCOPG)
    with engine.connect() as connection:
        manager = connection.connection.driver_connection._prepared
        assert isinstance(manager, prepared.RollbackKeepingPrepareManager)
        assert manager.prepare_threshold == 5


def test_a_sqlite_engine_is_left_alone(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        assert not hasattr(connection.connection.driver_connection, "_prepared")
    engine.dispose()


def test_a_statement_stays_prepared_across_rollbacks_and_savepoints(engine) -> None:
    with engine.connect() as connection:
        for transaction in range(10):
            if transaction % 2:
                nested = connection.begin_nested()
                for _ in range(6):
                    assert connection.execute(READ, {"id": 1}).scalar_one() == 10
                nested.rollback()
            else:
                for _ in range(6):
                    assert connection.execute(READ, {"id": 2}).scalar_one() == 20
            connection.rollback()
        # Prepared at its 5th run, then every later run used it: 60 - 5 = 55 (psycopg's
        # own manager would have deallocated it at each rollback: none listed).
        assert _prepared_runs(connection, "FROM kept WHERE id") == [55]
        connection.rollback()


def test_what_a_rolled_back_transaction_created_is_forgotten(engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("CREATE TABLE made_then_undone (v int)"))
        connection.execute(text("INSERT INTO made_then_undone VALUES (1)"))
        for _ in range(6):
            assert connection.execute(text("SELECT v FROM made_then_undone")).scalar() == 1
        assert _prepared_runs(connection, "FROM made_then_undone") == [1]
        connection.rollback()
        assert _prepared_runs(connection, "FROM made_then_undone") == []

        # Made again with another type: a statement kept from before would fail
        # ("cached plan must not change result type").
        connection.execute(text("CREATE TABLE made_then_undone (v text)"))
        connection.execute(text("INSERT INTO made_then_undone VALUES ('one')"))
        assert connection.execute(text("SELECT v FROM made_then_undone")).scalar() == "one"
        connection.rollback()


def test_after_a_failed_pipeline_every_statement_still_runs(engine) -> None:
    """A pipeline whose first statement fails skips the rest, including the PREPARE of a
    statement run 5 times before (psycopg does not check that one's result): it must not
    be used after the rollback. psycopg's executemany is a pipeline too."""
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        insert = "INSERT INTO kept (id, v) VALUES (%s, %s)"
        for n in range(5):
            raw.execute(insert, (100 + n, n))
        raw.rollback()
        with pytest.raises(psycopg.errors.UniqueViolation), raw.pipeline():
            raw.execute("INSERT INTO kept (id, v) VALUES (1, 0)")
            raw.execute(insert, (110, 0))  # its 6th run: PREPARE queued, never run
        raw.rollback()
        raw.execute(insert, (120, 0))
        assert raw.execute("SELECT count(*) FROM kept").fetchone() == (3,)
        raw.rollback()

        rows = [(200 + n, n) for n in range(3)] + [(1, 0)] + [(300 + n, n) for n in range(9)]
        with pytest.raises(psycopg.errors.UniqueViolation):
            raw.cursor().executemany(insert, rows)
        raw.rollback()
        for attempt in range(3):
            raw.cursor().executemany(insert, [(400 + 20 * attempt + n, n) for n in range(12)])
            raw.rollback()
        raw.cursor().executemany(insert, [(500 + n, n) for n in range(12)])
        assert raw.execute("SELECT count(*) FROM kept").fetchone() == (14,)
        raw.rollback()


def test_a_migration_from_another_connection_while_statements_are_kept(engine) -> None:
    """A column added (and an index made) by another connection, as a migration does
    while the application runs: the kept statement is planned again by the server."""
    with engine.connect() as connection:
        for _ in range(3):
            for _ in range(6):
                connection.execute(READ, {"id": 1}).scalar_one()
            connection.rollback()
        with engine.begin() as migration:
            migration.execute(text("ALTER TABLE kept ADD COLUMN w int DEFAULT 7"))
            migration.execute(text("CREATE INDEX ix_kept_v ON kept (v)"))
        assert connection.execute(READ, {"id": 1}).scalar_one() == 10
        assert connection.execute(text("SELECT w FROM kept WHERE id = 1")).scalar_one() == 7
        connection.rollback()


def test_a_drop_on_the_connection_forgets_everything(engine) -> None:
    with engine.connect() as connection:
        for _ in range(6):
            connection.execute(READ, {"id": 1})
        connection.commit()
        assert len(_prepared_runs(connection, "FROM kept WHERE id")) == 1
        connection.execute(text("CREATE TABLE dropped_soon (v int)"))
        connection.execute(text("DROP TABLE dropped_soon"))
        connection.commit()
        assert _prepared_runs(connection, "FROM kept WHERE id") == []
        connection.rollback()


def test_a_column_whose_type_a_migration_changed_fails_once_then_is_read_again(engine) -> None:
    """PostgreSQL refuses to run a prepared statement whose result changed type; the error
    makes the connection forget its statements at the rollback, so the next request reads
    the column as it is now (psycopg's own manager recovers the same way)."""
    with engine.begin() as setup:
        setup.execute(text("CREATE TABLE retyped (id int PRIMARY KEY, n int)"))
        setup.execute(text("INSERT INTO retyped VALUES (1, 7)"))
    engine.dispose()
    read = text("SELECT n FROM retyped WHERE id = 1")
    with engine.connect() as connection:
        for _ in range(6):
            assert connection.execute(read).scalar_one() == 7
        connection.rollback()
        with engine.begin() as migration:
            migration.execute(text("ALTER TABLE retyped ALTER COLUMN n TYPE text"))
        with pytest.raises(DBAPIError, match="cached plan must not change result type"):
            connection.execute(read)
        connection.rollback()
        assert connection.execute(read).scalar_one() == "7"
        connection.rollback()


def test_a_statement_prepared_by_executemany_is_kept_once_on_the_server(engine) -> None:
    """A statement run alone, then by executemany (a pipeline, with or without RETURNING),
    is prepared by the pipeline: kept from then on, the server holds it once however many
    requests follow, not once more after each rollback (they were never deallocated)."""
    with engine.begin() as setup:
        setup.execute(text("CREATE TABLE bumped (id int PRIMARY KEY, v int)"))
        setup.execute(text("INSERT INTO bumped VALUES (1, 0), (2, 0)"))
    engine.dispose()
    bump = text("UPDATE bumped SET v = v + 1 WHERE id = :id")
    bump_returning = "UPDATE bumped SET v = v + %s WHERE id = %s RETURNING v"
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        for _ in range(6):
            connection.execute(bump, {"id": 1})
            connection.execute(bump, [{"id": 1}, {"id": 2}])
            raw.execute(bump_returning, (1, 1))
            raw.cursor().executemany(bump_returning, [(1, 1), (1, 2)], returning=True)
            connection.commit()
            connection.execute(READ, {"id": 1}).scalar_one()
            connection.rollback()
        assert connection.execute(text("SELECT v FROM bumped ORDER BY id")).all() == [
            (24,),
            (12,),
        ]
        assert len(_prepared_runs(connection, "v + 1 WHERE id")) == 1
        assert len(_prepared_runs(connection, "RETURNING v")) == 1
        connection.rollback()


def test_after_a_failed_pipeline_in_autocommit_every_statement_still_runs(engine) -> None:
    """In autocommit no ROLLBACK ever comes to forget the statement whose PREPARE a failed
    pipeline skipped: it must be forgotten when psycopg reads its result."""
    select = "SELECT v + 0 FROM kept WHERE id = %s"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        raw = connection.connection.driver_connection
        assert raw.autocommit
        for _ in range(5):
            assert raw.execute(select, (1,)).fetchone() == (10,)
        with pytest.raises(psycopg.errors.DivisionByZero), raw.pipeline():
            raw.execute("SELECT 1 / 0")
            raw.execute(select, (1,))  # its 6th run: PREPARE queued, never run
        for _ in range(6):
            assert raw.execute(select, (1,)).fetchone() == (10,)


@pytest.mark.parametrize(
    "create",
    [
        "CREATE TABLE made_as AS SELECT 1 AS v",
        "SELECT 1 AS v INTO made_as",
        "CREATE MATERIALIZED VIEW made_as AS SELECT 1 AS v",
        "DO $$ BEGIN CREATE TABLE made_as (v int); INSERT INTO made_as VALUES (1); END $$",
    ],
)
def test_what_a_rolled_back_transaction_created_otherwise_is_forgotten(engine, create) -> None:
    """CREATE TABLE AS, SELECT INTO and CREATE MATERIALIZED VIEW answer "SELECT n", a DO
    block "DO": what they made is gone after the rollback too."""
    with engine.connect() as connection:
        connection.execute(text(create))
        for _ in range(6):
            assert connection.execute(text("SELECT v FROM made_as")).scalar() == 1
        connection.rollback()
        assert _prepared_runs(connection, "FROM made_as") == []

        connection.execute(text("CREATE TABLE made_as (v text)"))
        connection.execute(text("INSERT INTO made_as VALUES ('one')"))
        assert connection.execute(text("SELECT v FROM made_as")).scalar() == "one"
        connection.rollback()


def test_a_savepoint_rolled_back_again_forgets_what_it_created(engine) -> None:
    """SQLAlchemy names savepoints afresh for each connection it hands out, so a later
    request sends the same ROLLBACK TO SAVEPOINT again: it is seen every time."""
    engine.dispose()  # one connection, handed out again and again
    with engine.connect() as connection:
        first = connection.connection.driver_connection
        connection.begin_nested().rollback()
        connection.commit()
    with engine.connect() as connection:
        assert connection.connection.driver_connection is first
        connection.execute(READ, {"id": 1})
        nested = connection.begin_nested()  # the same savepoint name as before
        connection.execute(text("CREATE TABLE made_in_savepoint (v int)"))
        connection.execute(text("INSERT INTO made_in_savepoint VALUES (1)"))
        for _ in range(6):
            assert connection.execute(text("SELECT v FROM made_in_savepoint")).scalar() == 1
        nested.rollback()
        assert _prepared_runs(connection, "FROM made_in_savepoint") == []

        nested = connection.begin_nested()
        connection.execute(text("CREATE TABLE made_in_savepoint (v text)"))
        connection.execute(text("INSERT INTO made_in_savepoint VALUES ('one')"))
        assert connection.execute(text("SELECT v FROM made_in_savepoint")).scalar() == "one"
        nested.rollback()
        connection.rollback()


def test_an_error_in_a_savepoint_rolled_back_again_is_healed_at_once(engine) -> None:
    """A kept statement that fails inside a savepoint is prepared afresh after the
    ROLLBACK TO SAVEPOINT, also when that savepoint's name was rolled back before: a
    retry within the same transaction reads the column as it is now."""
    with engine.begin() as setup:
        setup.execute(text("CREATE TABLE retyped_in_savepoint (id int PRIMARY KEY, n int)"))
        setup.execute(text("INSERT INTO retyped_in_savepoint VALUES (1, 7)"))
    engine.dispose()  # one connection, handed out again and again
    read = text("SELECT n FROM retyped_in_savepoint WHERE id = 1")
    with engine.connect() as connection:
        first = connection.connection.driver_connection
        connection.begin_nested().rollback()
        connection.commit()
        for _ in range(6):
            assert connection.execute(read).scalar_one() == 7
        connection.rollback()
        migrations = make_engine(engine.url.render_as_string(hide_password=False))
        with migrations.begin() as migration:
            migration.execute(text("ALTER TABLE retyped_in_savepoint ALTER COLUMN n TYPE text"))
        migrations.dispose()
    with engine.connect() as connection:
        assert connection.connection.driver_connection is first
        connection.execute(READ, {"id": 1})
        nested = connection.begin_nested()  # the same savepoint name as before
        with pytest.raises(DBAPIError, match="cached plan must not change result type"):
            connection.execute(read)
        nested.rollback()
        with connection.begin_nested():
            assert connection.execute(read).scalar_one() == "7"
        connection.rollback()


@pytest.mark.parametrize("meanwhile", ["a savepoint rolled back", "a DROP"])
def test_what_a_transaction_created_is_forgotten_after_forgetting_everything_meanwhile(
    engine, meanwhile
) -> None:
    """A ROLLBACK TO SAVEPOINT or a DROP forgets everything in the middle of a transaction
    that created something before: what is prepared after it, on what was created, is
    still forgotten at the transaction's ROLLBACK."""
    with engine.connect() as connection:
        connection.execute(text("CREATE TABLE made_before (v int)"))
        connection.execute(text("INSERT INTO made_before VALUES (1)"))
        if meanwhile == "a DROP":
            connection.execute(text("CREATE TABLE dropped_meanwhile (v int)"))
            connection.execute(text("DROP TABLE dropped_meanwhile"))
        else:
            connection.begin_nested().rollback()
        for _ in range(6):
            assert connection.execute(text("SELECT v FROM made_before")).scalar() == 1
        connection.rollback()
        assert _prepared_runs(connection, "FROM made_before") == []

        connection.execute(text("CREATE TABLE made_before (v text)"))
        connection.execute(text("INSERT INTO made_before VALUES ('one')"))
        assert connection.execute(text("SELECT v FROM made_before")).scalar() == "one"
        connection.rollback()


def test_a_table_made_in_front_of_what_a_kept_statement_reads_is_read(engine) -> None:
    """A table made earlier in the search_path than the one a kept statement reads (a
    temporary table of the same name, once the connection has its temporary schema)
    hides that one from a fresh statement, but PostgreSQL does not plan a prepared one
    again: a CREATE forgets everything at once, as psycopg's rollback did before."""
    with engine.connect() as connection:
        connection.execute(text("CREATE TEMPORARY TABLE made_first (v int)"))
        connection.commit()
        connection.execute(READ, {"id": 1})
        connection.rollback()
        for _ in range(6):
            assert connection.execute(READ, {"id": 1}).scalar_one() == 10
        connection.rollback()
        assert len(_prepared_runs(connection, "FROM kept WHERE id")) == 1

        connection.execute(text("CREATE TEMPORARY TABLE kept (id int, v int)"))
        connection.execute(text("INSERT INTO kept VALUES (1, 99)"))
        assert connection.execute(READ, {"id": 1}).scalar_one() == 99
        connection.rollback()
        assert connection.execute(READ, {"id": 1}).scalar_one() == 10
        connection.execute(text("DROP TABLE made_first"))
        connection.commit()


@pytest.mark.parametrize(
    "change", ["DROP TABLE pg_temp.kept", "ALTER TABLE pg_temp.kept RENAME TO x"]
)
def test_what_a_rolled_back_drop_or_alter_took_away_is_read_again(engine, change) -> None:
    """A rolled-back DROP or ALTER puts back what it took away: here a temporary table
    hiding the one of the same name, which the statements prepared after it read."""
    with engine.connect() as connection:
        connection.execute(text("CREATE TEMPORARY TABLE kept (id int, v int)"))
        connection.execute(text("INSERT INTO kept VALUES (1, 99)"))
        connection.commit()
        assert connection.execute(READ, {"id": 1}).scalar_one() == 99
        connection.rollback()
        connection.execute(text(change))
        for _ in range(6):
            assert connection.execute(READ, {"id": 1}).scalar_one() == 10
        connection.rollback()
        assert connection.execute(READ, {"id": 1}).scalar_one() == 99
        connection.execute(text("DROP TABLE pg_temp.kept"))
        connection.commit()
