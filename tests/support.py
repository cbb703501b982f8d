"""Test helpers shared by the db, web and browser suites."""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


# --- The suite's clock ----------------------------------------------------------------
# `pytest --clock=MODE` (or TEST_CLOCK=MODE) runs the whole suite, live servers and the
# browser's clock included, on a clock moved to a time of day that has broken tests:
#   real      the wall clock (default)
#   evening   today at 22:55, Brussels time
#   midnight  today at 23:59, Brussels time (the run crosses midnight)
#   dst       five minutes before the next change of summer/winter time (a Sunday)
#   an ISO instant with its offset, e.g. 2026-10-25T02:55:00+02:00
# The clock ticks from there (core.clock.start_at): TERRAIN_CLOCK_START/_ANCHOR in the
# environment carry it to every `terrain` subprocess, with TERRAIN_TESTING=1.
CLOCK_MODES = ("real", "evening", "midnight", "dst")


def next_dst_change(after: datetime) -> datetime:
    """The first instant after `after` at which Brussels changes its UTC offset."""
    from core.clock import BRUSSELS

    moment = as_hour(after)
    offset = moment.astimezone(BRUSSELS).utcoffset()
    for _ in range(24 * 400):
        moment += timedelta(hours=1)
        if moment.astimezone(BRUSSELS).utcoffset() != offset:
            return moment
    raise AssertionError("no change of offset within 400 days")


def as_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def clock_start(mode: str, real_now: datetime | None = None) -> datetime | None:
    """The instant the suite's clock starts at for `mode` (None: the wall clock)."""
    from core.clock import BRUSSELS

    real_now = real_now or datetime.now(UTC)
    today: date = real_now.astimezone(BRUSSELS).date()
    if mode == "real":
        return None
    if mode == "evening":
        return datetime.combine(today, time(22, 55), BRUSSELS)
    if mode == "midnight":
        return datetime.combine(today, time(23, 59), BRUSSELS)
    if mode == "dst":
        return next_dst_change(real_now) - timedelta(minutes=5)
    try:
        moment = datetime.fromisoformat(mode)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValueError(
            f"--clock={mode!r}: one of {', '.join(CLOCK_MODES)}, or an ISO instant with "
            "its offset (2026-10-25T02:55:00+02:00)"
        )
    return moment


def clock_env(start: datetime, anchor: datetime | None = None) -> dict[str, str]:
    """The environment that starts a `terrain` process's clock at `start` (at the real
    instant `anchor`, now by default)."""
    anchor = anchor or datetime.now(UTC)
    return {
        "TERRAIN_TESTING": "1",
        "TERRAIN_CLOCK_START": start.isoformat(),
        "TERRAIN_CLOCK_ANCHOR": anchor.isoformat(),
    }


def postgres_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


@contextmanager
def fresh_database(tag: str) -> Iterator[str]:
    """A URL to an empty database of its own, removed afterwards.

    SQLite: a file in a temporary folder. PostgreSQL (TEST_DATABASE_URL): a new
    schema in that database, selected through the connection's search_path, so
    parallel runs and the live servers of browser tests never see each other's rows.
    """
    base = postgres_url()
    if base is None:
        with tempfile.TemporaryDirectory(prefix=f"terrain-{tag}-") as folder:
            yield f"sqlite:///{Path(folder) / 'terrain.db'}"
        return
    schema = f"t_{tag}_{secrets.token_hex(4)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def csrf_from(html: str) -> str:
    match = CSRF_META.search(html)
    assert match, "page without a csrf-token meta tag"
    return match.group(1)


def text_of(response) -> str:
    """A test client response's body, as text."""
    return response.get_data(as_text=True)
