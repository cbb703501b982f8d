"""Days and clocks of home care: the CPAS's public holidays, a plan's window on a day.

Windows are wall-clock times in Europe/Brussels; visits store UTC moments. A window is
placed on its day by converting each end separately, so a night watch over the night
the clocks change lasts 9 h (March) or 11 h (October) of real time, not 10.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from core import clock, organisations
from core.accounts import Team


def holidays_of_team(session: Session, team_id: int, first: date, last: date) -> frozenset[date]:
    """The public holidays (federal, regional, community: not the days only offices
    close) from `first` to `last` that the team's CPAS keeps closed."""
    team = session.get(Team, team_id)
    return organisations.closed_days(
        session,
        team.cpas_id if team is not None else None,
        first,
        last,
        kinds=organisations.PUBLIC_HOLIDAY_KINDS,
    )


def local_moment(day: date, moment: time) -> datetime:
    """A wall-clock time of `day` in Brussels, as UTC (a time in the spring gap is read
    with the offset before it, as everywhere in Terrain)."""
    return datetime.combine(day, moment, tzinfo=clock.BRUSSELS).astimezone(UTC)


def crosses_midnight(start: time, end: time) -> bool:
    return end < start


def wall_span(start: time, end: time) -> int:
    """Minutes from `start` to `end` on a day without a clock change (past midnight
    when `end` comes first)."""
    minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    return minutes + 24 * 60 if minutes < 0 else minutes


@dataclass(frozen=True)
class DayWindow:
    """Where one occurrence of a plan may start, in UTC, and how long it lasts."""

    earliest_start: datetime
    latest_start: datetime
    duration: int


def window_on(day: date, start: time, end: time, duration: int, tolerance: int) -> DayWindow:
    """The plan's window placed on `day` (the day it starts)."""
    opens = local_moment(day, start)
    closes = local_moment(day + timedelta(days=1) if crosses_midnight(start, end) else day, end)
    real_span = int((closes - opens).total_seconds() // 60)
    # A visit filling its window (a night watch) lasts the window's real length that day.
    length = real_span if duration == wall_span(start, end) else min(duration, real_span)
    earliest = opens - timedelta(minutes=tolerance)
    latest = closes - timedelta(minutes=length) + timedelta(minutes=tolerance)
    return DayWindow(earliest, max(earliest, latest), length)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_days(week: date) -> list[date]:
    """The seven days of the week that starts on Monday `week`."""
    return [week + timedelta(days=offset) for offset in range(7)]
