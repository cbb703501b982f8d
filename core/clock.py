"""Time: store UTC, show and compute in Europe/Brussels.

`now()` is the only way product code reads the clock, so tests can move time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")

_frozen: datetime | None = None
# Tests only (TERRAIN_CLOCK_START, see core.testmode): how far this process's clock is
# moved from the real one; it keeps ticking.
_offset = timedelta(0)


def now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return _frozen if _frozen is not None else datetime.now(UTC) + _offset


def start_at(moment: datetime, anchor: datetime | None = None) -> None:
    """Tests only: move the clock so that it read `moment` at the real instant `anchor`
    (now by default), and let it tick from there."""
    global _offset
    _offset = as_utc(moment) - as_utc(anchor or datetime.now(UTC))


def offset() -> timedelta:
    """How far the ticking clock is moved from the real one (zero outside tests)."""
    return _offset


def to_local(moment: datetime) -> datetime:
    """A UTC (or naive-as-UTC, as SQLite returns it) moment in Europe/Brussels."""
    return as_utc(moment).astimezone(BRUSSELS)


def read_twice(wall: datetime) -> bool:
    """Whether Brussels' clocks show the naive wall time `wall` twice: the hour the
    autumn change repeats (its first reading is fold=0, CEST; the second fold=1, CET)."""
    first, second = (wall.replace(tzinfo=BRUSSELS, fold=fold) for fold in (0, 1))
    return first.utcoffset() > second.utcoffset()  # type: ignore[operator]


def as_utc(moment: datetime) -> datetime:
    """Aware UTC datetime; naive values are taken as UTC (how they are stored)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# Dates anybody can mean in this app; beyond them a typo (year 1 or 9999 would also
# overflow once moved to UTC). Every date read from a request goes through these.
FIRST_YEAR, LAST_YEAR = 1900, 2200


def parse_day(raw: Any) -> date | None:
    """An ISO date ("2026-11-23") within FIRST_YEAR … LAST_YEAR, else None."""
    try:
        day = date.fromisoformat(str(raw).strip())
    except ValueError:
        return None
    return day if FIRST_YEAR <= day.year <= LAST_YEAR else None


def parse_month(raw: Any) -> date | None:
    """A month ("2026-11") as its first day, within the same years, else None."""
    return parse_day(f"{str(raw).strip()}-01") if len(str(raw).strip()) == 7 else None


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) of a Brussels month, in UTC."""
    start = datetime(year, month, 1, tzinfo=BRUSSELS)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=BRUSSELS)
    return as_utc(start), as_utc(end)


@contextmanager
def frozen(at: datetime) -> Iterator[Traveller]:
    """Freeze `now()` at `at` (tests, and a demo seeded as of one instant); the yielded
    object moves it forward."""
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
