"""PostgreSQL's prepared statements kept across ROLLBACK (psycopg 3), so that a hot
statement is parsed and planned once per connection, not once per transaction.

psycopg prepares a statement on its 5th execution on a connection, then forgets every
prepared statement at each ROLLBACK (`ROLLBACK TO SAVEPOINT` included), because a
rolled-back transaction may have dropped or recreated what they name. Terrain rolls back
at the end of every request that only read, at every refused booking and in every test,
so PostgreSQL planned every statement every time (the slot rule: 2.0 ms of planning for
0.95 ms of execution; bench/README.md, "Booking under contention").

A prepared statement outlives a ROLLBACK on the server (PREPARE is not transactional),
so forgetting it is only needed when the rolled-back transaction changed the schema.
`RollbackKeepingPrepareManager` therefore forgets:
- everything at a CREATE, DROP or ALTER, when it runs (psycopg's own rule for DROP and
  ALTER, and for DISCARD ALL and DEALLOCATE ALL, kept): what a CREATE made may hide,
  earlier in the search_path, what a kept statement reads (a temporary table of the
  same name), and PostgreSQL would not plan that statement again. The same for a
  command that answers "SELECT n" (CREATE TABLE AS, SELECT INTO, CREATE MATERIALIZED
  VIEW) and a DO block, which may create anything. Not seen: a CREATE run by a function
  or a procedure, or by another connection (a migration).
- everything at the ROLLBACK of a transaction that ran one of those (what it created is
  gone, what it dropped or altered is back; a DROP or a ROLLBACK TO SAVEPOINT in between
  does not cancel it), or after a statement met a database error since the last
  rollback (`forget_after_error`, an engine "handle_error" event): a kept statement
  that fails, such as "cached plan must not change result type" after a migration
  changed a column's type, is prepared afresh after the rollback, as psycopg's own
  manager would have done. A ROLLBACK TO SAVEPOINT counts, looked at every time it runs
  (psycopg looks at a statement's results only the first time it sees one, and
  SQLAlchemy names its savepoints afresh on each checkout).
- the statements prepared in a pipeline (psycopg's executemany) whose result psycopg
  has not read yet, at ROLLBACK: never used again (not deallocated: psycopg never
  reuses a name). Such a PREPARE is only queued; psycopg checks it through the result
  of the statement's execution that follows it, but only for a statement new to its
  cache: here for every one, so that a PREPARE a failed pipeline never reached is
  forgotten as soon as that result is read (in autocommit too, where no ROLLBACK
  comes), and one that succeeded is kept (not left on the server again at each rollback).
Everything else is psycopg's own manager, unchanged. It is installed on each new
connection by `install` (an engine "connect" event, `core.db.make_engine`) only where
psycopg's internals are the ones this was written and tested against; elsewhere psycopg
keeps its default (correct, slower) behaviour.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

try:  # psycopg is PostgreSQL's driver; SQLite-only installations may not have it.
    from psycopg import pq
    from psycopg._preparing import Key, Prepare, PrepareManager

    IDLE = pq.TransactionStatus.IDLE
except ImportError:  # pragma: no cover - depends on the installation
    PrepareManager = None  # type: ignore[assignment,misc]

# What changes the schema (a command's status, COMMAND_OK): forgotten when it runs, and
# at the ROLLBACK that undoes it. CREATE TABLE AS, SELECT INTO and CREATE MATERIALIZED
# VIEW answer "SELECT n"; a DO block may run anything.
_SCHEMA_CHANGE = re.compile(rb"^(?:CREATE|SELECT|DO|DROP|ALTER)\b").match
# What else psycopg itself forgets everything at (its _should_discard, ROLLBACK aside).
_DEALLOCATION = re.compile(rb"^(?:DISCARD ALL|DEALLOCATE ALL)\b").match
_ROLLBACK = re.compile(rb"^ROLLBACK\b").match
_ROLLBACK_QUERY = re.compile(rb"\s*ROLLBACK\b", re.IGNORECASE).match

if PrepareManager is not None:

    class RollbackKeepingPrepareManager(PrepareManager):
        """psycopg's PrepareManager, keeping its checked statements across ROLLBACK."""

        def __init__(self, connection: Any) -> None:
            super().__init__()
            self._connection = weakref.ref(connection)
            self._unchecked: dict[Key, bytes] = {}
            self._forget_at_rollback = False

        def maybe_add_to_cache(self, query: Any, prep: Prepare, name: bytes) -> Key | None:
            # A key returned makes psycopg call `validate` with the statement's results;
            # it returns one only for a statement new to its cache.
            key = super().maybe_add_to_cache(query, prep, name)
            if self.prepare_threshold is None:
                return key
            # Outside a pipeline the PREPARE has already succeeded (psycopg raises
            # otherwise); in a pipeline it is only queued: checked here through the
            # result of the statement's execution that follows it, whenever it comes.
            if prep is Prepare.SHOULD and getattr(self._connection(), "_pipeline", None):
                key = self.key(query)
                self._unchecked[key] = name
            elif key is None and _ROLLBACK_QUERY(query.query):
                # ROLLBACK TO SAVEPOINT is looked at every time, not only the first.
                key = self.key(query)
            return key

        def validate(self, key: Key, prep: Prepare, name: bytes, results: Sequence[Any]) -> None:
            self._unchecked.pop(key, None)
            super().validate(key, prep, name, results)

        def _should_discard(self, prep: Prepare, results: Sequence[Any]) -> bool:
            # Unlike psycopg's, looks at every result (not only when something is
            # prepared): a CREATE must be seen before anything is prepared on it.
            discarded = False
            for result in results:
                if result.status != pq.ExecStatus.COMMAND_OK:
                    continue
                status = result.command_status or b""
                if _SCHEMA_CHANGE(status):
                    # What it made (or, rolled back, what it took away) may hide, earlier
                    # in the search_path, what a kept statement reads: PostgreSQL would
                    # not plan that one again.
                    discarded = self.forget_all() or discarded
                    self._forget_at_rollback = True
                elif _DEALLOCATION(status):
                    discarded = self.forget_all() or discarded
                elif _ROLLBACK(status):
                    # ROLLBACK [TO SAVEPOINT] sent as a query: as at rollback().
                    return self.clear()
            return discarded

        def clear(self) -> bool:
            """At ROLLBACK: forget only what may not exist any more (see the module)."""
            if self._forget_at_rollback:
                return self.forget_all()
            for key, name in self._unchecked.items():
                if self._names.get(key) == name:
                    del self._names[key]
            self._unchecked.clear()
            return False

        def forget_at_rollback(self) -> None:
            """Forget everything at the next ROLLBACK (a database error was met)."""
            self._forget_at_rollback = True

        def forget_all(self) -> bool:
            """psycopg's own clear: every statement forgotten, DEALLOCATE ALL sent."""
            self._unchecked.clear()
            # Inside a transaction (at a ROLLBACK TO SAVEPOINT, a CREATE, a DROP), what
            # it changed before may be prepared on again: still forgotten at its ROLLBACK.
            connection = self._connection()
            if connection is None or connection.pgconn.transaction_status == IDLE:
                self._forget_at_rollback = False
            return super().clear()


