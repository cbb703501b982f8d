"""Time: store UTC, show and compute in Europe/Brussels.

`now()` is the only way product code reads the clock, so tests can move time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")

_frozen: datetime | None = None


def now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def to_local(moment: datetime) -> datetime:
    """A UTC (or naive-as-UTC, as SQLite returns it) moment in Europe/Brussels."""
    return as_utc(moment).astimezone(BRUSSELS)


def as_utc(moment: datetime) -> datetime:
    """Aware UTC datetime; naive values are taken as UTC (how they are stored)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@contextmanager
def frozen(at: datetime) -> Iterator[Traveller]:
    """Freeze `now()` at `at` (tests); the yielded object moves it forward."""
    global _frozen
    previous = _frozen
    _frozen = as_utc(at)
    try:
        yield Traveller()
    finally:
        _frozen = previous


class Traveller:
    def advance(self, **delta: float) -> datetime:
        global _frozen
        assert _frozen is not None
        _frozen = _frozen + timedelta(**delta)
        return _frozen