def install(dbapi_connection: Any, _record: Any = None) -> None:
    """Give a new psycopg connection the rollback-keeping manager (an engine "connect"
    event); a connection of another psycopg than 3.3 keeps psycopg's default."""
    if PrepareManager is None or not psycopg_version().startswith(TESTED_PSYCOPG):
        return
    current = getattr(dbapi_connection, "_prepared", None)
    if type(current) is not PrepareManager:
        return
    manager = RollbackKeepingPrepareManager(dbapi_connection)
    manager.prepare_threshold = current.prepare_threshold
    manager.prepared_max = current.prepared_max
    dbapi_connection._prepared = manager


# The psycopg whose _preparing.py this was written against and tested with
# (tests/db/test_prepared.py); pyproject.toml keeps psycopg below 3.4.
TESTED_PSYCOPG = "3.3."


def psycopg_version() -> str:
    import psycopg

    return psycopg.__version__


def forget_after_error(context: Any) -> None:
    """Engine "handle_error" event: a connection that met a database error forgets its
    prepared statements at its next ROLLBACK (see the module)."""
    connection = context.connection
    if connection is None or context.is_disconnect or connection.invalidated:
        return
    try:
        manager = getattr(connection.connection.driver_connection, "_prepared", None)
    except SQLAlchemyError:  # closed meanwhile: nothing kept to forget
        return
    if PrepareManager is not None and isinstance(manager, RollbackKeepingPrepareManager):
        manager.forget_at_rollback()
